/**
 * `GET /api/v1/events`: server-sent events of `ct serve`. `added`, `removed`, `paused`, `resumed`
 * and `error` as they happen (data: the torrent's view, JSON), and `progress` at once and then once
 * a second with every torrent's view, from one timer that runs only while a client is connected.
 *
 * `?changes=1` (what the web page asks): after the first `progress`, `updates` once a second
 * with only the views that changed since the last second, and nothing when none did. A service
 * of 1,000 seeding torrents sent 320 KB a second to each page, for nothing. The previous views
 * are kept once for all such clients, as JSON text per torrent: a client that attaches between
 * two ticks got the newer views already, so at worst it is sent one again.
 *
 * Clients are bounded (64); one whose socket does not drain is dropped rather than buffered
 * without end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TorrentView } from './api-types.js';

export type ServiceEvent = 'added' | 'removed' | 'paused' | 'resumed' | 'error';

const MAX_CLIENTS = 64;
/** Bytes queued for a client beyond which it is dropped (a progress event holds every torrent's view). */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class EventStream {
  /** Each client, and whether it takes only what changed. */
  private readonly clients = new Map<ServerResponse, { changesOnly: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  /** The views as last sent to the changes-only clients, JSON by torrent id. */
  private lastSent = new Map<string, string>();

  constructor(private readonly progress: () => TorrentView[], private readonly intervalMs = 1000) {}

  /** Takes a request for the stream; answers 503 when too many are open. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' }).end(`${JSON.stringify({ error: `over ${MAX_CLIENTS} event streams open` })}\n`);
      return;
    }
    const changesOnly = new URL(req.url ?? '/', 'http://ct').searchParams.get('changes') === '1';
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(': ct serve events\n\n');
    const views = this.serialise(this.progress());
    if (changesOnly && !this.hasChangesOnlyClient()) this.lastSent = views;
    this.clients.set(res, { changesOnly });
    req.on('close', () => this.detach(res));
    this.write(res, 'progress', list(views));
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
  }

  emit(event: ServiceEvent, view: TorrentView): void {
    const data = JSON.stringify(view);
    for (const res of this.clients.keys()) this.write(res, event, data);
  }

  close(): void {
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.clients.size === 0) return;
    const views = this.serialise(this.progress());
    let all: string | undefined;
    let changes: string | undefined;
    for (const [res, c] of this.clients) {
      if (!c.changesOnly) this.write(res, 'progress', (all ??= list(views)));
      else {
        changes ??= this.changes(views);
        if (changes !== '[]') this.write(res, 'updates', changes);
      }
    }
  }

  /** The views that differ from the last ones sent (as a JSON list), and those become the last sent. */
  private changes(views: Map<string, string>): string {
    const changed: string[] = [];
    for (const [id, json] of views) if (this.lastSent.get(id) !== json) changed.push(json);
    this.lastSent = views;
    return `[${changed.join(',')}]`;
  }

  private serialise(views: TorrentView[]): Map<string, string> {
    return new Map(views.map((v) => [v.id, JSON.stringify(v)]));
  }

  private hasChangesOnlyClient(): boolean {
    for (const c of this.clients.values()) if (c.changesOnly) return true;
    return false;
  }

  private write(res: ServerResponse, event: string, data: string): void {
    if (res.writableLength > MAX_PENDING_BYTES) return void res.destroy();
    res.write(`event: ${event}\ndata: ${data}\n\n`);
  }

  private detach(res: ServerResponse): void {
    this.clients.delete(res);
    if (!this.hasChangesOnlyClient()) this.lastSent = new Map();
    if (this.clients.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

function list(views: Map<string, string>): string {
  return `[${[...views.values()].join(',')}]`;
}
