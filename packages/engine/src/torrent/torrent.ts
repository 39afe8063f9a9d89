/**
 * One torrent being downloaded or seeded: owns its picker, storage and peer sessions, turns
 * received blocks into verified pieces on disk, and runs the per-second housekeeping (timeouts,
 * choking, dialing). Network plumbing (sockets, handshakes) lives in Session; protocol details of
 * a single peer in PeerSession; the choice of blocks in PiecePicker.
 *
 * A block's journey: PeerWire parses it -> PeerSession checks we asked for it -> onBlock() copies
 * it into the piece's buffer -> when the piece is whole, verifyPiece() hashes it in a worker ->
 * TorrentStorage writes it with positioned writes -> the picker marks it had -> peers get `have`.
 */
import { ClosedError, CtError, StorageError } from '../errors.js';
import { FileLayout } from '../layout/file-layout.js';
import { pieceHash, type Metainfo } from '../metainfo/metainfo.js';
import { decideUnchokes } from '../peer/choker.js';
import { DEFAULT_PEER_OPTIONS, PeerSession, type PeerHost, type PeerSessionOptions } from '../peer/peer-session.js';
import { PiecePicker, type BlockRequest } from '../picker/piece-picker.js';
import { allocPieceBuffer, type HasherPool } from '../hash/hasher-pool.js';
import { PieceCache } from '../storage/piece-cache.js';
import { checkExistingPieces } from '../storage/resume-check.js';
import { TorrentStorage } from '../storage/torrent-storage.js';
import { Bitfield } from '../util/bitfield.js';
import { RateMeter } from '../util/rate-meter.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { parseHostPort } from '../util/address.js';
import type { BlockRef, HandshakeInfo } from '../wire/messages.js';
import { isBlameless, type PeerWire } from '../wire/peer-wire.js';
import { DEFAULT_ASSEMBLER_OPTIONS, PieceAssembler, type AssemblerHost } from './piece-assembler.js';
import { PeerDialer, type PeerSource } from '../discovery/peer-dialer.js';
import { pickEvictee } from './peer-eviction.js';
import { DialReport, type ConnectionReport, type DialOutcome } from './dial-report.js';
import type { PexMessage } from '../peer/pex.js';
import type { DiscoveryStatus } from '../discovery/torrent-discovery.js';
import { TorrentFile, type FileHost } from '../stream/torrent-file.js';
import { DemandTable } from './demand.js';
import { ReadWaiters } from './read-waiters.js';
import * as path from 'node:path';

export type TorrentState = 'checking' | 'downloading' | 'seeding' | 'error' | 'closed';

export interface TorrentStats {
  state: TorrentState;
  /** Verified bytes we have (of pieces with any priority). */
  verifiedBytes: number;
  totalBytes: number;
  /** 0..1 over wanted pieces. */
  progress: number;
  piecesHave: number;
  piecesTotal: number;
  /** Payload bytes received / sent since start. */
  downloaded: number;
  uploaded: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  seeds: number;
  /** Bytes thrown away: failed hashes and duplicate endgame blocks. */
  wasted: number;
  hashFailures: number;
  bannedPeers: number;
  /** Trackers, DHT and PEX, when the session runs discovery for this torrent. */
  discovery?: DiscoveryStatus;
}

export interface PeerInfo {
  address: string;
  client: string;
  outgoing: boolean;
  downloadRate: number;
  uploadRate: number;
  progress: number;
  snubbed: boolean;
  requests: number;
}

