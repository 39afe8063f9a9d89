/**
 * One torrent being downloaded or seeded: the coordinator of its parts. It owns none of the
 * policies; it wires them together and keeps the torrent's state (checking, downloading,
 * seeding, error, closed):
 *   PeerSet (who is connected, dialing, PEX, choking) - PieceAssembler (blocks -> verified pieces
 *   on disk, smart ban) - DemandTable (priorities from selections and readers) - ReadWaiters -
 *   request-scheduler (wake-ups, preemption for reads, rescue of overdue blocks) -
 *   VerifiedUploads (re-hashed pieces for peers). The public handle is this class; what peers
 *   and files call sits on the private peerHost and fileHost objects.
 * DESIGN.md follows a block from the socket through these to the disk.
 */
import { ClosedError, CtError, StorageError } from '../errors.js';
import type { FileLayout } from '../layout/file-layout.js';
import { pieceHash, type Metainfo } from '../metainfo/metainfo.js';
import type { PeerSessionOptions } from '../peer/peer-options.js';
import { PeerSession, type PeerHost } from '../peer/peer-session.js';
import type { BlockRequest, PiecePicker } from '../picker/piece-picker.js';
import { checkExistingPieces } from '../storage/resume-check.js';
import type { TorrentStorage } from '../storage/torrent-storage.js';
import type { BorrowedBytes } from '../storage/piece-cache.js';
import { Bitfield } from '../util/bitfield.js';
import { RateMeter } from '../util/rate-meter.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { BLOCK_SIZE, type BlockRef, type HandshakeInfo } from '../wire/messages.js';
import type { PeerConnection } from '../wire/peer-connection.js';
import { PieceAssembler, type AssemblerHost } from './piece-assembler.js';
import type { PeerSource } from '../discovery/peer-dialer.js';
import type { ConnectionReport, DialOutcome } from './dial-report.js';
import { PeerSet } from './peer-set.js';
import { preemptForReads, rescueOverdue, wakePeers } from './request-scheduler.js';
import type { DiscoveryStatus } from '../discovery/torrent-discovery.js';
import { TorrentFile, type FileHost } from '../stream/torrent-file.js';
import { DemandTable } from './demand.js';
import { ReadWaiters } from './read-waiters.js';
import { requestShare } from './request-share.js';
import { planResume, savedRecency, snapshot, type ResumeData } from './resume-data.js';
import { buildTorrentParts, resolveTorrentOptions, type TorrentParts } from './torrent-parts.js';
import { peerInfo, torrentStats } from './torrent-stats.js';
import { VerifiedUploads } from './verified-uploads.js';
import { SessionBandwidth, type RateLimits, type TorrentBandwidth } from '../limits/bandwidth.js';
import { Ticker } from '../util/ticker.js';
import type { DiskCache } from '../cache/disk-cache.js';

import type { PeerInfo, TorrentEvents, TorrentOptions, TorrentState, TorrentStats } from './torrent-types.js';

export type { PeerInfo, TorrentEvents, TorrentOptions, TorrentState, TorrentStats };

/** How the torrent asks the session for an outgoing connection. */
export type Connector = (address: string, torrent: Torrent) => void;

const RECHOKE_EVERY_TICKS = 10;

