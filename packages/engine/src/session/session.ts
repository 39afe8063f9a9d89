/**
 * The process-wide part of the engine: one listening socket shared by every torrent, our peer
 * id, outgoing dials, and routing of incoming handshakes to the torrent they name. Torrents do the
 * rest. An embedding program creates one Session and adds torrents to it.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { DhtService, type DhtOptions } from '../discovery/dht.js';
import { parseMagnet, type Magnet } from '../discovery/magnet.js';
import { MetadataFetcher } from '../discovery/metadata-fetcher.js';
import { TorrentDiscovery } from '../discovery/torrent-discovery.js';
import { ClosedError, CtError, UsageError } from '../errors.js';
import { encode } from '../metainfo/bencode.js';
import { parseMetainfo, type Metainfo } from '../metainfo/metainfo.js';
import { sharedHasherPool, type HasherPool } from '../hash/hasher-pool.js';
import { Torrent, type TorrentOptions } from '../torrent/torrent.js';
import { dialPeer, type DialHandlers } from '../peer/dial.js';
import { formatHostPort, parseHostPort } from '../util/address.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { DEFAULT_HALF_OPEN_LIMITS, HalfOpenTable, type HalfOpenLimits } from './half-open.js';
import { ResumeStore, SAVE_EVERY_MS } from './resume-store.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { DEFAULT_WIRE_OPTIONS, PeerWire, type PeerWireOptions } from '../wire/peer-wire.js';
import { SessionBandwidth, type RateLimits } from '../limits/bandwidth.js';
import { FdPool } from '../storage/fd-pool.js';
import { Ticker } from '../util/ticker.js';
import { DiskCache, type CacheStats } from '../cache/disk-cache.js';

/**
 * Our BEP 20 peer id prefix: `-ct` + version 0.1.0.0. Upper-case `-CT` is CTorrent's registered
 * code (libtorrent and qBittorrent showed us as "CTorrent 0.1.0"); lower-case `ct` is in no
 * client table we know of (libtorrent's identify_client, the BEP 20 lists), so clients print
 * the code itself: "ct 0.1.0".
 */
export const PEER_ID_PREFIX = '-ct0100-';

/** Established connections (and outgoing attempts) across all torrents. */
export const DEFAULT_MAX_CONNECTIONS = 200;
/** Open descriptors of torrent data across the session (libtorrent's file pool holds 40). */
const DEFAULT_MAX_OPEN_FILES = 256;
/** Outgoing TCP connect timeout. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface SessionOptions {
  /** Where to accept peers; `false` for no listening socket. Default 0.0.0.0:0 (any free port). */
  listen?: { host: string; port: number } | false;
  /** 20 bytes; generated (`PEER_ID_PREFIX` + random) when omitted. */
  peerId?: Buffer;
  /** Established connections (and outgoing attempts) across all torrents. Default 200. */
  maxConnections?: number;
  /** Bounds on incoming connections still waiting for their handshake (see half-open.ts). */
  halfOpen?: Partial<HalfOpenLimits>;
  /** Outgoing TCP connect timeout. */
  connectTimeoutMs?: number;
  hasher?: HasherPool;
  wire?: Partial<PeerWireOptions>;
  /** Run a DHT node (BEP 5) for every public torrent; off unless given. */
  dht?: DhtOptions | false;
  /**
   * Where the session keeps what outlives it: `dht.json` (the routing table), `torrents/`
   * (metadata fetched for magnet links, so a restart needs no peer for it) and `resume/` (each
   * torrent's fast-resume snapshot: a restart trusts unchanged files instead of hashing them).
   */
  stateDir?: string;
  /** How often changed resume snapshots are saved (default 30 s; also on remove and close). */
  resumeEveryMs?: number;
  /** Tracker request timeout (default 15 s). */
  trackerTimeoutMs?: number;
  /** DHT lookups while a torrent has no peer (default 10 s) and once it has (default 15 min). */
  dhtRetryMs?: number;
  dhtIntervalMs?: number;
  /** Download and upload limits for the whole session, bytes per second (0: none). */
  rateLimits?: Partial<RateLimits>;
  /** Open file descriptors of every torrent's data together (default 256): the least recently used idle one is closed first. */
  maxOpenFiles?: number;
  /**
   * A bounded cache for torrents added `onDemand`: their verified pieces take at most `maxBytes`
   * of disk together; the least recently read are evicted (their bytes released, fetched again
   * when read). Pieces of selected files stay unless `evictSelected`. Without it nothing is evicted.
   */
  cache?: { maxBytes: number; evictSelected?: boolean };
}