export interface TorrentEvents {
  /** The resume check finished; `have` pieces were already on disk. */
  ready: [{ have: number }];
  piece: [number];
  /** Every wanted piece is verified and on disk. */
  done: [];
  'peer-connected': [string];
  /** A peer's connection ended: its address and why ("the peer closed the connection", a protocol error, ...). */
  'peer-disconnected': [string, string];
  'peer-banned': [string, string];
  'hash-failed': [number, string[]];
  /** A piece we had failed its check before an upload (changed on disk): it is fetched again. */
  'piece-lost': [number];
  stats: [TorrentStats];
  /** Fatal: the torrent stops (disk full, files unwritable). */
  error: [CtError];
  /** close() was called: the torrent is gone from its session. */
  closed: [];
  /** New addresses entered the peer list (from a tracker, the DHT, PEX, a magnet, the user). */
  'peers-found': [PeerSource, string[]];
}

export interface TorrentOptions {
  downloadDir: string;
  hasher: HasherPool;
  /** Opens files read-only and never writes: a pure seeder of existing data. */
  readOnly?: boolean;
  /** Download nothing unless a reader asks for it or a file is selected. */
  onDemand?: boolean;
  /** Connections to this torrent (default 50). */
  maxPeers?: number;
  /** Connections to this torrent from one IP address (default 8). */
  maxPeersPerAddress?: number;
  uploadSlots?: number;
  /**
   * Stop requesting while this many bytes of complete pieces wait for hashing or the disk. Without
   * it, a CPU- or disk-bound moment piled up 110 pieces (110 MiB) in memory during a 1 GiB run.
   */
  maxUnwrittenBytes?: number;
  /** Bytes of pieces kept in memory to serve uploads. */
  uploadCacheBytes?: number;
  peer?: Partial<PeerSessionOptions>;
  /** Our peer id (decides which of two connections to one peer stays). */
  peerId?: Buffer;
  /** Our listening port, told to peers in the extension handshake (so PEX can pass us on). */
  listenPort?: number;
  /** How often peers hear our ut_pex view (BEP 11 asks for at most once a minute). */
  pexIntervalMs?: number;
}

/** How the torrent asks the session for an outgoing connection. */
export type Connector = (address: string, torrent: Torrent) => void;

const RECHOKE_EVERY_TICKS = 10;
/** Connections to one torrent from one IP address (libtorrent allows one unless told otherwise). */
export const DEFAULT_MAX_PEERS_PER_ADDRESS = 8;
/** After one of its peers was evicted as useless, an address may take only free slots for this long. */
const EVICTION_COOLDOWN_MS = 30_000;
const OPTIMISTIC_EVERY_RECHOKES = 3;

export class Torrent extends TypedEmitter<TorrentEvents> implements PeerHost, FileHost {
  readonly layout: FileLayout;
  readonly picker: PiecePicker;
  readonly storage: TorrentStorage;
  private readonly cache: PieceCache;
  private readonly peers = new Map<string, PeerSession>();
  /** Blocks -> verified pieces on disk (buffers, hashing, writing, smart ban). */
  private readonly assembler: PieceAssembler;
  private readonly banned = new Set<string>();
  readonly dialer = new PeerDialer();
  private readonly dialReport = new DialReport();
  /** Hosts whose peer was evicted as useless, until when they may take only a free slot. */
  private readonly evictedHosts = new Map<string, number>();
  private readonly downRate = new RateMeter();
  private readonly upRate = new RateMeter();
  private readonly peerOptions: PeerSessionOptions;
  private timer: NodeJS.Timeout | undefined;
  /** The next redial, when one is due before the next tick. */
  private dialTimer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private optimistic: string | undefined;
  private state: TorrentState = 'checking';
  private everConnected = false;
  /** Piece priorities from file selections and readers; which files may exist on disk. */
  private readonly demand: DemandTable;
  /** Our own addresses as others list them, learnt from dialing ourselves. */
  private readonly ownAddresses = new Set<string>();
  /** When peers last heard our ut_pex view. */
  private lastPexAt = 0;
  /** Reads waiting for pieces to be verified. */
  private readonly waiters: ReadWaiters;
  /** The torrent's files (pad files left out), for readers and priorities. */
  readonly files: TorrentFile[];