export class Torrent extends TypedEmitter<TorrentEvents> {
  private readonly layout: FileLayout;
  private readonly picker: PiecePicker;
  private readonly storage: TorrentStorage;
  /** What its peers see of the torrent: kept on a private object, not on the public handle. */
  private readonly peerHost: PeerHost;
  /** What its files and readers see of it. */
  private readonly fileHost: FileHost;
  /** Blocks for uploads: whole pieces, re-hashed before they leave. */
  private readonly uploads: VerifiedUploads;
  /** Who is connected and may connect; dialing, PEX, choking. */
  private readonly peers: PeerSet;
  /** Blocks -> verified pieces on disk (buffers, hashing, writing, smart ban). */
  private readonly assembler: PieceAssembler;
  private readonly downRate = new RateMeter();
  private readonly upRate = new RateMeter();
  private readonly peerOptions: PeerSessionOptions;
  /** Its rate limits, charged together with the session's. */
  private readonly bandwidth: TorrentBandwidth;
  /** The once-a-second housekeeping: the session's tick, or one of its own. */
  private readonly ticker: Ticker;
  private readonly onTick = () => this.tick();
  /** The start-up check is over and the housekeeping runs. */
  private started = false;
  /** The next redial, when one is due before the next tick. */
  private dialTimer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private state: TorrentState = 'checking';
  /** Piece priorities from file selections and readers; which files may exist on disk. */
  private readonly demand: DemandTable;
  /** Reads waiting for pieces to be verified. */
  private readonly waiters: ReadWaiters;
  /** The torrent's files (pad files left out), for readers and priorities. */
  readonly files: TorrentFile[];
  /** The session's bounded cache, for an on-demand torrent (cache/disk-cache.ts). */
  private readonly cache: DiskCache | undefined;
  /** Pieces being read from disk for readers right now, with how many reads: never evicted under one. */
  private readonly reading = new Map<number, number>();
  /** The filesystem could not release an evicted piece's bytes (no hole punching): said once. */
  private releaseFailed = false;
  /** Reads served through the cache: they change its recency order, which the resume data keeps. */
  private cacheReads = 0;
  /** Pieces the cache evicted and nobody fetched again since (the piece map shows them). */
  private readonly evictedPieces = new Set<number>();

  /**
   * `parts` (layout, picker, storage) are built from the options unless given: tests hand in
   * their own. `connect` asks the session for an outgoing connection.
   */
  constructor(readonly metainfo: Metainfo, private readonly opts: TorrentOptions, private readonly connect: Connector,
    parts: TorrentParts = buildTorrentParts(metainfo, opts)) {
    super();
    this.layout = parts.layout;
    this.picker = parts.picker;
    this.storage = parts.storage;
    const resolved = resolveTorrentOptions(metainfo, opts);
    this.uploads = new VerifiedUploads(metainfo, this.layout, this.storage, opts.hasher, resolved.uploadCacheBytes, (i) => this.pieceLost(i));
    this.picker.maxPiecesInFlight = resolved.piecesInFlight;
    this.peerOptions = resolved.peer;
    this.peers = new PeerSet(resolved.peerSet);
    this.assembler = new PieceAssembler(metainfo, this.layout, this.picker, this.storage, opts.hasher, this.assemblerHost(), resolved.assembler);
    this.demand = new DemandTable(this.picker, this.layout, metainfo.files, !!opts.onDemand);
    this.waiters = new ReadWaiters((i) => this.picker.have.get(i));
    this.bandwidth = (opts.bandwidth ?? new SessionBandwidth()).forTorrent(opts.rateLimits);
    this.ticker = opts.ticker ?? new Ticker();
    // On-demand torrents share the cache; with cacheEvictSelected, those fetched in full too.
    this.cache = opts.onDemand || opts.cacheEvictSelected ? opts.cache : undefined;
    // Never more pieces in flight than half the cache holds: what arrives beyond would only push
    // out what readers are about to read.
    if (this.cache) this.picker.maxPiecesInFlight = Math.max(2, Math.min(this.picker.maxPiecesInFlight, Math.floor(this.cache.max / 2 / metainfo.pieceLength)));
    this.peerHost = this.makePeerHost();
    this.fileHost = this.makeFileHost();
    this.files = metainfo.files.map((f, i) => ({ f, i })).filter(({ f }) => !f.pad).map(({ f, i }) => new TorrentFile(this.fileHost, i, f));
    for (const f of opts.filePriority ? this.files : []) {
      const p = opts.filePriority!(f.path);
      if (p !== undefined && Number.isInteger(p) && p >= 0 && p <= 7) this.demand.setFilePriority(f.index, p);
    }
  }