export interface AddTorrentOptions extends Partial<Omit<TorrentOptions, 'hasher'>> {
  downloadDir: string;
  /** Peers to connect to (`host:port`), retried with back-off while the torrent runs. */
  peers?: readonly string[];
  /** Ask the torrent's trackers and the DHT for peers (default true). */
  discovery?: boolean;
  /** Extra tracker tiers (a magnet's `tr`), after the torrent's own. */
  trackers?: readonly (readonly string[])[];
}

export interface AddMagnetOptions extends AddTorrentOptions {
  /** Cancels the metadata fetch (the promise rejects with this signal's reason or ECLOSED). */
  signal?: AbortSignal;
  /** Called once the metadata is known, before the torrent starts checking files. */
  onMetadata?: (meta: Metainfo) => void;
  /** Called when the metadata must come from peers (no saved copy). */
  onFetching?: () => void;
  /** Reports peers dropped during the metadata fetch (lying or unreachable). */
  onPeerFailed?: (address: string, reason: string) => void;
}

export interface SessionEvents {
  torrent: [Torrent];
  /** Metadata for a magnet link arrived from peers (and was saved when there is a state dir). */
  metadata: [Metainfo];
  /** Non-fatal trouble worth logging (a refused incoming connection, ...). */
  warning: [string];
}

export class Session extends TypedEmitter<SessionEvents> {
  readonly peerId: Buffer;
  private readonly torrents = new Map<string, Torrent>();
  /** Fast-resume snapshots, with a state dir (resume-store.ts); one timer saves them all. */
  private readonly resume: ResumeStore | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private server: net.Server | undefined;
  private readonly hasher: HasherPool;
  private readonly wireOptions: PeerWireOptions;
  /** Established connections plus outgoing attempts (incoming half-open ones are in halfOpen). */
  private connections = 0;
  private readonly halfOpen: HalfOpenTable<PeerWire>;
  private readonly maxConnections: number;
  private readonly connectTimeoutMs: number;
  private closed = false;
  /** The DHT node, when the session runs one. */
  dht: DhtService | undefined;
  private readonly discoveries = new Set<TorrentDiscovery>();
  private readonly fetchers = new Set<MetadataFetcher>();
  /** The session's rate limits; each torrent charges its transfers here and to its own. */
  private readonly bandwidth: SessionBandwidth;
  /** Every torrent's housekeeping runs on this one timer. */
  private readonly ticker = new Ticker(1000);
  /** Every torrent's data files share this budget of descriptors. */
  private readonly fdPool: FdPool;
  /** The bounded cache of on-demand torrents, when the session has one. */
  private readonly cache: DiskCache | undefined;

  private constructor(private readonly opts: SessionOptions) {
    super();
    this.peerId = opts.peerId ?? Buffer.concat([Buffer.from(PEER_ID_PREFIX), randomBytes(12)]);
    if (this.peerId.length !== 20) throw new UsageError('peer id must be 20 bytes');
    this.hasher = opts.hasher ?? sharedHasherPool();
    this.wireOptions = { ...DEFAULT_WIRE_OPTIONS, ...opts.wire };
    this.halfOpen = new HalfOpenTable({ ...DEFAULT_HALF_OPEN_LIMITS, ...opts.halfOpen });
    this.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.bandwidth = new SessionBandwidth(opts.rateLimits);
    this.fdPool = new FdPool(opts.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES);
    this.cache = opts.cache ? new DiskCache(opts.cache.maxBytes) : undefined;
    if (opts.stateDir) {
      this.resume = new ResumeStore(path.join(opts.stateDir, 'resume'), (m) => this.emit('warning', m));
      this.resumeTimer = setInterval(() => void this.resume?.saveAll(), opts.resumeEveryMs ?? SAVE_EVERY_MS);
      this.resumeTimer.unref();
    }
  }

