/**
 * What `ct serve` does between its HTTP API and the engine: keeps the set of torrents (added,
 * removed, paused, resumed, restored after a restart from the registry in the state dir), shows
 * each running one in the mount as soon as its metadata is known and takes it out when it stops.
 * One session for all of them; fast resume (the session's) makes a restart or a resume trust
 * unchanged files instead of hashing them.
 *
 * A paused torrent is closed in the session (its resume data saved) and leaves the mount; it is
 * still listed, and `resume` starts it again. Reads of its files that were open fail with EIO.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileUrlPath, isMagnet, parseMagnet, parseMetainfo, type Metainfo, type Session, type Torrent, type TorrentStats } from '@ct/engine';
import type { TorrentMount } from '@ct/fusefs';
import type { ServiceLog } from '../log.js';
import type { ServiceEvent } from './event-stream.js';
import { selectFiles } from '../file-selection.js';
import { ApiError, type AddRequest, type AddResult, type InspectResult, type Limits, type PeerView, type PieceMapView, type ServiceApi, type TorrentDetail, type TorrentView } from './api-types.js';
import { deleteTorrentData } from './delete-data.js';
import { fetchTorrentFile } from './fetch-torrent.js';
import type { ServiceRecord, ServiceRegistry } from './service-registry.js';

export interface ServiceOptions {
  session: Session;
  registry: ServiceRegistry;
  mount?: TorrentMount;
  /** The WebDAV share: the mount's layout, told of each running torrent as the mount is. */
  webdav?: TorrentExport;
  /** Where data goes unless an add says otherwise. */
  downloadDir: string;
  /** Fetch only what is read (with a mount and without --download-all). */
  onDemand: boolean;
  log: ServiceLog;
  /** Told of what happens to torrents (the API's event stream). */
  onEvent?: (event: ServiceEvent, view: TorrentView) => void;
}

/** A view of the running torrents (WebDAV): shows one under a category (returning its path), takes it out by infohash. */
export interface TorrentExport {
  /** Where the tree's root is in URLs (`/dav`). */
  readonly prefix: string;
  add(torrent: Torrent, category?: string): string;
  remove(infoHashHex: string): boolean;
}

/** One torrent of the service, running or not. */
interface Entry {
  record: ServiceRecord;
  name: string;
  /** Known once there is metadata (always for a .torrent; a magnet's once it arrives). */
  meta?: Metainfo;
  /** Set while it runs in the session. */
  torrent?: Torrent;
  mountPath?: string;
  /** Where it is in the WebDAV tree (the mount's path when there is a mount too). */
  davPath?: string;
  /** Cancels a magnet's metadata fetch (on pause or removal). */
  fetching?: AbortController;
  /** The last thing that went wrong for it (a failed start, a fatal torrent error). */
  error?: string;
}

const INFOHASH = /^[0-9a-f]{40}$/i;