  constructor(readonly metainfo: Metainfo, private readonly opts: TorrentOptions, private readonly connect: Connector) {
    super();
    this.layout = new FileLayout(metainfo.files, metainfo.pieceLength);
    this.picker = new PiecePicker(metainfo);
    const root = metainfo.multiFile ? path.join(opts.downloadDir, metainfo.name) : opts.downloadDir;
    this.storage = new TorrentStorage(this.layout, metainfo.files, root, {
      readOnly: opts.readOnly,
      partFile: path.join(opts.downloadDir, `.${metainfo.infoHashHex}.parts`),
    });
    this.cache = new PieceCache(opts.uploadCacheBytes ?? 32 * 1024 * 1024, (i) => this.loadVerifiedPiece(i));
    this.peerOptions = { ...DEFAULT_PEER_OPTIONS, ...opts.peer };
    this.assembler = new PieceAssembler(metainfo, this.layout, this.picker, this.storage, opts.hasher, this.assemblerHost(), {
      ...DEFAULT_ASSEMBLER_OPTIONS,
      ...(opts.maxUnwrittenBytes !== undefined ? { maxUnwrittenBytes: opts.maxUnwrittenBytes } : {}),
    });
    this.demand = new DemandTable(this.picker, this.layout, metainfo.files, !!opts.onDemand);
    this.waiters = new ReadWaiters((i) => this.picker.have.get(i));
    this.files = metainfo.files.map((f, i) => ({ f, i })).filter(({ f }) => !f.pad).map(({ f, i }) => new TorrentFile(this, i, f));
  }

  get pieceLength(): number { return this.metainfo.pieceLength; }
  /** Every piece of the torrent is verified (not just the wanted ones). */
  get isComplete(): boolean { return this.picker.have.complete; }

  get infoHash(): Buffer { return this.metainfo.infoHash; }
  get infoHashHex(): string { return this.metainfo.infoHashHex; }
  get pieceCount(): number { return this.metainfo.pieceCount; }
  get isDone(): boolean { return this.picker.done; }
  get currentState(): TorrentState { return this.state; }
  /** True once any peer completed a handshake with us. */
  get hasConnectedPeer(): boolean { return this.everConnected; }

  /** Checks existing data, then starts the swarm housekeeping. */
  async start(): Promise<void> {
    await this.storage.initAllocation();
    const have = await checkExistingPieces(this.layout, this.storage, this.opts.hasher, (i) => pieceHash(this.metainfo, i));
    if (this.isClosed()) return;
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
    this.timer = setInterval(() => this.tick(), 1000);
    this.emit('ready', { have: have.count });
    if (this.picker.done) this.emit('done');
    this.tick();
  }

  /** Peers to connect to; `persistent` ones are retried with back-off until the torrent closes. */
  addPeers(addresses: readonly string[], persistent = true): void {
    this.addDiscoveredPeers(addresses, persistent ? 'user' : 'tracker');
  }

  /**
   * Peers from a source (trackers, DHT, PEX, a magnet's `x.pe`): deduplicated, bounded, dialed
   * when there is room. Only user-given ones are retried forever.
   */
  addDiscoveredPeers(addresses: readonly string[], source: PeerSource): number {
    const now = Date.now();
    const added: string[] = [];
    for (const a of addresses) {
      if (this.banned.has(a) || this.ownAddresses.has(a)) continue;
      if (this.dialer.add(a, source === 'user', now, source)) added.push(a);
    }
    if (added.length) this.emit('peers-found', source, added);
    if (this.timer) this.dialDue();
    return added.length;
  }

  /** Addresses that turned out to be ourselves (a tracker lists us too): never dialed again. */
  forgetOwnAddress(address: string): void {
    this.ownAddresses.add(address);
    this.dialer.remove(address);
  }

  /** Set by the session when it runs discovery for this torrent (status only). */
  discoveryStatus: (() => DiscoveryStatus) | undefined;

  // ---- connections (called by Session) -------------------------------------------------------

