/**
 * The web page of `ct serve` (packages/webui, built by esbuild into static files): read into
 * memory once, gzipped once, and served at `/` (index.html, revalidated each time: it names the
 * current assets) and `/assets/NAME-HASH.ext` (content-hashed names, so cached for a year and
 * never asked again). Nothing is fetched from anywhere else: the page works offline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
  cache: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.map': 'application/json',
};

/** Where the built page is: @ct/webui's dist folder, or undefined when it was not built. */
export function webUiDir(): string | undefined {
  try {
    const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('@ct/webui/package.json')), 'dist');
    return existsSync(path.join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export class WebAssets {
  private readonly assets = new Map<string, Asset>();

  constructor(dir: string) {
    for (const name of readdirSync(path.join(dir, 'assets'))) this.load(`/assets/${name}`, path.join(dir, 'assets', name), 'public, max-age=31536000, immutable');
    this.load('/', path.join(dir, 'index.html'), 'no-cache');
  }

  /** Bytes of JS and CSS the page loads (the budget is 200 KB). */
  get scriptBytes(): number {
    let n = 0;
    for (const [p, a] of this.assets) if (/\.(js|css)$/.test(p)) n += a.body.length;
    return n;
  }

  /** Answers the page's paths (true), or leaves the request alone (false). */
  respond(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
    const asset = this.assets.get(pathname === '/index.html' ? '/' : pathname);
    if (!asset) return false;
    const headers: Record<string, string | number> = { 'Content-Type': asset.type, 'Cache-Control': asset.cache, ETag: asset.etag, Vary: 'Accept-Encoding',
      // The page runs only its own scripts and talks only to this server.
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; object-src 'none'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff' };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const body = gzip ? asset.gzip : asset.body;
    if (gzip) headers['Content-Encoding'] = 'gzip';
    res.writeHead(200, { ...headers, 'Content-Length': body.length }).end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  private load(urlPath: string, file: string, cache: string): void {
    const body = readFileSync(file);
    const etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
    this.assets.set(urlPath, { body, gzip: gzipSync(body, { level: 9 }), type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag, cache });
  }
}