  /**
   * What the start-up check did: pieces taken from the resume data without hashing, and pieces
   * hashed (zero until the check is over).
   */
  startupCheck = { trusted: 0, hashed: 0 };

  /** @internal */
  get pieceLength(): number { return this.metainfo.pieceLength; }
  /** Every piece of the torrent is verified (not just the wanted ones). */
  get isComplete(): boolean { return this.picker.have.complete; }

  get infoHash(): Buffer { return this.metainfo.infoHash; }
  get infoHashHex(): string { return this.metainfo.infoHashHex; }
  get pieceCount(): number { return this.metainfo.pieceCount; }
  get isDone(): boolean { return this.picker.done; }
  get currentState(): TorrentState { return this.state; }
  /** True once any peer completed a handshake with us. */
  get hasConnectedPeer(): boolean { return this.peers.everConnected; }

  /**
   * @internal Changes whenever what a resume snapshot holds may have: the verified pieces, or
   * which files exist (the resume store saves on a change, and only then).
   */
  get resumeVersion(): number { return this.picker.haveVersion + this.storage.allocationVersion + this.cacheReads; }

  /** This torrent's own download and upload limits (bytes per second, 0: none). */
  get rateLimits(): RateLimits { return this.bandwidth.limits; }

  /** Changes this torrent's limits at once; the session's limits still apply on top. */
  setRateLimits(limits: Partial<RateLimits>): void {
    this.bandwidth.set(limits);
  }

  /** Checks existing data, then starts the swarm housekeeping. */
  async start(): Promise<void> {
    await this.storage.initAllocation();
    const stamps = await this.uploads.stampFiles();
    const plan = this.opts.resume === undefined ? undefined : planResume(this.opts.resume, this.infoHashHex, this.layout, stamps);
    let hashed = 0;
    const have = await checkExistingPieces(this.layout, this.storage, this.opts.hasher, (i) => pieceHash(this.metainfo, i), {
      only: plan?.recheck,
      onProgress: (checked) => { hashed = checked; },
    });
    if (this.isClosed()) return;
    for (let i = 0; plan && i < this.pieceCount; i++) if (plan.trusted.get(i)) have.set(i);
    this.uploads.trust(stamps);
    for (let i = 0; i < this.pieceCount; i++) {
      if (have.get(i)) this.picker.markHave(i);
      // A read-only torrent cannot store anything: it serves what it has and wants nothing.
      else if (this.opts.readOnly) this.picker.setPriority(i, 0);
    }
    try {
      const wanted = this.metainfo.files.map((_, i) => i).filter((i) => this.demand.fileMayExist(i));
      await Promise.all(wanted.map((i) => this.storage.allocate(i, (p) => this.picker.have.get(p))));
      await this.storage.createEmptyFiles();
    } catch (err) {
      return this.fail(new StorageError(`cannot create files: ${(err as Error).message}`, { cause: err }));
    }
    this.state = this.isComplete ? 'seeding' : 'downloading';
    await this.joinCache(have);
    this.started = true;
    this.ticker.add(this.onTick);
    this.startupCheck = { trusted: plan?.trusted.count ?? 0, hashed };
    this.emit('ready', { have: have.count, ...this.startupCheck });
    if (this.picker.done) this.emit('done');
    this.tick();
  }

  /**
   * A snapshot for fast resume (resume-data.ts), to store (JSON) and pass back as
   * TorrentOptions.resume next time: the verified pieces and the stamp of each file now.
   */
  async resumeData(): Promise<ResumeData> {
    // The pieces first: a piece verified while the files are stamped is left out (fetched again
    // after a restart), never trusted with a stamp taken before its bytes were written.
    const have = new Bitfield(this.pieceCount, this.picker.have.bytes);
    return snapshot(this.infoHashHex, have, await this.uploads.stampFiles(), this.metainfo.files.length, this.cache?.recencyOf(this.infoHashHex));
  }