  /** A handshake for this torrent completed on `wire`; returns false when the peer is refused. */
  attach(wire: PeerWire, handshake: HandshakeInfo, key: string, outgoing: boolean): boolean {
    const twin = [...this.peers.values()].find((p) => p.peerId.equals(handshake.peerId));
    if (this.state === 'closed' || this.state === 'error' || this.state === 'checking' || this.banned.has(key) ||
        this.peers.has(key) || (twin === undefined && !this.makeRoom(key)) ||
        (twin !== undefined && !this.newBeatsTwin(twin, handshake.peerId, outgoing))) {
      // A twin connection to the same peer stays; this address need not be dialed again.
      if (outgoing && twin) this.dialer.remove(key);
      else if (outgoing) this.dialer.disconnected(key, Date.now(), false);
      return false;
    }
    twin?.close(new CtError('ECLOSED', 'a second connection to the same peer won the tie')); // the twin's close does its bookkeeping
    const peer = new PeerSession(wire, key, outgoing, handshake, this, this.peerOptions);
    this.peers.set(key, peer);
    this.everConnected = true;
    if (outgoing) { this.dialer.connected(key); this.dialReport.connected(key); }
    peer.start();
    this.emit('peer-connected', key);
    return true;
  }

  /**
   * True when `key` may take a slot: within the per-address bound, and the cap not reached or
   * reached with a useless peer to evict. An address whose peer was evicted lately may take only
   * a free slot: otherwise reconnecting junk peers would evict each other in a cycle that keeps
   * every slot too young to evict, and a real peer would still find no room.
   */
  private makeRoom(key: string): boolean {
    const now = Date.now();
    const host = parseHostPort(key).host;
    let fromHost = 0;
    for (const p of this.peers.values()) if (p.ip === host) fromHost++;
    if (fromHost >= (this.opts.maxPeersPerAddress ?? DEFAULT_MAX_PEERS_PER_ADDRESS)) return false;
    if (this.peers.size < (this.opts.maxPeers ?? 50)) return true;
    if ((this.evictedHosts.get(host) ?? 0) > now) return false;
    const victim = pickEvictee([...this.peers.values()].map((p) => ({
      key: p.key,
      connectedAt: p.connectedAt,
      lastMessageAt: p.wire.lastMessageAt,
      downloaded: p.downloadRate.total,
      uploaded: p.uploadRate.total,
      peerInterested: p.peerInterested,
      amInterested: p.amInterested,
    })), now);
    if (victim === undefined) return false;
    const victimPeer = this.peers.get(victim);
    if (this.evictedHosts.size >= 1000) for (const [h, until] of this.evictedHosts) if (until <= now) this.evictedHosts.delete(h);
    if (victimPeer && this.evictedHosts.size < 1000) this.evictedHosts.set(victimPeer.ip, now + EVICTION_COOLDOWN_MS);
    victimPeer?.close(new CtError('EPEER_EVICTED', 'evicted to make room: no data exchanged, not interested'));
    return this.peers.size < (this.opts.maxPeers ?? 50);
  }

  /**
   * One peer reached twice (we dialed it while it dialed us, typically after PEX told each about
   * the other): both ends must keep the same connection, or each drops the one the other kept.
   * The rule both compute alike: keep the connection opened by the side with the lower peer id.
   */
  private newBeatsTwin(twin: PeerSession, peerId: Buffer, outgoing: boolean): boolean {
    const own = this.opts.peerId;
    if (!own || twin.outgoing === outgoing) return false;
    const weWin = Buffer.compare(own, peerId) < 0;
    return outgoing === weWin;
  }

  /** An outgoing attempt failed before the handshake completed; `outcome` says how far it got. */
  dialFailed(address: string, outcome: DialOutcome): void {
    this.dialReport.failed(address, outcome);
    this.dialer.disconnected(address, Date.now(), true);
    this.scheduleDial();
  }

