/**
 * The HTTP API of `ct serve`, JSON under /api/v1 (docs/http-api.md):
 *   GET    /api/v1/torrents        every torrent: id, name, state, progress, sizes, where it is
 *   POST   /api/v1/torrents        add one: {"magnet": "..."}, {"torrent": "<base64 .torrent>"} or {"url": "..."},
 *                                  optional "downloadDir" and "peers"; 201 with its id (202 for a magnet
 *                                  whose metadata is still on its way)
 *   GET    /api/v1/torrents/ID     one, with its files' progress (ID: an infohash, a prefix, a name)
 *   DELETE /api/v1/torrents/ID     remove it (its data stays unless ?delete_data=1)
 *   POST   /api/v1/torrents/ID/pause, /resume   stop it / start it again (kept across restarts)
 *   POST   /api/v1/torrents/ID/select, /deselect   {"files": [patterns]}: fetch those files in the background, or stop
 *   POST   /api/v1/torrents/ID/priority {"files": [patterns], "priority": 0..7}
 *   GET    /api/v1/torrents/ID/peers             its connected peers
 *   GET    /api/v1/torrents/ID/pieces            its piece map, one character per piece
 *   POST   /api/v1/inspect         {"torrent": "<base64>"} or {"url": "..."}: its name and files, not added
 *   GET    /api/v1/session         limits, cache, mount, WebDAV, the effective configuration
 *   GET    /api/v1/limits, POST /api/v1/limits   the session's rate limits ({"download": B/s, "upload": B/s}; 0: none)
 *   GET    /api/v1/torrents/ID/limits, POST ...  one torrent's own limits (kept across restarts)
 *   GET    /files/...              the files themselves, with Range (TorrentHttpServer)
 *   GET    /api/v1/events          server-sent events: added, removed, paused, resumed, error, progress
 *   GET    /metrics                Prometheus text (metrics.ts)
 *   *      /dav/...                the same tree as the mount over WebDAV, read-only (webdav.ts)
 *   GET    /, /assets/...          the web page (web-assets.ts), which needs no token to load
 * The service's logic stays in the Service it is given; this file only speaks HTTP: bodies are
 * bounded, errors are {"error": "..."} with a status that says whose fault it was.
 *
 * With a token every request but the page's own assets needs it: `Authorization: Bearer TOKEN`,
 * Basic with the token as password (what WebDAV clients send; any user name), or the `ct_token`
 * cookie the web page sets once it was given the token (so its <video> and event stream, which
 * cannot send headers, carry it too). A request that changes something and comes from a page of
 * another origin (its `Origin` header) is refused, token or not: a web page the user visits must
 * not drive a service on their loopback. Without a token the `Host` must be a loopback name too:
 * a page whose own name was rebound to 127.0.0.1 (DNS rebinding) is same-origin to the browser.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { CtError, closeServer, listenServer, parseHostPort } from '@ct/engine';
import { isPathComponent } from '@ct/fusefs';
import { ApiError, type AddRequest, type Limits, type ServiceApi, type SessionView } from './api-types.js';

/** A .torrent of up to 8 MiB, base64 in JSON. */
const MAX_BODY_BYTES = 12 * 1024 * 1024;
/**
 * Connections open at once, in all and from one address: a browser holds ~6, rclone a dozen; a
 * client opening hundreds (each WebDAV GET has a reader wanting pieces) is cut off at the door.
 */
export const MAX_HTTP_CONNECTIONS = 256;
export const MAX_HTTP_CONNECTIONS_PER_ADDRESS = 64;