  /** Peers to connect to; `persistent` ones are retried with back-off until the torrent closes. */
  addPeers(addresses: readonly string[], persistent = true): void {
    this.addDiscoveredPeers(addresses, persistent ? 'user' : 'tracker');
  }

  /**
   * Peers from a source (trackers, DHT, PEX, a magnet's `x.pe`): deduplicated, bounded, dialed
   * when there is room. Only user-given ones are retried forever.
   * @internal
   */
  addDiscoveredPeers(addresses: readonly string[], source: PeerSource): number {
    const added = this.peers.addAddresses(addresses, source, Date.now());
    if (added.length) this.emit('peers-found', source, added);
    if (this.started) this.dialDue();
    return added.length;
  }

  /** @internal Addresses that turned out to be ourselves (a tracker lists us too): never dialed again. */
  forgetOwnAddress(address: string): void {
    this.peers.forgetOwnAddress(address);
  }

  /** @internal Set by the session when it runs discovery for this torrent (status only). */
  discoveryStatus: (() => DiscoveryStatus) | undefined;

  // ---- connections (called by Session) -------------------------------------------------------

  /** @internal A handshake for this torrent completed on `wire`; returns false when the peer is refused. */
  attach(wire: PeerConnection, handshake: HandshakeInfo, key: string, outgoing: boolean): boolean {
    if (this.state === 'closed' || this.state === 'error' || this.state === 'checking') {
      if (outgoing) this.peers.dialer.disconnected(key, Date.now(), false);
      return false;
    }
    if (!this.peers.admit(key, handshake.peerId, outgoing)) return false;
    const peer = new PeerSession(wire, key, outgoing, handshake, this.peerHost, this.peerOptions);
    this.peers.added(peer);
    peer.start();
    this.emit('peer-connected', key);
    return true;
  }

  /** @internal An outgoing attempt failed before the handshake completed; `outcome` says how far it got. */
  dialFailed(address: string, outcome: DialOutcome): void {
    this.peers.dialFailed(address, outcome);
    this.scheduleDial();
  }

  /** What outgoing attempts met so far (why no peer is reachable, when none is). */
  connectionReport(): ConnectionReport {
    return this.peers.connectionReport();
  }

  // ---- PeerHost ------------------------------------------------------------------------------

  havePiece(index: number): boolean { return this.picker.have.get(index); }

  /** Backpressure: nothing more on order while complete pieces wait for the hash or the disk. */
  private get takingBlocks(): boolean {
    return this.state === 'downloading' && !this.assembler.backlogFull;
  }

  /** Each downloading peer's share of the open-piece budget, in requests (see request-share.ts). */
  private requestShare(): number {
    // Counted afresh on each call (about once per block received): a loop over at most 50
    // peers, simpler than keeping a counter in step with every choke and interest change.
    let downloading = 0;
    for (const p of this.peers.values()) if (p.downloadingFrom) downloading++;
    return requestShare(this.picker.maxPiecesInFlight, Math.ceil(this.metainfo.pieceLength / BLOCK_SIZE), downloading);
  }

  private pick(peer: PeerSession, count: number): BlockRequest[] {
    return this.takingBlocks ? this.picker.pick(peer, count) : [];
  }

  /** Where a block may be received in place: a slice of its piece buffer, once the picker agrees. */
  private landingTarget(index: number, begin: number, length: number): Buffer | undefined {
    return this.takingBlocks && this.picker.startLanding(index, begin) ? this.assembler.landingTarget(index, begin, length) : undefined;
  }

  private onBlock(peer: PeerSession, index: number, begin: number, block: Buffer): void {
    this.downRate.add(block.length);
    if (!this.assembler.addBlock(index, begin, block, peer.key)) return;
    // Endgame: the same block may be on order from other peers; withdraw those requests.
    for (const other of this.peers.values()) if (other !== peer && other.hasRequested(index, begin)) other.cancel(index, begin);
  }