  /** What outgoing attempts met so far (why no peer is reachable, when none is). */
  connectionReport(): ConnectionReport {
    return this.dialReport.report();
  }

  // ---- PeerHost ------------------------------------------------------------------------------

  get infoBytes(): Buffer { return this.metainfo.infoBytes; }

  extensionOffer(): { pex: boolean; metadataSize: number; listenPort?: number } {
    return { pex: !this.metainfo.private, metadataSize: this.metainfo.infoBytes.length, listenPort: this.opts.listenPort };
  }

  onPex(_peer: PeerSession, msg: PexMessage): void {
    // BEP 27: a private torrent takes peers from its trackers only.
    if (this.metainfo.private) return;
    this.addDiscoveredPeers(msg.added, 'pex');
  }

  /** Tells every ut_pex peer what changed in our peer set since it last heard (BEP 11). */
  private sendPex(now: number): void {
    if (this.metainfo.private || now - this.lastPexAt < (this.opts.pexIntervalMs ?? 60_000)) return;
    this.lastPexAt = now;
    const view: string[] = [];
    for (const p of this.peers.values()) {
      const a = p.listenAddress;
      if (a) view.push(a);
    }
    for (const p of this.peers.values()) {
      if (!p.acceptsPex) continue;
      const msg = p.pexView.next(view, p.listenAddress ?? p.key);
      if (msg) p.sendPex(msg);
    }
  }

  pieceSize(index: number): number { return this.layout.pieceSize(index); }
  havePiece(index: number): boolean { return this.picker.have.get(index); }
  ownBitfield(): Bitfield { return this.picker.have; }
  wants(index: number): boolean { return this.picker.wants(index); }

  isInteresting(peer: PeerSession): boolean {
    if (this.state !== 'downloading') return false;
    return this.picker.isInteresting(peer);
  }

  pick(peer: PeerSession, count: number): BlockRequest[] {
    if (this.state !== 'downloading') return [];
    if (this.assembler.backlogFull) return [];
    return this.picker.pick(peer, count);
  }

  onBlock(peer: PeerSession, index: number, begin: number, block: Buffer): void {
    this.downRate.add(block.length);
    if (!this.assembler.addBlock(index, begin, block, peer.key)) return;
    // Endgame: the same block may be on order from other peers; withdraw those requests.
    for (const other of this.peers.values()) if (other !== peer && other.hasRequested(index, begin)) other.cancel(index, begin);
  }

  abandon(_peer: PeerSession, refs: BlockRef[]): void {
    for (const r of refs) this.picker.requestAbandoned(r.index, r.begin);
    // Someone else may pick them up right away.
    for (const p of this.peers.values()) p.fillRequests();
  }

  async readBlock(index: number, begin: number, length: number): Promise<Buffer> {
    const piece = await this.cache.get(index);
    this.upRate.add(length);
    return piece.subarray(begin, begin + length);
  }

  /**
   * Reads a piece for uploading and hashes it again before any byte of it leaves: whatever
   * happened on disk since it was verified (a bug, another program, a bad sector), we upload only
   * bytes that match the torrent. Hashing runs in the workers; a piece is read once per cache fill.
   * A piece that fails is no longer had and is fetched again.
   */
  private async loadVerifiedPiece(index: number): Promise<Buffer> {
    const size = this.layout.pieceSize(index);
    const buf = allocPieceBuffer(size);
    await this.storage.readPiece(index, buf);
    if (await this.opts.hasher.verify(buf, pieceHash(this.metainfo, index))) return buf;
    if (!this.isClosed() && this.picker.have.get(index)) {
      this.picker.markLost(index);
      if (this.state === 'seeding') this.state = 'downloading';
      this.emit('piece-lost', index);
      this.wakePeers();
    }
    throw new StorageError(`piece ${index} on disk does not match its hash; fetching it again`);
  }