export interface ApiServerOptions {
  /** Required as `Authorization: Bearer TOKEN` on every request when set. */
  token?: string;
  /** Answers `/files/...`: the Range file server of every running torrent. */
  files?: { respond(req: IncomingMessage, res: ServerResponse): void };
  /** Answers `/api/v1/events`, server-sent events. */
  events?: { attach(req: IncomingMessage, res: ServerResponse): void };
  /** Answers `/metrics`, Prometheus text. */
  metrics?: { text(): Promise<{ contentType: string; body: string }> };
  /** Answers `/dav/...`. */
  webdav?: { readonly prefix: string; handles(pathname: string): boolean; respond(req: IncomingMessage, res: ServerResponse): void };
  /** Answers `/` and the page's assets; false for any other path. */
  ui?: { respond(req: IncomingMessage, res: ServerResponse, pathname: string): boolean };
  /** `GET /api/v1/session`. */
  session?: () => SessionView;
  /** Told of every request once answered (for /metrics): its area, method and status. */
  onAnswered?: (area: HttpArea, method: string, status: number) => void;
}

/** Which part of the server a request went to. */
export type HttpArea = 'api' | 'dav' | 'files' | 'page' | 'events' | 'metrics' | 'other';

function areaOf(pathname: string, webdavPrefix: string | undefined): HttpArea {
  if (webdavPrefix && (pathname === webdavPrefix || pathname.startsWith(`${webdavPrefix}/`))) return 'dav';
  if (pathname === '/api/v1/events') return 'events';
  if (pathname.startsWith('/api/')) return 'api';
  if (pathname === '/files' || pathname.startsWith('/files/')) return 'files';
  if (pathname === '/metrics') return 'metrics';
  if (pathname === '/' || pathname === '/index.html' || pathname.startsWith('/assets/')) return 'page';
  return 'other';
}