  private abandon(_peer: PeerSession, refs: BlockRef[]): void {
    for (const r of refs) this.picker.requestAbandoned(r.index, r.begin);
    // Someone else may pick them up right away.
    for (const p of this.peers.values()) p.fillRequests();
  }

  private async readBlock(index: number, begin: number, length: number): Promise<BorrowedBytes> {
    const block = await this.uploads.readBlock(index, begin, length);
    this.upRate.add(length);
    return block;
  }

  // ---- the bounded cache (cache/disk-cache.ts) -----------------------------------------------

  /** An on-demand torrent's unselected pieces (all of them with `cacheEvictSelected`) come and go with the cache. */
  private evictable(index: number): boolean {
    return this.cache !== undefined && (!!this.opts.cacheEvictSelected || this.demand.basePriorityOf(index) === 0);
  }

  /** Joins the session's cache with the pieces found on disk, evicting at once if they pass its limit. */
  private async joinCache(have: Bitfield): Promise<void> {
    if (!this.cache) return;
    this.cache.join(this.infoHashHex, { isPinned: (i) => this.demand.isReaderWanted(i) || this.reading.has(i), evict: (i) => this.evictPiece(i) });
    // In the order of the last run: pieces it did not list first (index order), then its own,
    // least recently read first, so the same pieces go first after a restart.
    const recent = savedRecency(this.opts.resume, this.pieceCount).filter((i) => have.get(i) && this.evictable(i));
    const listed = new Set(recent);
    const order: number[] = [];
    for (let i = 0; i < this.pieceCount; i++) if (have.get(i) && this.evictable(i) && !listed.has(i)) order.push(i);
    order.push(...recent);
    await Promise.all(order.map((i) => this.cache!.hold(this.infoHashHex, i, this.layout.pieceSize(i))));
  }

  /** The cache evicted the piece: no longer had (nor served from memory), its bytes released. */
  private async evictPiece(index: number): Promise<void> {
    if (this.isClosed() || !this.picker.have.get(index)) return;
    this.demand.evicted(index);
    this.evictedPieces.add(index);
    this.picker.markLost(index);
    this.uploads.drop(index);
    if (this.state === 'seeding') this.state = 'downloading';
    this.emit('piece-evicted', index);
    const released = await this.storage.releasePiece(index).catch(() => false);
    if (!released && !this.releaseFailed) {
      this.releaseFailed = true;
      this.emit('warning', `${this.metainfo.name}: the filesystem of ${this.opts.downloadDir} cannot punch holes: evicted pieces leave the cache but keep their disk space`);
    }
  }

  /**
   * Verified bytes for a reader. Its pieces are pinned while they are read, and checked to be
   * still had once pinned: a piece evicted between the reader's wait and this read would read
   * as a hole (zeros), so it is waited for again instead.
   */
  private async readForReader(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const pl = this.metainfo.pieceLength;
    const first = Math.floor(offset / pl);
    const last = Math.floor((offset + Math.max(1, length) - 1) / pl);
    for (;;) {
      for (let i = first; i <= last; i++) this.reading.set(i, (this.reading.get(i) ?? 0) + 1);
      let all = true;
      for (let i = first; i <= last && all; i++) all = this.picker.have.get(i);
      if (all) break;
      this.unpinReading(first, last);
      await this.waiters.wait(first, last);
    }
    try {
      for (let i = first; i <= last; i++) this.cache?.touch(this.infoHashHex, i);
      this.cacheReads++;
      return await this.storage.read(offset, length, into);
    } finally {
      this.unpinReading(first, last);
      // A read larger than the cache held it over its limit: back under it now.
      void this.cache?.trim();
    }
  }

  private unpinReading(first: number, last: number): void {
    for (let i = first; i <= last; i++) {
      const n = (this.reading.get(i) ?? 1) - 1;
      if (n <= 0) this.reading.delete(i);
      else this.reading.set(i, n);
    }
  }