  onPeerPieces(peer: PeerSession, pieces: Bitfield | 'all' | number): void {
    if (typeof pieces === 'number') this.picker.peerHave(pieces);
    else this.picker.peerAdded(pieces);
    // Two seeds have nothing to say to each other.
    if (this.isComplete && peer.isSeed) this.dropSeed(peer);
  }

  onPeerPiecesGone(_peer: PeerSession, pieces: Bitfield | 'all'): void {
    this.picker.peerRemoved(pieces);
  }

  /** Two seeds have nothing to say to each other: close, and do not dial it again. */
  private dropSeed(peer: PeerSession): void {
    this.dialer.remove(peer.key);
    peer.close(new CtError('ECLOSED', 'both sides are seeds'));
  }

  onPeerInterest(peer: PeerSession): void {
    if (peer.peerInterested && peer.amChoking && this.unchokedCount() < (this.opts.uploadSlots ?? 8)) peer.unchoke();
    else if (!peer.peerInterested && !peer.amChoking) peer.choke();
  }

  onPeerClosed(peer: PeerSession, err: Error): void {
    if (this.peers.get(peer.key) !== peer) return;
    this.peers.delete(peer.key);
    if (peer.hasAll) this.picker.peerRemoved('all');
    else if (peer.pieces.count > 0) this.picker.peerRemoved(peer.pieces);
    if (peer.outgoing) this.dialer.disconnected(peer.key, Date.now(), !isBlameless(err));
    this.scheduleDial();
    this.emit('peer-disconnected', peer.key, err.message);
  }

  // ---- readers and priorities (FileHost) -----------------------------------------------------

  want(owner: object, underRead: readonly number[], ahead: readonly number[]): void {
    const now = Date.now();
    this.demand.want(owner, underRead, ahead, now);
    this.wakePeers(true);
    this.preemptForReaders(now);
  }

  release(owner: object): void {
    this.demand.release(owner);
  }

  /** Lets a file exist on disk, moving in its bytes kept in the part file (start() does it for early calls). */
  private allocateFile(fileIndex: number): void {
    if (this.state === 'checking' || this.isClosed() || !this.demand.fileMayExist(fileIndex)) return;
    this.storage.allocate(fileIndex, (p) => this.picker.have.get(p))
      .catch((err: unknown) => this.fail(err instanceof CtError ? err : new StorageError(String(err))));
  }

  fileOpened(fileIndex: number): void {
    this.demand.fileOpened(fileIndex);
    this.allocateFile(fileIndex);
  }

  setFilePriority(fileIndex: number, priority: number): void {
    this.demand.setFilePriority(fileIndex, priority);
    this.allocateFile(fileIndex);
    this.wakePeers();
  }

  waitForPieces(first: number, last: number, signal?: AbortSignal): Promise<void> {
    return this.waiters.wait(first, last, signal);
  }

  /** Reads still waiting for pieces (tests check none is left behind). */
  get pendingWaits(): number {
    return this.waiters.size;
  }

  readRange(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    return this.storage.read(offset, length, into);
  }

  /**
   * Priorities changed: peers may have become interesting, and requests may be due. For a reader
   * (`urgent`), the peers with the shortest expected queue pick first, skipping request batching,
   * so its critical blocks go where they will arrive soonest.
   */
  private wakePeers(urgent = false): void {
    const now = Date.now();
    const peers = [...this.peers.values()];
    if (urgent) peers.sort((a, b) => a.expectedQueueMs(now) - b.expectedQueueMs(now));
    for (const p of peers) {
      if (!p.amInterested) p.updateInterest();
      p.fillRequests(urgent);
    }
    this.dialDue();
  }