/** Methods that change nothing: allowed from any origin (they still need the token). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PROPFIND']);

export class ApiServer {
  private readonly server: Server;

  constructor(private readonly api: ServiceApi, private readonly opts: ApiServerOptions = {}) {
    this.server = createServer((req, res) => {
      const { onAnswered } = this.opts;
      if (onAnswered) {
        // Counted when the answer is sent (a stream or a long GET counts once it ends or is cut off).
        const area = areaOf((req.url ?? '/').split('?')[0], this.opts.webdav?.prefix);
        res.once('close', () => onAnswered(area, req.method ?? '?', res.statusCode));
      }
      this.handle(req, res).catch((err: unknown) => {
        const status = err instanceof ApiError ? err.status : err instanceof CtError && (err.code === 'EUSAGE' || err.code === 'EMETAINFO' || err.code === 'EMAGNET' || err.code === 'EBENCODE') ? 400 : 500;
        send(res, status, { error: (err as Error).message.split('\n')[0] });
      });
    });
    this.server.maxConnections = MAX_HTTP_CONNECTIONS;
    const perAddress = new Map<string, number>();
    this.server.on('connection', (socket) => {
      const address = socket.remoteAddress ?? '?';
      const n = (perAddress.get(address) ?? 0) + 1;
      if (n > MAX_HTTP_CONNECTIONS_PER_ADDRESS) return void socket.destroy();
      perAddress.set(address, n);
      socket.once('close', () => {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left <= 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
    });
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listenServer(this.server, host, port, 'the API');
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }


  private authorized(req: IncomingMessage): boolean {
    if (this.opts.token === undefined) return true;
    const auth = req.headers.authorization ?? '';
    const basic = /^Basic (.+)$/i.exec(auth)?.[1];
    const given = /^Bearer (.+)$/.exec(auth)?.[1]
      ?? (basic === undefined ? undefined : Buffer.from(basic, 'base64').toString('utf8').replace(/^[^:]*:/, ''))
      ?? cookie(req, 'ct_token');
    const a = Buffer.from(given ?? '');
    const want = Buffer.from(this.opts.token);
    return a.length === want.length && timingSafeEqual(a, want);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ct');
    const { files, metrics, events, webdav, ui, session } = this.opts;
    if (this.opts.token === undefined && !loopbackHost(req.headers.host)) {
      return send(res, 403, { error: `Host ${req.headers.host} is not a loopback name: without a token only localhost, 127.0.0.1 and [::1] are answered (set http.token to use other names)` });
    }
    if (!SAFE_METHODS.has(req.method ?? '') && crossOrigin(req)) return send(res, 403, { error: `a request from a page of ${req.headers.origin} is refused` });
    if (ui && (req.method === 'GET' || req.method === 'HEAD') && ui.respond(req, res, url.pathname)) return;
    if (!this.authorized(req)) {
      // WebDAV clients (Windows, macOS, rclone) ask the user for a password on this challenge; the web page asks itself.
      if (webdav?.handles(url.pathname)) res.setHeader('WWW-Authenticate', 'Basic realm="ct", charset="UTF-8"');
      return send(res, 401, { error: 'a token is needed (http.token or CT_HTTP_TOKEN): send it as a bearer token, or as the password of Basic authentication' });
    }
    if (webdav?.handles(url.pathname)) return webdav.respond(req, res);
    if (session && url.pathname === '/api/v1/session') {
      if (req.method !== 'GET') return notAllowed(res, 'GET');
      return send(res, 200, session());
    }
    if (url.pathname === '/api/v1/inspect') {
      if (req.method !== 'POST') return notAllowed(res, 'POST');
      const { torrent, url: from } = parseAdd(await readBody(req));
      if (torrent === undefined && from === undefined) throw new ApiError(400, 'expected {"torrent": "<base64>"} or {"url": "..."}');
      return send(res, 200, await this.api.inspect({ torrent, url: from }));
    }
    if (events && url.pathname === '/api/v1/events') {
      if (req.method !== 'GET') return notAllowed(res, 'GET');
      return events.attach(req, res);
    }
    if (files && (url.pathname === '/files' || url.pathname.startsWith('/files/'))) return files.respond(req, res);
    if (metrics && url.pathname === '/metrics') {
      if (req.method !== 'GET') return notAllowed(res, 'GET');
      const m = await metrics.text();
      res.writeHead(200, { 'Content-Type': m.contentType }).end(m.body);
      return;
    }
    const one = /^\/api\/v1\/torrents\/([^/]+)(?:\/(pause|resume|select|deselect|priority|peers|pieces|limits))?$/.exec(url.pathname);
    const id = one ? decodeURIComponent(one[1]) : '';
    if (url.pathname === '/api/v1/limits' || one?.[2] === 'limits') {
      const of = one ? id : undefined;
      if (req.method === 'GET') return send(res, 200, this.api.limits(of));
      if (req.method === 'POST') return send(res, 200, await this.api.setLimits(of, parseLimits(await readBody(req))));
      return notAllowed(res, 'GET, POST');
    }
    if (one?.[2] === 'peers' || one?.[2] === 'pieces') {
      if (req.method !== 'GET') return notAllowed(res, 'GET');
      return send(res, 200, one[2] === 'peers' ? this.api.peers(id) : this.api.pieces(id));
    }
    if (one?.[2] === 'priority') {
      if (req.method !== 'POST') return notAllowed(res, 'POST');
      const body = await readBody(req);
      const priority = (body as { priority?: unknown } | null)?.priority;
      if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > 7) throw new ApiError(400, '"priority" must be a whole number from 0 (only as read) to 7 (first)');
      return send(res, 200, await this.api.prioritize(id, parseFiles(body), priority));
    }
    if (one?.[2] === 'select' || one?.[2] === 'deselect') {
      if (req.method !== 'POST') return notAllowed(res, 'POST');
      return send(res, 200, await this.api.select(id, parseFiles(await readBody(req)), one[2] === 'select'));
    }
    if (url.pathname === '/api/v1/torrents') {
      if (req.method === 'GET') return send(res, 200, this.api.list());
      if (req.method === 'POST') {
        const added = await this.api.add(parseAdd(await readBody(req)));
        return send(res, added.pending ? 202 : 201, added);
      }
      return notAllowed(res, 'GET, POST');
    }
    if (one && one[2]) {
      if (req.method !== 'POST') return notAllowed(res, 'POST');
      return send(res, 200, one[2] === 'pause' ? await this.api.pause(id) : await this.api.resume(id));
    }
    if (one) {
      if (req.method === 'GET') return send(res, 200, this.api.detail(id));
      if (req.method === 'DELETE') {
        await this.api.remove(id, /^(1|true|yes)$/i.test(url.searchParams.get('delete_data') ?? ''));
        res.writeHead(204).end();
        return;
      }
      return notAllowed(res, 'GET, DELETE');
    }
    send(res, 404, { error: `no such path: ${url.pathname}` });
  }
}

/** A cookie's value from the request, undefined when it is not there. */
function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** A loopback name or address in a Host header (absent: an HTTP/1.0 client, which no browser is). */
function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = (host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')).toLowerCase();
  return name === 'localhost' || name.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '::1' || name === '::ffff:127.0.0.1';
}

