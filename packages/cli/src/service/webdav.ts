/**
 * `/dav/`: the service's torrents over WebDAV (RFC 4918, class 1, read-only), for every desktop
 * OS's built-in client and for rclone. The tree is the mount's: built by the same MountTree from
 * the same torrents in the same order, so names (category folders, ` (n)` suffixes, `.ct` kept
 * free) are the mount's, each segment percent-encoded UTF-8 in hrefs.
 *
 *   OPTIONS              DAV: 1, and what is allowed
 *   PROPFIND Depth 0/1   207 with resourcetype, getcontentlength, getcontenttype, getlastmodified,
 *                        getetag, displayname, creationdate; the props asked for (others 404), or
 *                        allprop / propname. Depth infinity (or no Depth, which means it) is 403
 *                        with propfind-finite-depth, as RFC 4918 allows: a tree walk of every
 *                        torrent is not something to do per request.
 *   GET / HEAD           a file with Range, ETag and Last-Modified (one reader per request,
 *                        bytes fetched on demand, only verified bytes sent); a folder: a plain
 *                        HTML listing, so a browser can look too
 *   anything else        405 with Allow
 *
 * Collections are answered with or without their trailing slash (Windows asks without, hrefs
 * always carry it); a file asked for with one is 404, as it is on Apache.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as posix from 'node:path/posix';
import { contentType, serveTorrentFile, type Torrent, type TorrentFile } from '@ct/engine';
import { MountTree, RESERVED_ROOT_NAMES, treeSource, type DirNode, type FileNode } from '@ct/fusefs';
import { ApiError } from './api-types.js';

const ALLOW = 'OPTIONS, GET, HEAD, PROPFIND';
/** A PROPFIND body is a short list of property names. */
const MAX_BODY_BYTES = 64 * 1024;
const DAV_NS = 'DAV:';

/** A property of one resource: its XML (inside <D:prop>), or undefined when the resource has none. */
type PropValue = string | undefined;
/** What WebDAV shows: folders and files (a symlink shows as its target). */
type Node = DirNode | FileNode;

export class WebDavExport {
  private readonly tree = new MountTree(new Date(), RESERVED_ROOT_NAMES);
  private readonly torrents = new Map<string, Torrent>();

  /** `prefix`: where the tree's root is in URLs (no trailing slash). */
  constructor(readonly prefix = '/dav') {}

  /** Shows a running torrent (as TorrentMount.add does, with the same names); returns its path in the tree. */
  add(torrent: Torrent, category?: string): string {
    this.torrents.set(torrent.infoHashHex, torrent);
    return this.tree.add(treeSource(torrent, this.tree.createdAt, category));
  }

  remove(infoHashHex: string): boolean {
    this.torrents.delete(infoHashHex);
    return this.tree.remove(infoHashHex);
  }

  /** True for the paths this answers: the prefix itself and everything under it. */
  handles(pathname: string): boolean {
    return pathname === this.prefix || pathname.startsWith(`${this.prefix}/`);
  }

  respond(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(err instanceof ApiError ? err.status : 500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (req.url ?? '/').split('?')[0].slice(this.prefix.length) || '/';
    const treePath = decodePath(raw);
    if (treePath === undefined) return void res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('a path segment is not valid percent-encoded UTF-8\n');
    const node = this.resolve(treePath);
    const trailingSlash = raw.length > 1 && raw.endsWith('/');
    switch (req.method) {
      case 'OPTIONS':
        res.writeHead(200, { DAV: '1', Allow: ALLOW, 'MS-Author-Via': 'DAV', 'Content-Length': 0 }).end();
        return;
      case 'PROPFIND':
        if (!node || (trailingSlash && node.kind !== 'dir')) return notFound(res);
        return this.propfind(req, res, node);
      case 'GET':
      case 'HEAD':
        if (!node || (trailingSlash && node.kind !== 'dir')) return notFound(res);
        if (node.kind === 'dir') return this.listing(req, res, node);
        return this.serveFile(req, res, node);
      default:
        res.writeHead(405, { Allow: ALLOW, 'Content-Type': 'text/plain; charset=utf-8' }).end('read-only: this WebDAV share cannot be changed\n');
    }
  }

  /** The node at a tree path; a BEP 47 symlink stands for what it points to (WebDAV has no links). */
  private resolve(treePath: string): Node | undefined {
    const node = this.tree.get(treePath);
    if (node?.kind !== 'link') return node;
    const target = this.tree.get(posix.resolve(posix.dirname(treePath), node.target));
    return target?.kind === 'file' ? { ...target, path: treePath } : undefined;
  }

  private file(node: FileNode): TorrentFile | undefined {
    return this.torrents.get(node.torrent)?.files.find((f) => f.index === node.fileIndex);
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, node: FileNode): void {
    const file = this.file(node);
    if (!file) return notFound(res);
    const etag = etagOf(node);
    const headers = { ETag: etag, 'Last-Modified': node.time.toUTCString() };
    const match = req.headers['if-none-match'];
    if (match && match.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
      res.writeHead(304, headers).end();
      return;
    }
    serveTorrentFile(file, req, res, headers);
  }

  private async propfind(req: IncomingMessage, res: ServerResponse, node: Node): Promise<void> {
    const depth = (req.headers.depth ?? 'infinity').toString().trim().toLowerCase();
    if (depth !== '0' && depth !== '1') {
      // RFC 4918 9.1: a server may refuse Depth: infinity, saying so with this precondition.
      const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>\n`;
      res.writeHead(403, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
      return;
    }
    const request = parsePropfind(await readBody(req));
    const nodes = [node];
    if (depth === '1' && node.kind === 'dir') {
      for (const name of node.children) {
        const child = this.resolve(posix.join(node.path, name));
        if (child) nodes.push(child);
      }
    }
    const responses = nodes.map((n) => this.response(n, request));
    const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">\n${responses.join('')}</D:multistatus>\n`;
    res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }).end(body);
  }