  /** A piece we had failed its check when read for an upload: it is no longer had, fetch it again. */
  private pieceLost(index: number): void {
    if (this.isClosed() || !this.picker.have.get(index)) return;
    this.picker.markLost(index);
    if (this.state === 'seeding') this.state = 'downloading';
    this.emit('piece-lost', index);
    this.wakePeers();
  }

  private onPeerPieces(peer: PeerSession, pieces: Bitfield | 'all' | number): void {
    if (typeof pieces === 'number') this.picker.peerHave(pieces);
    else this.picker.peerAdded(pieces);
    // Two seeds have nothing to say to each other.
    if (this.isComplete && peer.isSeed) this.peers.dropSeed(peer);
  }

  private onPeerClosed(peer: PeerSession, err: Error): void {
    if (!this.peers.removed(peer, err)) return;
    const announced = peer.announcedPieces();
    if (announced) this.picker.peerRemoved(announced);
    this.scheduleDial();
    this.emit('peer-disconnected', peer.key, err.message);
  }

  private makePeerHost(): PeerHost {
    const t = this;
    return {
      get pieceCount() { return t.pieceCount; },
      get infoHash() { return t.infoHash; },
      get infoBytes() { return t.metainfo.infoBytes; },
      get bandwidth() { return t.bandwidth; },
      pieceSize: (i) => t.layout.pieceSize(i),
      havePiece: (i) => t.havePiece(i),
      ownBitfield: () => t.picker.have,
      wants: (i) => t.picker.wants(i),
      isInteresting: (p) => t.state === 'downloading' && t.picker.isInteresting(p),
      pick: (p, n) => t.pick(p, n),
      requestShare: () => t.requestShare(),
      onBlock: (p, i, b, block) => t.onBlock(p, i, b, block),
      landingTarget: (_p, i, b, len) => t.landingTarget(i, b, len),
      abandon: (p, refs) => t.abandon(p, refs),
      readBlock: (i, b, l) => t.readBlock(i, b, l),
      onPeerPieces: (p, pieces) => t.onPeerPieces(p, pieces),
      onPeerPiecesGone: (_p, pieces) => t.picker.peerRemoved(pieces),
      onPeerInterest: (p) => t.peers.interestChanged(p),
      onPeerClosed: (p, reason) => t.onPeerClosed(p, reason),
      extensionOffer: () => ({ pex: !t.metainfo.private, metadataSize: t.metainfo.infoBytes.length, listenPort: t.opts.listenPort }),
      // BEP 27: a private torrent takes peers from its trackers only.
      onPex: (_p, msg) => { if (!t.metainfo.private) t.addDiscoveredPeers(msg.added, 'pex'); },
    };
  }

  private makeFileHost(): FileHost {
    const t = this;
    return {
      get layout() { return t.layout; },
      get pieceLength() { return t.metainfo.pieceLength; },
      get haveVersion() { return t.picker.haveVersion; },
      want: (owner, underRead, ahead) => t.want(owner, underRead, ahead),
      release: (owner) => {
        t.demand.release(owner);
        // The reader's window is no longer pinned: what it kept over the limit goes.
        void t.cache?.trim();
      },
      havePiece: (i) => t.havePiece(i),
      waitForPieces: (first, last, signal) => t.waiters.wait(first, last, signal),
      readRange: (offset, length, into) => (t.cache ? t.readForReader(offset, length, into) : t.storage.read(offset, length, into)),
      // A quarter of the cache for this torrent's readers together: each one's window shrinks as more read.
      get readaheadCap() { return t.cache ? Math.max(t.metainfo.pieceLength, Math.floor(t.cache.max / 4 / Math.max(1, t.demand.readerCount))) : undefined; },
      countRead: (hit) => t.cache?.countRead(hit),
      setFilePriority: (i, p) => t.setFilePriority(i, p),
      filePriority: (i) => t.demand.filePriorityOf(i),
      fileOpened: (i) => t.fileOpened(i),
    };
  }