export class Service implements ServiceApi {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: ServiceOptions) {}

  /** Brings back every torrent of the registry; resolves once those with metadata are serving. */
  async restore(): Promise<number> {
    const records = await this.opts.registry.list();
    await Promise.all(records.map(async (record) => {
      const meta = readTorrent(this.opts.registry.torrentFile(record.infoHash));
      if (!meta && !record.magnet) return this.opts.log(`no metadata for ${record.infoHash} and no magnet link: left out`, 'warn');
      const entry: Entry = { record, name: meta?.name ?? parseMagnet(record.magnet!).name ?? record.infoHash, meta };
      this.entries.set(record.infoHash, entry);
      if (!record.paused) await this.run(entry);
    }));
    return records.length;
  }

  list(): TorrentView[] {
    return [...this.entries.values()].map((e) => this.view(e));
  }

  /** Every torrent's view with its engine stats while it runs, each torrent's stats() read once (what /metrics reads). */
  snapshot(): { view: TorrentView; stats?: TorrentStats }[] {
    return [...this.entries.values()].map((e) => {
      const stats = e.torrent?.stats();
      return { view: this.view(e, stats), stats };
    });
  }

  detail(id: string): TorrentDetail {
    const e = this.find(id);
    const fallback = this.opts.onDemand ? 0 : 4;
    const t = e.torrent;
    const files = t
      ? t.files.map((f) => ({ path: f.path, length: f.length, downloaded: f.downloaded, progress: f.length === 0 ? 1 : f.downloaded / f.length, priority: f.priority,
        url: this.fileUrl(e, t, f.path) }))
      : (e.meta?.files ?? []).filter((f) => !f.pad).map((f) => {
        const p = f.path.join('/');
        return { path: p, length: f.length, downloaded: 0, progress: 0, priority: e.record.priorities?.[p] ?? fallback };
      });
    const stats = e.torrent?.stats();
    return {
      ...this.view(e, stats), limits: { download: e.record.limits?.download ?? 0, upload: e.record.limits?.upload ?? 0 }, files,
      pieceLength: e.meta?.pieceLength ?? 0, pieceCount: e.meta?.pieceCount ?? 0,
      ...(e.record.magnet ? { magnet: e.record.magnet } : {}),
      ...(stats?.discovery ? { discovery: stats.discovery } : {}),
    };
  }

  /**
   * Where a running torrent's file is served with Range: under /dav/ by its path in the tree
   * (unique: two torrents of one name get distinct folders there), else under /files/.
   */
  private fileUrl(e: Entry, t: Torrent, filePath: string): string {
    const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
    if (e.davPath && this.opts.webdav) return `${this.opts.webdav.prefix}${enc(e.davPath)}${t.metainfo.multiFile ? `/${enc(filePath)}` : ''}`;
    return `/files${fileUrlPath(t.metainfo.name, t.metainfo.multiFile, filePath)}`;
  }

  /** Its piece map (Torrent.pieceMap: one character per piece), or an empty one before it runs. */
  pieces(id: string): PieceMapView {
    const e = this.find(id);
    return { pieceLength: e.meta?.pieceLength ?? 0, map: e.torrent?.pieceMap() ?? '.'.repeat(e.meta?.pieceCount ?? 0) };
  }

  /** What a .torrent (or one at a URL) holds, without adding it: for choosing files before adding. */
  async inspect(req: Pick<AddRequest, 'torrent' | 'url'>): Promise<InspectResult> {
    const bytes = req.url !== undefined ? await fetchTorrentFile(req.url) : req.torrent!;
    const meta = parseMetainfo(bytes);
    return { id: meta.infoHashHex, name: meta.name, size: meta.totalLength, added: this.entries.has(meta.infoHashHex),
      files: meta.files.filter((f) => !f.pad).map((f) => ({ path: f.path.join('/'), length: f.length })) };
  }

  peers(id: string): PeerView[] {
    const e = this.find(id);
    return (e.torrent?.peerList() ?? []).map((p) => ({ address: p.address, client: p.client, outgoing: p.outgoing, downloadRate: Math.round(p.downloadRate), uploadRate: Math.round(p.uploadRate), progress: p.progress }));
  }

  limits(id?: string): Limits {
    if (id === undefined) return this.opts.session.rateLimits;
    const { limits } = this.find(id).record;
    return { download: limits?.download ?? 0, upload: limits?.upload ?? 0 };
  }

  async setLimits(id: string | undefined, limits: Partial<Limits>): Promise<Limits> {
    if (id === undefined) {
      this.opts.session.setRateLimits(limits);
      this.opts.log(`limits now ${describeLimits(this.opts.session.rateLimits)} for the session`);
      return this.opts.session.rateLimits;
    }
    const entry = this.find(id);
    const merged = { download: limits.download ?? entry.record.limits?.download ?? 0, upload: limits.upload ?? entry.record.limits?.upload ?? 0 };
    const { limits: _, ...rest } = entry.record;
    entry.record = merged.download || merged.upload ? { ...rest, limits: merged } : rest;
    await this.opts.registry.save(entry.record);
    entry.torrent?.setRateLimits(merged);
    this.opts.log(`limits now ${describeLimits(merged)} for ${entry.name}`);
    return merged;
  }

  async select(id: string, patterns: readonly string[], wanted: boolean): Promise<TorrentDetail> {
    return this.prioritize(id, patterns, wanted ? 4 : 0);
  }

  /** Gives the files matching `patterns` a priority: 0 fetched only as read, 1..7 fetched in the background (7 first). */
  async prioritize(id: string, patterns: readonly string[], priority: number): Promise<TorrentDetail> {
    const entry = this.find(id);
    if (!entry.meta) throw new ApiError(409, `${entry.name}: its metadata is not known yet, so neither are its files (ct add --select works before it is)`);
    const paths = filePaths(entry.meta);
    let matched: boolean[];
    try {
      matched = selectFiles(paths, patterns, undefined);
    } catch (err) {
      throw new ApiError(400, (err as Error).message.replace('ct download --list', `ct files ${entry.record.infoHash.slice(0, 8)}`));
    }
    const priorities = { ...entry.record.priorities };
    paths.forEach((p, i) => { if (matched[i]) priorities[p] = priority; });
    entry.record = { ...entry.record, priorities };
    await this.opts.registry.save(entry.record);
    if (entry.torrent) this.applyPriorities(entry, entry.torrent);
    const count = matched.filter(Boolean).length;
    this.opts.log(priority === 0 ? `deselected ${count} file(s) of ${entry.name}` : priority === 4 ? `selected ${count} file(s) of ${entry.name}` : `priority ${priority} for ${count} file(s) of ${entry.name}`);
    return this.detail(entry.record.infoHash);
  }

  async add(req: AddRequest): Promise<AddResult> {
    const base = { downloadDir: path.resolve(req.downloadDir ?? this.opts.downloadDir), addedAt: new Date().toISOString(),
      ...(req.peers?.length ? { peers: req.peers } : {}), ...(req.paused ? { paused: true } : {}), ...(req.category ? { category: req.category } : {}),
      ...(req.select?.length ? { select: req.select } : {}) };
    let entry: Entry;
    if (req.magnet !== undefined) {
      const source = INFOHASH.test(req.magnet) ? `magnet:?xt=urn:btih:${req.magnet.toLowerCase()}` : req.magnet;
      if (!isMagnet(source)) throw new ApiError(400, 'not a magnet link or an infohash');
      const magnet = parseMagnet(source);
      this.refuseDuplicate(magnet.infoHashHex);
      entry = { record: { infoHash: magnet.infoHashHex, magnet: source, ...base }, name: magnet.name ?? magnet.infoHashHex };
    } else {
      const bytes = req.url !== undefined ? await fetchTorrentFile(req.url) : req.torrent!;
      const meta = parseMetainfo(bytes);
      this.refuseDuplicate(meta.infoHashHex);
      if (req.select?.length) checkPatterns(meta, req.select);
      await this.opts.registry.saveTorrentFile(meta.infoHashHex, bytes);
      entry = { record: { infoHash: meta.infoHashHex, ...base }, name: meta.name, meta };
    }
    await this.opts.registry.save(entry.record);
    this.entries.set(entry.record.infoHash, entry);
    this.opts.log(`added ${entry.name} (${entry.record.infoHash})${req.paused ? ', paused' : ''}`);
    this.opts.onEvent?.('added', this.view(entry));
    if (!req.paused) await this.run(entry);
    return { id: entry.record.infoHash, name: entry.name, pending: !entry.meta };
  }

  async remove(id: string, deleteData = false): Promise<void> {
    const entry = this.find(id);
    this.entries.delete(entry.record.infoHash);
    await this.stop(entry);
    await this.opts.registry.remove(entry.record.infoHash);
    if (deleteData && entry.meta) await deleteTorrentData(entry.meta, entry.record.downloadDir);
    this.opts.log(`removed ${entry.name}${deleteData ? ' and its data' : ''}`);
    this.opts.onEvent?.('removed', this.view(entry));
  }

  async pause(id: string): Promise<TorrentView> {
    const entry = this.find(id);
    if (!entry.record.paused) {
      entry.record = { ...entry.record, paused: true };
      await this.opts.registry.save(entry.record);
      await this.stop(entry);
      this.opts.log(`paused ${entry.name}`);
      this.opts.onEvent?.('paused', this.view(entry));
    }
    return this.view(entry);
  }

  async resume(id: string): Promise<TorrentView> {
    const entry = this.find(id);
    if (entry.record.paused) {
      const { paused: _, ...rest } = entry.record;
      entry.record = rest;
      await this.opts.registry.save(entry.record);
      this.opts.log(`resumed ${entry.name}`);
      await this.run(entry);
      this.opts.onEvent?.('resumed', this.view(entry));
    }
    return this.view(entry);
  }

  private view(e: Entry, s = e.torrent?.stats()): TorrentView {
    const size = s?.totalBytes ?? e.meta?.totalLength ?? 0;
    const state = e.record.paused ? 'paused' : !s ? (e.error ? 'error' : e.meta ? 'starting' : 'metadata') : s.status;
    return {
      id: e.record.infoHash,
      name: e.name,
      state,
      progress: s ? (s.totalBytes > 0 ? s.verifiedBytes / s.totalBytes : 1) : 0,
      size,
      verified: s?.verifiedBytes ?? 0,
      downloadRate: Math.round(s?.downloadRate ?? 0),
      uploadRate: Math.round(s?.uploadRate ?? 0),
      peers: s?.peers ?? 0,
      seeds: s?.seeds ?? 0,
      downloadDir: e.record.downloadDir,
      addedAt: e.record.addedAt,
      paused: !!e.record.paused,
      ...(e.record.category ? { category: e.record.category } : {}),
      ...(e.mountPath ? { mountPath: e.mountPath } : {}),
      ...(e.davPath ? { davPath: e.davPath } : {}),
      ...(e.error ? { error: e.error } : {}),
    };
  }

  /** An infohash, a unique prefix of one (4+ hex digits), or a unique name. */
  private find(id: string): Entry {
    const exact = this.entries.get(id.toLowerCase());
    if (exact) return exact;
    const all = [...this.entries.values()];
    const byPrefix = id.length >= 4 && /^[0-9a-f]+$/i.test(id) ? all.filter((e) => e.record.infoHash.startsWith(id.toLowerCase())) : [];
    const matches = byPrefix.length > 0 ? byPrefix : all.filter((e) => e.name === id);
    if (matches.length === 1) return matches[0];
    if (matches.length === 0) throw new ApiError(404, `no torrent ${id}`);
    throw new ApiError(409, `${id} names ${matches.length} torrents: give more of the infohash`);
  }

  private refuseDuplicate(infoHash: string): void {
    if (this.entries.has(infoHash)) throw new ApiError(409, `torrent ${infoHash} is already added`);
  }

  /**
   * Starts the torrent in the session. With metadata it resolves once the torrent serves; a
   * magnet's start runs on in the background (its metadata may take any time).
   */
  private async run(entry: Entry): Promise<void> {
    const { record } = entry;
    const addOpts = {
      downloadDir: record.downloadDir, onDemand: this.opts.onDemand, peers: [...(record.peers ?? [])], rateLimits: record.limits,
      // Read when the torrent is built, before any file is created: deselected files never are.
      filePriority: (file: string) => entry.record.priorities?.[file],
    };
    entry.error = undefined;
    if (entry.meta) {
      this.resolveSelect(entry, entry.meta);
      try {
        this.show(entry, await this.opts.session.addTorrent(entry.meta, addOpts));
      } catch (err) {
        this.failed(entry, err as Error);
      }
      return;
    }
    const fetching = new AbortController();
    entry.fetching = fetching;
    this.opts.session.addMagnet(parseMagnet(record.magnet!), { ...addOpts, signal: fetching.signal, onMetadata: (meta) => this.resolveSelect(entry, meta) }).then(
      (torrent) => {
        entry.fetching = undefined;
        // Removed or paused while its metadata was on the way.
        if (this.entries.get(record.infoHash) !== entry || entry.record.paused) return void this.opts.session.removeTorrent(record.infoHash);
        entry.meta = torrent.metainfo;
        entry.name = torrent.metainfo.name;
        this.show(entry, torrent);
      },
      (err: Error) => {
        entry.fetching = undefined;
        if (!fetching.signal.aborted) this.failed(entry, err);
      },
    );
  }

  /** Stops it running: out of the mount (open files get EIO), out of the session (resume data saved). */
  private async stop(entry: Entry): Promise<void> {
    entry.fetching?.abort();
    entry.fetching = undefined;
    this.opts.mount?.remove(entry.record.infoHash);
    this.opts.webdav?.remove(entry.record.infoHash);
    entry.davPath = undefined;
    entry.mountPath = undefined;
    entry.torrent = undefined;
    await this.opts.session.removeTorrent(entry.record.infoHash);
  }

  private show(entry: Entry, torrent: Torrent): void {
    entry.torrent = torrent;
    torrent.on('error', (err) => this.failed(entry, err));
    const name = torrent.metainfo.name;
    torrent.on('hash-failed', (piece, peers) => this.opts.log(`${name}: piece ${piece} failed its hash check (from ${peers.join(', ') || '?'})`, 'warn'));
    torrent.on('peer-banned', (peer, reason) => this.opts.log(`${name}: banned ${peer}: ${reason}`, 'warn'));
    torrent.on('warning', (message) => this.opts.log(message, 'warn'));
    torrent.on('peer-connected', (peer) => this.opts.log(`${name}: connected to ${peer}`, 'debug'));
    torrent.on('peer-disconnected', (peer, reason) => this.opts.log(`${name}: disconnected from ${peer}: ${reason}`, 'debug'));
    if (this.opts.mount) entry.mountPath = this.opts.mount.add(torrent, entry.record.category);
    if (this.opts.webdav) entry.davPath = this.opts.webdav.add(torrent, entry.record.category);
    const { trusted, hashed } = torrent.startupCheck;
    this.opts.log(`serving ${torrent.metainfo.name} (${torrent.infoHashHex})${entry.mountPath ? ` at ${entry.mountPath}` : ''}; ` +
      `${trusted} pieces trusted from resume data, ${hashed} hashed`);
  }

  /**
   * `ct add --select` patterns, once the metadata is known, become file priorities (matching
   * files 4, the others 0) and leave the record.
   */
  private resolveSelect(entry: Entry, meta: Metainfo): void {
    const { select } = entry.record;
    if (!select) return;
    const paths = filePaths(meta);
    let matched: boolean[] | undefined;
    try {
      matched = selectFiles(paths, select, undefined);
    } catch (err) {
      this.opts.log(`${entry.name}: --select ${select.join(',')}: ${(err as Error).message}; every file is kept`, 'warn');
    }
    const { select: _, ...rest } = entry.record;
    entry.record = matched ? { ...rest, priorities: Object.fromEntries(paths.map((p, i) => [p, matched[i] ? 4 : 0])) } : rest;
    void this.opts.registry.save(entry.record).catch((err: Error) => this.opts.log(`${entry.name}: cannot save its record: ${err.message}`, 'error'));
  }

  /** A running torrent's files take their recorded priorities (after ct select / deselect). */
  private applyPriorities(entry: Entry, torrent: Torrent): void {
    const priorities = entry.record.priorities ?? {};
    for (const f of torrent.files) {
      const p = priorities[f.path];
      if (p === undefined) continue;
      if (p > 0) f.select(p);
      else f.deselect();
    }
  }

  private failed(entry: Entry, err: Error): void {
    entry.error = err.message.split('\n')[0];
    this.opts.log(`${entry.name}: ${entry.error}`, 'error');
    this.opts.onEvent?.('error', this.view(entry));
  }
}

/** The paths of a torrent's files (pad files left out), in the order ct files lists them. */
function filePaths(meta: Metainfo): string[] {
  return meta.files.filter((f) => !f.pad).map((f) => f.path.join('/'));
}

/** Refuses `--select` patterns that match nothing in a torrent whose files are known. */
function checkPatterns(meta: Metainfo, patterns: readonly string[]): void {
  try {
    selectFiles(filePaths(meta), patterns, undefined);
  } catch (err) {
    throw new ApiError(400, (err as Error).message.replace(' (ct download --list shows them)', ''));
  }
}

function describeLimits(l: Limits): string {
  const one = (n: number) => (n > 0 ? `${(n / 1e6).toFixed(n >= 1e6 ? 1 : 3)} MB/s` : 'none');
  return `down ${one(l.download)}, up ${one(l.upload)}`;
}

/** A saved .torrent, or undefined when it is missing or damaged (read synchronously: once per torrent at start). */
function readTorrent(file: string): Metainfo | undefined {
  try {
    return parseMetainfo(readFileSync(file));
  } catch {
    return undefined;
  }
}
