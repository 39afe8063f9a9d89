/**
 * `GET /api/v1/events`: server-sent events of `ct serve`. `added`, `removed`, `paused`, `resumed`
 * and `error` as they happen (data: the torrent's view, JSON), and `progress` once a second with
 * every torrent's view, from one timer that runs only while a client is connected. Clients are
 * bounded (64); one whose socket does not drain is dropped rather than buffered without end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TorrentView } from './api-types.js';

export type ServiceEvent = 'added' | 'removed' | 'paused' | 'resumed' | 'error';

const MAX_CLIENTS = 64;
/** Bytes queued for a client beyond which it is dropped (a progress event holds every torrent's view). */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly progress: () => TorrentView[], private readonly intervalMs = 1000) {}

  /** Takes a request for the stream; answers 503 when too many are open. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' }).end(`${JSON.stringify({ error: `over ${MAX_CLIENTS} event streams open` })}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(': ct serve events\n\n');
    this.clients.add(res);
    req.on('close', () => this.detach(res));
    this.write(res, 'progress', this.progress());
    this.timer ??= setInterval(() => this.broadcast('progress', this.progress()), this.intervalMs);
  }

  emit(event: ServiceEvent, view: TorrentView): void {
    this.broadcast(event, view);
  }

  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    for (const res of this.clients) this.write(res, event, data);
  }

  private write(res: ServerResponse, event: string, data: unknown): void {
    if (res.writableLength > MAX_PENDING_BYTES) return void res.destroy();
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private detach(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