  // ---- readers and priorities (FileHost) -----------------------------------------------------

  private want(owner: object, underRead: readonly number[], ahead: readonly number[]): void {
    const now = Date.now();
    this.demand.want(owner, underRead, ahead, now);
    // Preemption first: the read's blocks are requested right after the few kept requests,
    // rather than at the end of a deep queue by the refill.
    this.preemptForReaders(now);
    this.wakePeers(true);
  }

  /** Lets a file exist on disk, moving in its bytes kept in the part file (start() does it for early calls). */
  private allocateFile(fileIndex: number): void {
    if (this.state === 'checking' || this.isClosed() || !this.demand.fileMayExist(fileIndex)) return;
    this.storage.allocate(fileIndex, (p) => this.picker.have.get(p))
      .catch((err: unknown) => this.fail(err instanceof CtError ? err : new StorageError(String(err))));
  }

  private fileOpened(fileIndex: number): void {
    this.demand.fileOpened(fileIndex);
    this.allocateFile(fileIndex);
  }

  private setFilePriority(fileIndex: number, priority: number): void {
    this.demand.setFilePriority(fileIndex, priority);
    this.allocateFile(fileIndex);
    this.wakePeers();
  }

  private wakePeers(urgent = false): void {
    wakePeers(this.peers.values(), urgent, Date.now());
    this.dialDue();
  }

  private preemptForReaders(now: number): void {
    preemptForReads(this.peers.values(), this.picker, this.demand.piecesUnderReads(), now);
  }

  // ---- verification (PieceAssembler's host) -----------------------------------------------

  private assemblerHost(): AssemblerHost {
    return {
      isClosed: () => this.isClosed(),
      makeRoom: (index) => (this.evictable(index) ? this.cache!.reserve(this.infoHashHex, index, this.layout.pieceSize(index)) : Promise.resolve()),
      writeFailed: (index) => this.cache?.forget(this.infoHashHex, index),
      pieceWritten: (index, liars) => {
        this.cache?.written(this.infoHashHex, index);
        this.evictedPieces.delete(index);
        for (const liar of liars) this.ban(liar, `sent a bad block of piece ${index}`);
        // Not to peers that have it (libtorrent's send_redundant_have off): a download from a
        // seed of 32,768 small pieces sent as many `have` writes for nothing.
        for (const p of this.peers.values()) if (!p.has(index)) p.sendHave(index);
        this.emit('piece', index);
        this.waiters.wake();
        if (this.picker.done && this.state === 'downloading') this.onDone();
      },
      hashFailed: (index, contributors, culprit) => {
        this.emit('hash-failed', index, contributors);
        if (culprit) this.ban(culprit, `sent data that failed the hash check for piece ${index}`);
        for (const p of this.peers.values()) p.fillRequests();
      },
      roomFreed: () => { for (const p of this.peers.values()) p.fillRequests(); },
      storageFailed: (err) => this.fail(err),
    };
  }

  /** Disconnects a peer and refuses it from now on (by address and port). */
  ban(key: string, reason: string): void {
    if (this.peers.ban(key, reason)) this.emit('peer-banned', key, reason);
  }

  isBanned(key: string): boolean {
    return this.peers.isBanned(key);
  }

  /** Every wanted piece is verified. Seeding (and dropping other seeds) only once all pieces are. */
  private onDone(): void {
    if (this.isComplete) {
      this.state = 'seeding';
      // Seeds have nothing more for us, unless the bounded cache may evict pieces we will read again.
      if (!this.cache) for (const p of [...this.peers.values()]) if (p.isSeed) this.peers.dropSeed(p);
    }
    for (const p of this.peers.values()) p.updateInterest();
    this.emit('done');
  }

  // ---- housekeeping --------------------------------------------------------------------------