/** The request comes from a web page of another origin than this server (curl and WebDAV clients send no Origin). */
function crossOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  send(res, 405, { error: `allowed here: ${allow}` });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(`${JSON.stringify(body)}\n`);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ApiError(400, 'the body is not JSON');
  }
}

function parseAdd(body: unknown): AddRequest {
  if (typeof body !== 'object' || body === null) throw new ApiError(400, 'expected {"magnet": "..."}, {"torrent": "<base64>"} or {"url": "..."}');
  const b = body as Record<string, unknown>;
  const { magnet, torrent, url, downloadDir, peers, paused, category, select } = b;
  if ([magnet, torrent, url].filter((x) => x !== undefined).length !== 1) throw new ApiError(400, 'give exactly one of "magnet", "torrent" and "url"');
  if (url !== undefined && typeof url !== 'string') throw new ApiError(400, '"url" must be a string');
  if (magnet !== undefined && typeof magnet !== 'string') throw new ApiError(400, '"magnet" must be a string');
  if (torrent !== undefined && (typeof torrent !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(torrent))) throw new ApiError(400, '"torrent" must be a base64 string');
  if (downloadDir !== undefined && typeof downloadDir !== 'string') throw new ApiError(400, '"downloadDir" must be a string');
  if (peers !== undefined && !(Array.isArray(peers) && peers.every((p) => typeof p === 'string' && isHostPort(p)))) throw new ApiError(400, '"peers" must be a list of "HOST:PORT" strings');
  if (paused !== undefined && typeof paused !== 'boolean') throw new ApiError(400, '"paused" must be true or false');
  if (category !== undefined && !(typeof category === 'string' && isPathComponent(category))) throw new ApiError(400, '"category" must be a folder name (not empty, ".", ".." or with a "/")');
  if (select !== undefined && !isPatternList(select)) throw new ApiError(400, '"select" must be a list of file patterns (indexes, ranges such as "3-7", globs)');
  return { paused, category, select: select as string[] | undefined, magnet, url: url as string | undefined, torrent: torrent === undefined ? undefined : Buffer.from(torrent as string, 'base64'), downloadDir, peers: peers as string[] | undefined };
}

function isHostPort(s: string): boolean {
  try {
    parseHostPort(s);
    return true;
  } catch {
    return false;
  }
}

function isPatternList(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === 'string' && p.trim() !== '');
}

function parseFiles(body: unknown): string[] {
  const files = (body as { files?: unknown } | null)?.files;
  if (!isPatternList(files)) throw new ApiError(400, 'expected {"files": ["pattern", ...]} (indexes as ct files numbers them, ranges such as "3-7", globs)');
  return files;
}

function parseLimits(body: unknown): Partial<Limits> {
  if (typeof body !== 'object' || body === null) throw new ApiError(400, 'expected {"download": BYTES_PER_SECOND, "upload": BYTES_PER_SECOND} (0: no limit)');
  const out: Partial<Limits> = {};
  for (const key of ['download', 'upload'] as const) {
    const v = (body as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ApiError(400, `"${key}" must be a number of bytes per second, 0 for no limit`);
    out[key] = Math.floor(v);
  }
  return out;
}