  /** One <D:response>: the props it has in a 200 propstat, the ones asked for that it lacks in a 404 one. */
  private response(node: Node, request: PropfindRequest): string {
    const props = this.props(node);
    const found: string[] = [];
    const missing: string[] = [];
    if (request.kind === 'propname') {
      for (const [name, value] of props) if (value !== undefined) found.push(`<D:${name}/>`);
    } else if (request.kind === 'allprop') {
      for (const [name, value] of props) if (value !== undefined && name !== 'supportedlock' && name !== 'lockdiscovery') found.push(`<D:${name}>${value}</D:${name}>`);
    } else {
      for (const p of request.props) {
        const value = p.ns === DAV_NS ? props.get(p.name) : undefined;
        if (value !== undefined) found.push(`<D:${p.name}>${value}</D:${p.name}>`);
        else missing.push(p.ns === DAV_NS ? `<D:${p.name}/>` : `<x:${p.name} xmlns:x="${xml(p.ns)}"/>`);
      }
    }
    const href = this.prefix + node.path.split('/').map(encodeURIComponent).join('/') + (node.kind === 'dir' && node.path !== '/' ? '/' : '');
    const propstat = (items: string[], status: string) => (items.length ? `<D:propstat><D:prop>${items.join('')}</D:prop><D:status>HTTP/1.1 ${status}</D:status></D:propstat>` : '');
    return `<D:response><D:href>${xml(href)}</D:href>${propstat(found, '200 OK')}${propstat(missing, '404 Not Found')}</D:response>\n`;
  }

  /** Every DAV property of a node, XML-escaped values; undefined where it has none (a folder's length). */
  private props(node: Node): Map<string, PropValue> {
    const isDir = node.kind === 'dir';
    const name = node.path === '/' ? '' : posix.basename(node.path);
    const size = node.kind === 'file' ? node.size : undefined;
    return new Map<string, PropValue>([
      ['resourcetype', isDir ? '<D:collection/>' : ''],
      ['displayname', xml(name)],
      ['getcontentlength', size === undefined ? undefined : String(size)],
      ['getcontenttype', isDir ? undefined : xml(contentType(name))],
      ['getlastmodified', node.time.toUTCString()],
      ['creationdate', node.time.toISOString()],
      ['getetag', node.kind === 'file' ? xml(etagOf(node)) : undefined],
      ['supportedlock', ''],
      ['lockdiscovery', ''],
    ]);
  }

  private listing(req: IncomingMessage, res: ServerResponse, node: DirNode): void {
    const base = this.prefix + node.path.split('/').map(encodeURIComponent).join('/').replace(/\/$/, '');
    const items = node.children.map((c) => {
      const child = this.resolve(posix.join(node.path, c));
      const slash = child?.kind === 'dir' ? '/' : '';
      return `<li><a href="${xml(`${base}/${encodeURIComponent(c)}${slash}`)}">${xml(c)}${slash}</a>${child?.kind === 'file' ? ` (${child.size} bytes)` : ''}</li>`;
    });
    const body = `<!doctype html><meta charset="utf-8"><title>ct: ${xml(node.path)}</title><h1>${xml(node.path)}</h1><ul>\n${items.join('\n')}\n</ul>\n`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

type PropfindRequest = { kind: 'allprop' } | { kind: 'propname' } | { kind: 'prop'; props: { ns: string; name: string }[] };

/**
 * What a PROPFIND body asks for. An empty body is allprop (RFC 4918 9.1). Property names are
 * read with their namespace: from the element's own prefix declared anywhere in the body (the
 * bodies clients send declare them on the root), or the default namespace.
 */
export function parsePropfind(body: string): PropfindRequest {
  if (body.trim() === '') return { kind: 'allprop' };
  if (!/<([\w.-]+:)?propfind[\s>/]/.test(body)) throw new ApiError(400, 'the body is not a DAV:propfind');
  if (/<([\w.-]+:)?propname\s*\/?>/.test(body)) return { kind: 'propname' };
  const prop = /<([\w.-]+:)?prop(\s[^>]*)?>([\s\S]*?)<\/([\w.-]+:)?prop>/.exec(body);
  if (!prop) return { kind: 'allprop' };
  const prefixes = new Map<string, string>();
  for (const m of body.matchAll(/xmlns:([\w.-]+)\s*=\s*["']([^"']*)["']/g)) prefixes.set(m[1], m[2]);
  const defaultNs = /xmlns\s*=\s*["']([^"']*)["']/.exec(body)?.[1] ?? '';
  const props: { ns: string; name: string }[] = [];
  for (const m of prop[3].matchAll(/<(?:([\w.-]+):)?([\w.-]+)(\s[^>]*?)?\/?>/g)) {
    const own = m[3] ? /xmlns\s*=\s*["']([^"']*)["']/.exec(m[3])?.[1] : undefined;
    props.push({ ns: m[1] ? prefixes.get(m[1]) ?? m[1] : own ?? defaultNs, name: m[2] });
  }
  return { kind: 'prop', props };
}

/** The tree path of a URL path: each segment percent-decoded (undefined when one is not valid UTF-8), no empty segments. */
function decodePath(raw: string): string | undefined {
  try {
    return posix.join('/', ...raw.split('/').filter(Boolean).map((s) => decodeURIComponent(s)));
  } catch {
    return undefined;
  }
}

/** Strong: a torrent file's bytes never change (the infohash names them). */
function etagOf(node: FileNode): string {
  return `"${node.torrent.slice(0, 16)}-${node.fileIndex}-${node.size}"`;
}

function xml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `a PROPFIND body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
