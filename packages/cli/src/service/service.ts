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
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isMagnet, parseMagnet, parseMetainfo, type Metainfo, type Session, type Torrent, type TorrentStats } from '@ct/engine';
import type { TorrentMount } from '@ct/fusefs';
import type { ServiceLog } from '../log.js';
import type { ServiceEvent } from './event-stream.js';
import { ApiError, type AddRequest, type AddResult, type ServiceApi, type TorrentDetail, type TorrentView } from './api-types.js';
import { deleteTorrentData } from './delete-data.js';
import { fetchTorrentFile } from './fetch-torrent.js';
import type { ServiceRecord, ServiceRegistry } from './service-registry.js';

export interface ServiceOptions {
  session: Session;
  registry: ServiceRegistry;
  mount?: TorrentMount;
  /** Where data goes unless an add says otherwise. */
  downloadDir: string;
  /** Fetch only what is read (with a mount and without --download-all). */
  onDemand: boolean;
  log: ServiceLog;
  /** Told of what happens to torrents (the API's event stream). */
  onEvent?: (event: ServiceEvent, view: TorrentView) => void;
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
      const meta = await readFile(this.opts.registry.torrentFile(record.infoHash)).then((b) => parseMetainfo(b), () => undefined);
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
    const files = e.torrent
      ? e.torrent.files.map((f) => ({ path: f.path, length: f.length, downloaded: f.downloaded, progress: f.length === 0 ? 1 : f.downloaded / f.length }))
      : (e.meta?.files ?? []).map((f) => ({ path: f.path.join('/'), length: f.length, downloaded: 0, progress: 0 }));
    return { ...this.view(e), files };
  }

  async add(req: AddRequest): Promise<AddResult> {
    const base = { downloadDir: path.resolve(req.downloadDir ?? this.opts.downloadDir), addedAt: new Date().toISOString(),
      ...(req.peers?.length ? { peers: req.peers } : {}), ...(req.paused ? { paused: true } : {}), ...(req.category ? { category: req.category } : {}) };
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
    const state = e.record.paused ? 'paused' : !s ? (e.error ? 'error' : e.meta ? 'starting' : 'metadata')
      : s.state === 'downloading' && e.torrent!.isDone ? 'idle' : s.state;
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
    const addOpts = { downloadDir: record.downloadDir, onDemand: this.opts.onDemand, peers: [...(record.peers ?? [])] };
    entry.error = undefined;
    if (entry.meta) {
      try {
        this.show(entry, await this.opts.session.addTorrent(entry.meta, addOpts));
      } catch (err) {
        this.failed(entry, err as Error);
      }
      return;
    }
    const fetching = new AbortController();
    entry.fetching = fetching;
    this.opts.session.addMagnet(parseMagnet(record.magnet!), { ...addOpts, signal: fetching.signal }).then(
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
    torrent.on('peer-connected', (peer) => this.opts.log(`${name}: connected to ${peer}`, 'debug'));
    torrent.on('peer-disconnected', (peer, reason) => this.opts.log(`${name}: disconnected from ${peer}: ${reason}`, 'debug'));
    if (this.opts.mount) entry.mountPath = this.opts.mount.add(torrent, entry.record.category);
    const { trusted, hashed } = torrent.startupCheck;
    this.opts.log(`serving ${torrent.metainfo.name} (${torrent.infoHashHex})${entry.mountPath ? ` at ${entry.mountPath}` : ''}; ` +
      `${trusted} pieces trusted from resume data, ${hashed} hashed`);
  }

  private failed(entry: Entry, err: Error): void {
    entry.error = err.message.split('\n')[0];
    this.opts.log(`${entry.name}: ${entry.error}`, 'error');
    this.opts.onEvent?.('error', this.view(entry));
  }
}