  /**
   * Once a second, on the session's tick. An idle torrent (no peer) only keeps the rechoke's
   * cadence (its optimistic rotation counts rechokes) and dials what is due: with 1,000 seeding
   * torrents nobody downloads from, a tick costs a few calls each.
   */
  private tick(): void {
    const now = Date.now();
    const idle = this.peers.size === 0;
    if (!idle) {
      for (const p of this.peers.values()) p.tick(now);
      this.rescueTimeCritical(now);
      this.preemptForReaders(now);
      this.peers.sendPex(now);
    }
    if (this.ticks++ % RECHOKE_EVERY_TICKS === 0) this.peers.rechoke(now, this.state === 'seeding');
    this.dialDue();
    if (this.listenerCount('stats') > 0) this.emit('stats', this.stats());
  }

  /** Blocks of time-critical pieces (under a read or in its readahead: they have deadlines) stuck at a slow peer get a second copy elsewhere. */
  private rescueTimeCritical(now: number): void {
    if (this.picker.criticalPieces.length === 0 || this.peers.size < 2) return;
    if (rescueOverdue(this.peers.values(), this.picker, this.peerOptions.requestTimeoutMs, now)) for (const p of this.peers.values()) p.fillRequests();
  }

  /** Dials again exactly when a retry is due instead of at the next one-second tick. */
  private scheduleDial(): void {
    const at = this.peers.dialer.nextAttemptAt();
    if (at === undefined || this.isClosed()) return;
    clearTimeout(this.dialTimer);
    this.dialTimer = setTimeout(() => this.dialDue(), Math.max(0, at - Date.now()));
    this.dialTimer.unref();
  }

  private dialDue(): void {
    // A seeder dials only the peers it was given (transmission, for one, never dials loopback
    // peers itself); discovered leechers come to it, and other seeds have nothing for it.
    if (this.state !== 'downloading' && this.state !== 'seeding') return;
    for (const address of this.peers.due(Date.now(), this.state === 'seeding')) this.connect(address, this);
  }

  // ---- status and teardown -------------------------------------------------------------------

  stats(): TorrentStats {
    return torrentStats({
      state: this.state, totalBytes: this.metainfo.totalLength, pieceCount: this.pieceCount, picker: this.picker,
      peers: this.peers.values(), assembler: this.assembler, down: this.downRate, up: this.upRate,
      bannedPeers: this.peers.bannedCount, discovery: this.discoveryStatus?.(),
    });
  }

  /**
   * One character per piece, for piece maps: `r` under a read (a reader waits for it or reads
   * it now), `v` verified, `d` downloading (blocks requested or received), `e` evicted by the
   * bounded cache, `.` missing.
   */
  pieceMap(): string {
    const out = new Array<string>(this.pieceCount);
    for (let i = 0; i < this.pieceCount; i++) {
      out[i] = this.reading.has(i) || (this.demand.isReaderWanted(i) && !this.picker.have.get(i)) ? 'r'
        : this.picker.have.get(i) ? 'v' : this.picker.partialState(i) ? 'd' : this.evictedPieces.has(i) ? 'e' : '.';
    }
    return out.join('');
  }

  peerList(): PeerInfo[] {
    const now = Date.now();
    return [...this.peers.values()].map((p) => peerInfo(p, now));
  }

  /** A method, not a field check, so TypeScript does not narrow `state` across awaits. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private fail(err: CtError): void {
    if (this.state === 'closed' || this.state === 'error') return;
    this.state = 'error';
    this.peers.closeAll(new CtError('ECLOSED', `torrent stopped: ${err.message}`));
    this.emit('error', err);
  }

  async close(): Promise<void> {
    if (this.isClosed()) return;
    this.state = 'closed';
    this.emit('closed');
    this.ticker.remove(this.onTick);
    this.cache?.leave(this.infoHashHex);
    clearTimeout(this.dialTimer);
    this.waiters.close();
    this.peers.closeAll(new ClosedError('torrent closed'));
    this.uploads.clear();
    await this.storage.close();
  }
}