  /**
   * A pending read's blocks that no peer had room for would wait behind every queued request.
   * Peers serve requests in order, so the peer with the shortest expected queue that has the
   * piece cancels its queued non-critical requests (PeerSession.preempt) and asks for the
   * critical blocks first; the cancelled blocks are fetched afterwards.
   */
  private preemptForReaders(now: number): void {
    const urgent = this.demand.piecesUnderReads();
    let missing = 0;
    const pieces: number[] = [];
    for (const i of urgent) {
      const n = this.picker.unrequestedBlocks(i);
      if (n > 0) { pieces.push(i); missing += n; }
    }
    if (missing === 0) return;
    let best: PeerSession | undefined;
    let bestMs = Infinity;
    for (const p of this.peers.values()) {
      if (p.peerChoking || !p.amInterested || p.snubbed || p.room >= missing) continue;
      if (!pieces.some((i) => p.has(i))) continue;
      const ms = p.expectedQueueMs(now);
      if (ms < bestMs) { best = p; bestMs = ms; }
    }
    // Readahead requests are cancelled too: they would delay the read as much as any other.
    if (best && best.preempt((i) => urgent.has(i), now) > 0) best.fillRequests(true);
  }

  // ---- verification (PieceAssembler's host) -----------------------------------------------

  private assemblerHost(): AssemblerHost {
    return {
      isClosed: () => this.isClosed(),
      pieceWritten: (index, liars) => {
        for (const liar of liars) this.ban(liar, `sent a bad block of piece ${index}`);
        for (const p of this.peers.values()) p.sendHave(index);
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
    if (this.banned.has(key)) return;
    this.banned.add(key);
    this.dialer.remove(key);
    this.peers.get(key)?.close(new CtError('EPEER_BANNED', `banned: ${reason}`));
    this.emit('peer-banned', key, reason);
  }

  isBanned(key: string): boolean {
    return this.banned.has(key);
  }

  /** Every wanted piece is verified. Seeding (and dropping other seeds) only once all pieces are. */
  private onDone(): void {
    if (this.isComplete) {
      this.state = 'seeding';
      for (const p of this.peers.values()) if (p.isSeed) this.dropSeed(p);
    }
    for (const p of this.peers.values()) p.updateInterest();
    this.emit('done');
  }

  // ---- housekeeping --------------------------------------------------------------------------

  private tick(): void {
    const now = Date.now();
    for (const p of this.peers.values()) p.tick(now);
    this.rescueCritical(now);
    this.preemptForReaders(now);
    this.sendPex(now);
    if (this.ticks % RECHOKE_EVERY_TICKS === 0) this.rechoke();
    this.ticks++;
    this.dialDue();
    this.emit('stats', this.stats());
  }

  /**
   * A reader is waiting on blocks a peer has not delivered for a while: allow one more copy from
   * another peer (libtorrent does the same for time-critical pieces). A request is overdue after
   * a second, or three times the peer's time to deliver its queue at its current rate.
   */
  private rescueCritical(now: number): void {
    if (this.picker.criticalPieces.length === 0 || this.peers.size < 2) return;
    let marked = false;
    for (const p of this.peers.values()) {
      // A peer delivering nothing has no queue time to wait for: a second is enough.
      const rate = p.downloadRate.rate(now);
      const queueMs = (p.requestsInFlight * 16384 * 1000) / rate;
      const ageMs = rate > 0 ? Math.max(1000, Math.min(3 * queueMs, this.peerOptions.requestTimeoutMs)) : 1000;
      for (const ref of p.overdueRequests(now, ageMs, (i) => this.picker.isCritical(i))) {
        this.picker.markOverdue(ref.index, ref.begin);
        marked = true;
      }
    }
    if (marked) for (const p of this.peers.values()) p.fillRequests();
  }

  /** Dials again exactly when a retry is due instead of at the next one-second tick. */
  private scheduleDial(): void {
    const at = this.dialer.nextAttemptAt();
    if (at === undefined || this.isClosed()) return;
    clearTimeout(this.dialTimer);
    this.dialTimer = setTimeout(() => this.dialDue(), Math.max(0, at - Date.now()));
    this.dialTimer.unref();
  }

  private dialDue(): void {
    // A seeder dials only the peers it was given (transmission, for one, never dials loopback
    // peers itself); discovered leechers come to it, and other seeds have nothing for it.
    if (this.state !== 'downloading' && this.state !== 'seeding') return;
    const room = (this.opts.maxPeers ?? 50) - this.peers.size;
    for (const address of this.dialer.due(Date.now(), Math.max(0, room), this.state === 'seeding')) this.connect(address, this);
  }

  private rechoke(): void {
    const rotate = (this.ticks / RECHOKE_EVERY_TICKS) % OPTIMISTIC_EVERY_RECHOKES === 0;
    const now = Date.now();
    const candidates = [...this.peers.values()].map((p) => ({
      key: p.key,
      interested: p.peerInterested,
      downloadRate: p.downloadRate.rate(now),
      uploadedTotal: p.uploadRate.total,
      lastOptimistic: p.lastOptimistic,
    }));
    const decision = decideUnchokes(candidates, {
      slots: this.opts.uploadSlots ?? 8,
      seeding: this.state === 'seeding',
      rotateOptimistic: rotate,
      currentOptimistic: this.optimistic,
    });
    if (decision.optimistic !== this.optimistic && decision.optimistic) {
      const p = this.peers.get(decision.optimistic);
      if (p) p.lastOptimistic = now;
    }
    this.optimistic = decision.optimistic;
    for (const p of this.peers.values()) {
      if (decision.unchoke.has(p.key)) p.unchoke();
      else p.choke();
    }
  }

  private unchokedCount(): number {
    let n = 0;
    for (const p of this.peers.values()) if (!p.amChoking) n++;
    return n;
  }

  // ---- status and teardown -------------------------------------------------------------------

  stats(): TorrentStats {
    const have = this.picker.have.count;
    const verifiedBytes = this.picker.bytesHave;
    const wantedTotal = verifiedBytes + this.picker.bytesWantedRemaining;
    let seeds = 0;
    for (const p of this.peers.values()) if (p.isSeed) seeds++;
    return {
      state: this.state,
      verifiedBytes,
      totalBytes: this.metainfo.totalLength,
      progress: wantedTotal === 0 ? 1 : verifiedBytes / wantedTotal,
      piecesHave: have,
      piecesTotal: this.pieceCount,
      downloaded: this.downRate.total,
      uploaded: this.upRate.total,
      downloadRate: this.downRate.rate(),
      uploadRate: this.upRate.rate(),
      peers: this.peers.size,
      seeds,
      wasted: this.assembler.wasted,
      hashFailures: this.assembler.hashFailures,
      bannedPeers: this.banned.size,
      discovery: this.discoveryStatus?.(),
    };
  }

  peerList(): PeerInfo[] {
    const now = Date.now();
    return [...this.peers.values()].map((p) => ({
      address: p.key,
      client: p.clientName,
      outgoing: p.outgoing,
      downloadRate: p.downloadRate.rate(now),
      uploadRate: p.uploadRate.rate(now),
      progress: p.hasAll ? 1 : p.pieces.count / this.pieceCount,
      snubbed: p.snubbed,
      requests: p.requestsInFlight,
    }));
  }

  /** A method, not a field check, so TypeScript does not narrow `state` across awaits. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private fail(err: CtError): void {
    if (this.state === 'closed' || this.state === 'error') return;
    this.state = 'error';
    for (const p of this.peers.values()) p.close(new CtError('ECLOSED', `torrent stopped: ${err.message}`));
    this.emit('error', err);
  }

  async close(): Promise<void> {
    if (this.isClosed()) return;
    this.state = 'closed';
    this.emit('closed');
    clearInterval(this.timer);
    clearTimeout(this.dialTimer);
    this.waiters.close();
    for (const p of [...this.peers.values()]) p.close(new ClosedError('torrent closed'));
    this.peers.clear();
    this.cache.clear();
    await this.storage.close();
  }
}