  /** Creates a session and, unless `listen: false`, starts listening. */
  static async create(opts: SessionOptions = {}): Promise<Session> {
    const session = new Session(opts);
    if (opts.listen !== false) await session.listen(opts.listen ?? { host: '0.0.0.0', port: 0 });
    // Not awaited: the node starts while the torrents dial the peers they were given.
    if (opts.dht) session.dht = DhtService.create({ stateDir: opts.stateDir, ...opts.dht });
    return session;
  }

  private listen(addr: { host: string; port: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.onIncoming(socket));
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new CtError('EADDRESS', `cannot listen on ${formatHostPort(addr)}: ${err.code === 'EADDRINUSE' ? 'address in use' : err.message}`)));
      server.listen(addr.port, addr.host, () => {
        this.server = server;
        resolve();
      });
    });
  }

  /** The address we accept peers on, if listening. */
  get listenAddress(): { host: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  async addTorrent(meta: Metainfo, opts: AddTorrentOptions): Promise<Torrent> {
    if (this.closed) throw new UsageError('session is closed');
    if (this.torrents.has(meta.infoHashHex)) throw new UsageError(`torrent ${meta.infoHashHex} is already added`);
    for (const p of opts.peers ?? []) parseHostPort(p);
    return this.startTorrent(meta, opts);
  }

  /** Creates and starts a torrent; `found` is the discovery a magnet's metadata fetch already runs. */
  private async startTorrent(meta: Metainfo, opts: AddTorrentOptions, found?: TorrentDiscovery): Promise<Torrent> {
    const listenPort = this.listenAddress?.port;
    const resume = opts.resume ?? (await this.resume?.load(meta.infoHashHex, opts.downloadDir));
    const torrent = new Torrent(meta, { listenPort, peerId: this.peerId, ...opts, resume, hasher: this.hasher, bandwidth: this.bandwidth, ticker: this.ticker, fdPool: this.fdPool, cache: this.cache, cacheEvictSelected: this.opts.cache?.evictSelected }, (address, t) => this.dial(address, t));
    this.resume?.track(torrent, opts.downloadDir);
    this.torrents.set(meta.infoHashHex, torrent);
    this.emit('torrent', torrent);
    torrent.addPeers(opts.peers ?? []);
    const discovery = found ?? (opts.discovery === false ? undefined : this.discover(meta.infoHash, [...meta.announce, ...(opts.trackers ?? [])], meta.private));
    if (discovery) this.attachDiscovery(torrent, discovery);
    await torrent.start();
    return torrent;
  }

  /** Starts trackers and DHT for an infohash; peers go to `onPeers` until a torrent takes over. */
  private discover(infoHash: Buffer, trackers: readonly (readonly string[])[], isPrivate: boolean): TorrentDiscovery {
    const d = new TorrentDiscovery({
      infoHash, peerId: this.peerId, port: this.listenAddress?.port ?? 6881, trackers, private: isPrivate,
      dht: this.dht, trackerTimeoutMs: this.opts.trackerTimeoutMs, dhtIntervalMs: this.opts.dhtIntervalMs, dhtRetryMs: this.opts.dhtRetryMs,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 0 }), hasPeers: () => false,
    });
    this.discoveries.add(d);
    d.start();
    return d;
  }

  private attachDiscovery(torrent: Torrent, d: TorrentDiscovery): void {
    const meta = torrent.metainfo;
    d.servingTorrent(() => {
      const s = torrent.stats();
      return { uploaded: s.uploaded, downloaded: s.downloaded, left: Math.max(0, meta.totalLength - s.verifiedBytes) };
    }, () => torrent.stats().peers > 0, meta.private);
    d.on('peers', (peers, source) => torrent.addDiscoveredPeers(peers, source));
    torrent.discoveryStatus = () => d.status();
    let wasDone = torrent.isComplete;
    torrent.on('done', () => {
      if (!wasDone && torrent.isComplete) d.completed();
      wasDone = torrent.isComplete;
    });
    torrent.once('closed', () => {
      void d.stop().then(() => this.discoveries.delete(d));
    });
  }

  /**
   * Adds a torrent from a magnet link: its metadata comes from a saved copy in the state dir, or
   * from peers (the magnet's `x.pe`, `opts.peers`, its trackers, the DHT) over ut_metadata,
   * verified against the infohash and then saved. Resolves once the torrent has started.
   */
  async addMagnet(link: string | Magnet, opts: AddMagnetOptions): Promise<Torrent> {
    if (this.closed) throw new UsageError('session is closed');
    const magnet = typeof link === 'string' ? parseMagnet(link) : link;
    if (this.torrents.has(magnet.infoHashHex)) throw new UsageError(`torrent ${magnet.infoHashHex} is already added`);
    for (const p of opts.peers ?? []) parseHostPort(p);
    const trackers = [...magnet.trackers, ...(opts.trackers ?? [])];
    const peers = [...(opts.peers ?? []), ...magnet.peers];
    const saved = await this.loadSavedMetadata(magnet.infoHashHex);
    if (saved) {
      opts.onMetadata?.(saved);
      return this.addTorrent(saved, { ...opts, peers, trackers });
    }
    opts.onFetching?.();
    const fetcher = new MetadataFetcher({ infoHash: magnet.infoHash, listenPort: this.listenAddress?.port, connect: (address, handlers) => this.connect(address, magnet.infoHash, handlers) });
    this.fetchers.add(fetcher);
    if (opts.onPeerFailed) fetcher.on('peer-failed', opts.onPeerFailed);
    // A magnet has no private flag: until the metadata says otherwise it is public.
    const discovery = opts.discovery === false ? undefined : this.discover(magnet.infoHash, trackers, false);
    const found: string[] = [];
    const onPeers = (list: string[]) => { found.push(...list); fetcher.addPeers(list); };
    discovery?.on('peers', onPeers);
    fetcher.addPeers(peers);
    const abort = () => fetcher.close(new ClosedError('metadata fetch cancelled'));
    opts.signal?.addEventListener('abort', abort, { once: true });
    let info: Buffer;
    try {
      info = await fetcher.metadata;
    } catch (err) {
      if (discovery) await this.dropDiscovery(discovery);
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', abort);
      this.fetchers.delete(fetcher);
      discovery?.off('peers', onPeers);
    }
    const torrentFile = buildTorrentFile(info, trackers);
    const meta = parseMetainfo(torrentFile);
    await this.saveMetadata(meta.infoHashHex, torrentFile);
    this.emit('metadata', meta);
    opts.onMetadata?.(meta);
    if (this.closed) throw new ClosedError('session closed');
    if (this.torrents.has(meta.infoHashHex)) {
      if (discovery) await this.dropDiscovery(discovery);
      throw new UsageError(`torrent ${meta.infoHashHex} is already added`);
    }
    // The peers that answered go to the torrent first; discovery keeps running for it.
    return this.startTorrent(meta, { ...opts, peers: [...new Set([...peers, ...found])].slice(0, 200), trackers }, discovery);
  }

  private async dropDiscovery(d: TorrentDiscovery): Promise<void> {
    this.discoveries.delete(d);
    await d.stop();
  }

  private savedPath(infoHashHex: string): string | undefined {
    return this.opts.stateDir ? path.join(this.opts.stateDir, 'torrents', `${infoHashHex}.torrent`) : undefined;
  }

  private async loadSavedMetadata(infoHashHex: string): Promise<Metainfo | undefined> {
    const file = this.savedPath(infoHashHex);
    if (!file) return undefined;
    try {
      const meta = parseMetainfo(await readFile(file));
      return meta.infoHashHex === infoHashHex ? meta : undefined;
    } catch {
      return undefined; // absent or damaged: fetch it again
    }
  }

  private async saveMetadata(infoHashHex: string, torrentFile: Buffer): Promise<void> {
    const file = this.savedPath(infoHashHex);
    if (!file) return;
    try {
      await writeFileAtomic(file, torrentFile);
    } catch (err) {
      this.emit('warning', `cannot save the metadata to ${file}: ${(err as Error).message}`);
    }
  }

  /** The session-wide download and upload limits (bytes per second, 0: none). */
  get rateLimits(): RateLimits { return this.bandwidth.limits; }

  /** Changes the session-wide limits at once (each torrent's own limits still apply). */
  setRateLimits(limits: Partial<RateLimits>): void {
    this.bandwidth.set(limits);
  }

  /** The bounded cache's size, limit, hits, misses and evictions; undefined without one. */
  cacheStats(): CacheStats | undefined {
    return this.cache?.stats();
  }

  getTorrent(infoHashHex: string): Torrent | undefined {
    return this.torrents.get(infoHashHex);
  }

  get torrentList(): Torrent[] {
    return [...this.torrents.values()];
  }

  async removeTorrent(infoHashHex: string): Promise<void> {
    const t = this.torrents.get(infoHashHex);
    this.torrents.delete(infoHashHex);
    if (t) await this.resume?.untrack(t);
    await t?.close();
  }

  /**
   * An outgoing connection for `infoHash`, within the process's connection cap (torrents and the
   * metadata fetcher dial through here alike). Undefined when there is no slot.
   */
  private connect(address: string, infoHash: Buffer, handlers: DialHandlers): PeerWire | undefined {
    if (this.closed || this.connections >= this.maxConnections) return undefined;
    const wire = dialPeer({ address, infoHash, peerId: this.peerId, wire: this.wireOptions, connectTimeoutMs: this.connectTimeoutMs }, handlers);
    this.track(wire.socket);
    return wire;
  }

  private dial(address: string, torrent: Torrent): void {
    const wire = this.connect(address, torrent.infoHash, {
      onHandshake: (w, hs) => torrent.attach(w, hs, address, true),
      onFailed: (outcome) => torrent.dialFailed(address, outcome),
      onSelf: () => torrent.forgetOwnAddress(address),
    });
    if (!wire) torrent.dialFailed(address, 'no-slot');
  }

  private onIncoming(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.closed) {
      socket.destroy();
      return;
    }
    const wire = new PeerWire(socket, this.wireOptions);
    const host = socket.remoteAddress ?? '?';
    const key = formatHostPort({ host, port: socket.remotePort ?? 0 });
    for (const old of this.halfOpen.admit(wire, host)) old.destroy(new CtError('EPEER_EVICTED', 'too many connections waiting for a handshake'));
    wire.once('close', () => this.halfOpen.remove(wire));
    wire.once('handshake', (hs) => {
      this.halfOpen.remove(wire);
      const torrent = this.torrents.get(hs.infoHash.toString('hex'));
      if (!torrent) {
        wire.destroy(new CtError('EPROTOCOL', 'handshake for a torrent we do not have'));
        return;
      }
      if (hs.peerId.equals(this.peerId)) {
        // We dialed ourselves (a tracker or PEX listed our address). Answer before closing: the
        // dialing side then sees its own peer id and never dials that address again.
        wire.sendHandshake(torrent.infoHash, this.peerId, { fast: true, extended: true, dht: false });
        // Closed on the next tick, after the corked handshake went out.
        process.nextTick(() => wire.destroy(new CtError('EPROTOCOL', 'that is ourselves')));
        return;
      }
      if (this.connections >= this.maxConnections) {
        wire.destroy(new CtError('EPEER_EVICTED', 'connection limit reached'));
        return;
      }
      this.track(socket);
      wire.sendHandshake(torrent.infoHash, this.peerId, { fast: true, extended: true, dht: false });
      if (!torrent.attach(wire, hs, key, false)) wire.destroy(new CtError('EPEER_EVICTED', 'refused by the torrent'));
    });
  }

  private track(socket: net.Socket): void {
    this.connections++;
    socket.once('close', () => { this.connections--; });
    socket.on('error', () => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.fetchers) f.close();
    clearInterval(this.resumeTimer);
    this.bandwidth.close();
    await this.resume?.saveAll();
    await Promise.all([...this.torrents.values()].map((t) => t.close()));
    this.torrents.clear();
    await Promise.all([...this.discoveries].map((d) => d.stop()));
    await this.dht?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * A .torrent for fetched metadata: the exact info bytes (the infohash is their SHA-1, so they are
 * spliced in, not re-encoded) and the magnet's trackers.
 */
export function buildTorrentFile(info: Buffer, trackers: readonly (readonly string[])[]): Buffer {
  const head: Record<string, unknown> = {};
  if (trackers.length) {
    head.announce = trackers[0][0];
    head['announce-list'] = trackers.map((t) => [...t]);
  }
  // Keys sort as announce < announce-list < info: the head's entries, then `info`.
  const encodedHead = encode(head);
  return Buffer.concat([encodedHead.subarray(0, encodedHead.length - 1), Buffer.from('4:info'), info, Buffer.from('e')]);
}
