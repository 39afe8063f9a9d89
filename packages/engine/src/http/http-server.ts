/**
 * Serves a session's torrent files over HTTP with Range support, so a video player or a browser
 * can start and seek while the torrent downloads. URLs follow the mount layout: a multi-file
 * torrent's file at /<torrent name>/<path>, a single-file torrent's file at /<file name>, every
 * segment percent-encoded. Each request gets its own FileReader (readers never share a window).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { CtError } from '../errors.js';
import { closeServer, listenServer } from './listen-server.js';
import type { Session } from '../session/session.js';
import type { TorrentFile } from '../stream/torrent-file.js';

const MIME: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', mkv: 'video/x-matroska', webm: 'video/webm', avi: 'video/x-msvideo',
  mov: 'video/quicktime', ts: 'video/mp2t', mpg: 'video/mpeg', mpeg: 'video/mpeg', ogv: 'video/ogg',
  mp3: 'audio/mpeg', flac: 'audio/flac', ogg: 'audio/ogg', opus: 'audio/opus', wav: 'audio/wav', m4a: 'audio/mp4', aac: 'audio/aac',
  srt: 'application/x-subrip', vtt: 'text/vtt', ass: 'text/x-ssa',
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml',
  txt: 'text/plain; charset=utf-8', nfo: 'text/plain; charset=utf-8', md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8', json: 'application/json', pdf: 'application/pdf', zip: 'application/zip',
  iso: 'application/x-iso9660-image', epub: 'application/epub+zip',
};

export function contentType(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot >= 0 && MIME[name.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}

/** URL path of a file in the mount layout, each segment percent-encoded. */
export function fileUrlPath(torrentName: string, multiFile: boolean, filePath: string): string {
  const segments = multiFile ? [torrentName, ...filePath.split('/')] : filePath.split('/');
  return '/' + segments.map(encodeURIComponent).join('/');
}

/**
 * Parses a Range header for a resource of `size` bytes: [start, end] inclusive, 'unsatisfiable',
 * or undefined to serve the whole resource (no header, a malformed one, or several ranges).
 */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}

/**
 * Answers a GET or HEAD for one torrent file, with Range (one range; several or a malformed header
 * get the whole file), from its own FileReader: the bytes are fetched on demand and only verified
 * bytes are sent. A closed connection destroys the stream, which releases the reader. `headers`
 * are added to the answer (WebDAV's ETag and Last-Modified).
 */
export function serveTorrentFile(file: TorrentFile, req: IncomingMessage, res: ServerResponse, headers: Record<string, string> = {}): void {
  const size = file.length;
  const range = parseRange(req.headers.range, size);
  const base: Record<string, string | number> = { ...headers, 'Accept-Ranges': 'bytes', 'Content-Type': contentType(file.path) };
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...base, 'Content-Range': `bytes */${size}` }).end();
    return;
  }
  const [start, end] = range ?? [0, size - 1];
  const length = size === 0 ? 0 : end - start + 1;
  if (range) base['Content-Range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, { ...base, 'Content-Length': length });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  pipeline(file.createReadStream({ start, end }), res).catch(() => undefined);
}

export class TorrentHttpServer {
  private readonly server: Server;

  /**
   * `basePath` puts every file under a prefix (`ct serve` serves them at `/files/...` beside its
   * API, and hands those requests to respond()).
   */
  constructor(private readonly session: Session, private readonly basePath = '') {
    this.server = createServer((req, res) => this.respond(req, res));
  }

  /** Answers one request whose path starts with the base path; errors become a status, never a throw. */
  respond(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(err instanceof CtError && err.code === 'ECLOSED' ? 503 : 500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`${(err as Error).message}\n`);
      } else res.destroy();
    });
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return listenServer(this.server, host, port, 'HTTP');
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }


  /** Every served file by URL path. */
  private routes(): Map<string, TorrentFile> {
    const out = new Map<string, TorrentFile>();
    for (const t of this.session.torrentList) {
      for (const f of t.files) out.set(fileUrlPath(t.metainfo.name, t.metainfo.multiFile, f.path), f);
    }
    return out;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const full = (req.url ?? '/').split('?')[0];
    const urlPath = full.startsWith(this.basePath) ? full.slice(this.basePath.length) || '/' : full;
    const routes = this.routes();
    if (urlPath === '/') return this.index(res, routes, req.method === 'HEAD');
    // Normalise the client's encoding: decode each segment, then encode the way we do.
    let normal: string;
    try {
      normal = '/' + urlPath.split('/').filter(Boolean).map((s) => encodeURIComponent(decodeURIComponent(s))).join('/');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = routes.get(normal);
    if (!file) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    serveTorrentFile(file, req, res);
  }

  private index(res: ServerResponse, routes: Map<string, TorrentFile>, head: boolean): void {
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const items = [...routes].map(([url, f]) =>
      `<li><a href="${esc(this.basePath + url)}">${esc(decodeURIComponent(url))}</a> (${f.length} bytes, ${Math.round((f.downloaded / Math.max(1, f.length)) * 100)}%)</li>`);
    const body = `<!doctype html><meta charset="utf-8"><title>ct</title><h1>Files</h1><ul>\n${items.join('\n')}\n</ul>\n`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(head ? undefined : body);
  }
}
