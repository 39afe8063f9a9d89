/**
 * One connected peer of one torrent: the protocol state (choke/interest, which pieces it has),
 * the download pipeline (requests kept in flight, timeouts, snubbing) and the upload queue
 * (bounded, served from the piece cache at the pace the socket drains). Torrent-wide decisions
 * (which block, who is unchoked, what to do with a block) belong to the `PeerHost`.
 */
import type { PexMessage } from './pex.js';
import { PexView, decodePex, encodePex } from './pex.js';
import { formatHostPort, parseHostPort } from '../util/address.js';
import { ADVERTISED_REQQ, CLIENT_VERSION, LOCAL_EXTENSION_IDS, encodeExtendedHandshake, parseExtendedHandshake, type OwnExtendedHandshake, type PeerExtendedHandshake } from './extensions.js';
import { MetadataServer } from './metadata-server.js';
import { BLOCK_SIZE, blockId } from '../wire/messages.js';
import type { BlockRequest, PickerPeer } from '../picker/piece-picker.js';
import { ProtocolError } from '../errors.js';
import { Bitfield } from '../util/bitfield.js';
import { RateMeter } from '../util/rate-meter.js';
import type { BlockRef, HandshakeInfo, WireMessage } from '../wire/messages.js';
import type { PeerWire } from '../wire/peer-wire.js';
import { RequestPipeline } from './request-pipeline.js';

/** What a PeerSession needs from its torrent. */
export interface PeerHost {
  readonly pieceCount: number;
  pieceSize(index: number): number;
  havePiece(index: number): boolean;
  /** Our bitfield, sent after the handshake. */
  ownBitfield(): Bitfield;
  wants(index: number): boolean;
  isInteresting(peer: PeerSession): boolean;
  pick(peer: PeerSession, count: number): BlockRequest[];
  onBlock(peer: PeerSession, index: number, begin: number, block: Buffer): void;
  /** Requests that will not be answered: give them back to the picker. */
  abandon(peer: PeerSession, refs: BlockRef[]): void;
  readBlock(index: number, begin: number, length: number): Promise<Buffer>;
  /** Availability bookkeeping: the peer announced pieces. */
  onPeerPieces(peer: PeerSession, pieces: Bitfield | 'all' | number): void;
  /** The peer replaced its piece set: these no longer count (a new set follows). */
  onPeerPiecesGone(peer: PeerSession, pieces: Bitfield | 'all'): void;
  onPeerInterest(peer: PeerSession): void;
  /** The connection ended; `reason` says why (ours or the peer's doing). */
  onPeerClosed(peer: PeerSession, reason: Error): void;
  /** What our extension handshake offers (ut_pex only for public torrents, our metadata size). */
  extensionOffer(): Omit<OwnExtendedHandshake, 'clientVersion' | 'reqq'>;
  readonly infoHash: Buffer;
  /** The info dictionary we serve over ut_metadata. */
  readonly infoBytes: Buffer;
  /** Addresses a peer told us about over ut_pex. */
  onPex(peer: PeerSession, msg: PexMessage): void;
}

export interface PeerSessionOptions {
  /** No block for this long while requests are out: the peer is snubbed, its requests re-picked. */
  requestTimeoutMs: number;
  /** Queued upload requests per peer; more are rejected (bittorrent-protocol queues unbounded). */
  maxUploadQueue: number;
  /** Stop reading blocks for a peer while this much is waiting in its socket. */
  maxUploadBacklog: number;
  clientVersion: string;
}

export const DEFAULT_PEER_OPTIONS: PeerSessionOptions = {
  requestTimeoutMs: 20_000,
  maxUploadQueue: ADVERTISED_REQQ,
  maxUploadBacklog: 1024 * 1024,
  clientVersion: CLIENT_VERSION,
};

interface Outstanding { ref: BlockRef; sentAt: number }

/**
 * ut_pex messages closer together than this are ignored (BEP 11 asks for one a minute at most;
 * tests set the engine's pex interval lower, so the gap stays well below a second).
 */
export const PEX_MIN_GAP_MS = 500;

/** How long after the last block an open request that was overtaken counts as lost. */
const LOST_AFTER_MS = 2000;


export class PeerSession implements PickerPeer {
  peerChoking = true;
  peerInterested = false;
  amChoking = true;
  amInterested = false;
  /** Pieces the peer has; `hasAll` short-cuts seeders that sent have-all. */
  pieces: Bitfield;
  hasAll = false;
  private gotBitfield = false;
  readonly fast: boolean;
  readonly extended: boolean;
  /** From the handshake: one peer reached at two addresses (PEX, incoming and outgoing) is one peer. */
  readonly peerId: Buffer;
  /** The IP address part of `key` (per-address limits count by it). */
  readonly ip: string;
  /** The peer's BEP 10 handshake fields we use. */
  clientName = '';
  /** The peer's extension handshake, once it arrived. */
  peerExtensions: PeerExtendedHandshake | undefined;
  /** Serves our info dictionary over ut_metadata; made on the first request. */
  private metadata: MetadataServer | undefined;
  /** What this peer has been told over ut_pex, so each message carries only changes. */
  readonly pexView = new PexView();
  /** When the peer last sent ut_pex: more often than PEX_MIN_GAP_MS is flooding, ignored. */
  private lastPexReceivedAt = 0;
  private readonly outstanding = new Map<number, Outstanding>();
  /**
   * Requests we cancelled to let a critical block overtake them (see preempt()). The picker still
   * counts them as requested: a fast-extension peer answers each cancel with the block or a
   * reject (BEP 6), and libtorrent usually sends the block because it is already in its send
   * buffer, so re-requesting it elsewhere at once would fetch it twice.
   */
  private readonly cancelled = new Map<number, Outstanding>();
  /** When preempt() last ran, so a stream of reads does not churn the queue. */
  private lastPreemptAt = 0;
  readonly pipeline = new RequestPipeline();
  readonly downloadRate = new RateMeter();
  readonly uploadRate = new RateMeter();
  /** When the newest request that was answered had been sent (see resendLost()). */
  private newestAnsweredSentAt = 0;
  /** Last time a requested block arrived, or requests were (re)started after an idle period. */
  private lastProgressAt = Date.now();
  snubbed = false;
  private readonly uploadQueue: BlockRef[] = [];
  private uploadsInFlight = 0;
  /** Used by the choker's optimistic rotation. */
  lastOptimistic = 0;
  readonly connectedAt = Date.now();
  private closed = false;

  constructor(
    readonly wire: PeerWire,
    /** address:port; for outgoing peers the dialed address, so bans and retries match it. */
    readonly key: string,
    readonly outgoing: boolean,
    handshake: HandshakeInfo,
    private readonly host: PeerHost,
    private readonly opts: PeerSessionOptions = DEFAULT_PEER_OPTIONS,
  ) {
    this.pieces = new Bitfield(host.pieceCount);
    this.fast = handshake.fast;
    this.extended = handshake.extended;
    // A copy: the handshake may be a view into a read buffer that the next read overwrites.
    this.peerId = Buffer.from(handshake.peerId);
    this.ip = parseHostPort(key).host;
    wire.on('message', (msg) => {
      try {
        this.onMessage(msg);
      } catch (err) {
        wire.destroy(err as Error);
      }
    });
    wire.on('drain', () => this.serveUploads());
    wire.on('close', (err) => this.onClose(err));
  }

  /** Sends what follows the handshake: extension handshake and our pieces. */
  start(): void {
    if (this.extended) {
      this.wire.extended(0, encodeExtendedHandshake({ ...this.host.extensionOffer(), clientVersion: this.opts.clientVersion, reqq: this.opts.maxUploadQueue }));
    }
    const own = this.host.ownBitfield();
    if (this.fast && own.complete) this.wire.haveAll();
    else if (this.fast && own.count === 0) this.wire.haveNone();
    else if (own.count > 0) this.wire.bitfield(own.bytes);
  }

  has(index: number): boolean {
    return this.hasAll || this.pieces.get(index);
  }

  hasRequested(index: number, begin: number): boolean {
    const key = blockId(index, begin);
    return this.outstanding.has(key) || this.cancelled.has(key);
  }

  get requestsInFlight(): number {
    return this.outstanding.size;
  }

  get isSeed(): boolean {
    return this.hasAll || this.pieces.complete;
  }

  // ---- incoming messages ---------------------------------------------------------------------

  private onMessage(msg: WireMessage): void {
    switch (msg.type) {
      case 'choke': return this.onChoke();
      case 'unchoke':
        this.peerChoking = false;
        this.lastProgressAt = Date.now();
        return this.fillRequests();
      case 'interested':
        this.peerInterested = true;
        return this.host.onPeerInterest(this);
      case 'not-interested':
        this.peerInterested = false;
        return this.host.onPeerInterest(this);
      case 'have': return this.onHave(msg.index);
      case 'bitfield': return this.onBitfield(msg.bytes);
      case 'have-all': return this.onHaveAll();
      case 'have-none': return this.onHaveNone();
      case 'request': return this.onRequest(msg);
      case 'cancel': return this.onCancel(msg);
      case 'piece': return this.onPiece(msg.index, msg.begin, msg.block);
      case 'reject': return this.onReject(msg);
      case 'extended':
        if (msg.id === 0) this.onExtendedHandshake(msg.payload);
        else if (msg.id === LOCAL_EXTENSION_IDS.ut_metadata) this.onMetadataMessage(msg.payload);
        else if (msg.id === LOCAL_EXTENSION_IDS.ut_pex) this.onPexMessage(msg.payload);
        return;
      default:
        return; // keep-alive, port, suggest, allowed-fast, unknown ids: nothing to do
    }
  }

  private requireFast(what: string): void {
    if (!this.fast) throw new ProtocolError(`${what} without the fast extension`);
  }

  private checkIndex(index: number, what: string): void {
    if (index >= this.host.pieceCount) throw new ProtocolError(`${what} for piece ${index} of ${this.host.pieceCount}`);
  }

  /**
   * A bitfield, have-all or have-none replaces what the peer had said before. libtorrent accepts
   * a later one too, and aria2 relies on it: it sends have-none first and a full bitfield later
   * instead of haves (closing on a "second bitfield" stalled aria2 at ~10%, issue 10).
   */
  private onBitfield(bytes: Buffer): void {
    if (!Bitfield.isValidWire(bytes, this.host.pieceCount)) {
      throw new ProtocolError(`bitfield of ${bytes.length} bytes for ${this.host.pieceCount} pieces`);
    }
    this.forgetPieces();
    this.gotBitfield = true;
    this.pieces = new Bitfield(this.host.pieceCount, bytes);
    this.host.onPeerPieces(this, this.pieces);
    this.updateInterest();
  }

  private onHaveAll(): void {
    this.requireFast('have-all');
    this.forgetPieces();
    this.gotBitfield = true;
    this.hasAll = true;
    this.host.onPeerPieces(this, 'all');
    this.updateInterest();
  }

  private onHaveNone(): void {
    this.requireFast('have-none');
    this.forgetPieces();
    this.gotBitfield = true;
    this.updateInterest();
  }

  /** Takes back the availability this peer announced so far (before a new piece set). */
  private forgetPieces(): void {
    if (!this.gotBitfield) return;
    if (this.hasAll) this.host.onPeerPiecesGone(this, 'all');
    else if (this.pieces.count > 0) this.host.onPeerPiecesGone(this, this.pieces);
    this.hasAll = false;
    this.pieces = new Bitfield(this.host.pieceCount);
  }

  private onHave(index: number): void {
    this.checkIndex(index, 'have');
    this.gotBitfield = true;
    if (this.has(index)) return;
    this.pieces.set(index);
    this.host.onPeerPieces(this, index);
    if (!this.amInterested && this.host.wants(index)) this.setInterested(true);
    else if (this.amInterested) this.fillRequests();
  }

  private onExtendedHandshake(payload: Buffer): void {
    const hs = parseExtendedHandshake(payload);
    if (!hs) return; // a broken extension handshake is not worth a disconnect
    // A later handshake updates the earlier one (BEP 10 allows re-sending it).
    this.peerExtensions = hs;
    if (hs.reqq !== undefined && hs.reqq > 0) this.pipeline.peerLimit = Math.min(hs.reqq, 5000);
    if (hs.client) this.clientName = hs.client;
  }

  private onMetadataMessage(payload: Buffer): void {
    const id = this.peerExtensions?.ids.ut_metadata;
    if (!id) return; // it never offered ut_metadata: nothing to answer
    this.metadata ??= new MetadataServer(this.host.infoBytes, (p) => { if (!this.closed) this.wire.extended(id, p); });
    this.metadata.onMessage(payload);
  }

  private onPexMessage(payload: Buffer): void {
    const now = Date.now();
    if (now - this.lastPexReceivedAt < PEX_MIN_GAP_MS) return;
    this.lastPexReceivedAt = now;
    this.host.onPex(this, decodePex(payload));
  }

  /** True when the peer takes ut_pex messages. */
  get acceptsPex(): boolean {
    return !!this.peerExtensions?.ids.ut_pex;
  }

  sendPex(msg: PexMessage): void {
    const id = this.peerExtensions?.ids.ut_pex;
    if (id && !this.closed) this.wire.extended(id, encodePex(msg));
  }

  /**
   * Where others can reach this peer: the dialed address for outgoing connections; for incoming
   * ones the remote host with the listen port from its extension handshake (if it gave one).
   */
  get listenAddress(): string | undefined {
    if (this.outgoing) return this.key;
    const port = this.peerExtensions?.listenPort;
    if (!port) return undefined;
    return formatHostPort({ host: parseHostPort(this.key).host, port });
  }

  private onChoke(): void {
    this.peerChoking = true;
    // Without the fast extension a choke silently discards every pending request; with it the
    // peer rejects them one by one (BEP 6), so they stay outstanding until then.
    if (!this.fast) this.abandonAll();
  }

  private onReject(ref: BlockRef): void {
    this.requireFast('reject');
    const key = blockId(ref.index, ref.begin);
    const out = this.outstanding.get(key) ?? this.cancelled.get(key);
    if (!out) return;
    this.outstanding.delete(key);
    this.cancelled.delete(key);
    this.host.abandon(this, [out.ref]);
  }

  private onPiece(index: number, begin: number, block: Buffer): void {
    this.checkIndex(index, 'piece');
    const key = blockId(index, begin);
    // A block we cancelled for a critical one but the peer had already queued is still welcome.
    const out = this.outstanding.get(key) ?? this.cancelled.get(key);
    if (!out) return; // unrequested, or cancelled by endgame: ignore the bytes
    if (out.ref.length !== block.length) throw new ProtocolError(`block ${index}:${begin} of ${block.length} bytes, requested ${out.ref.length}`);
    this.outstanding.delete(key);
    this.cancelled.delete(key);
    const now = Date.now();
    if (out.sentAt > this.newestAnsweredSentAt) this.newestAnsweredSentAt = out.sentAt;
    this.lastProgressAt = now;
    this.snubbed = false;
    this.downloadRate.add(block.length, now);
    this.pipeline.onBlock();
    this.host.onBlock(this, index, begin, block);
    this.fillRequests();
  }

  // ---- download side -------------------------------------------------------------------------

  /**
   * Tops the pipeline up with blocks from the picker. `now` skips the batching rule below: a
   * reader is waiting and the free room goes to its blocks at once.
   */
  fillRequests(now = false): void {
    if (this.closed || this.peerChoking || !this.amInterested) return;
    const depth = this.snubbed ? 1 : this.pipeline.depth;
    const want = depth - this.outstanding.size;
    // Refill in batches, not one request per received block: each refill is a picker pass and a
    // socket write (profiled: one writev per block cost ~6% of the CPU at 1 GiB; batches of 16
    // still made ~2,500 write syscalls per GiB, batches of up to 64 a quarter of that).
    if (want <= 0 || (!now && want < Math.min(64, depth >> 2) && this.outstanding.size > 0)) return;
    const blocks = this.host.pick(this, want);
    if (blocks.length === 0) {
      if (this.outstanding.size === 0) this.updateInterest();
      return;
    }
    const at = Date.now();
    if (this.outstanding.size === 0) this.lastProgressAt = at;
    for (const b of blocks) {
      this.outstanding.set(blockId(b.index, b.begin), { ref: b, sentAt: at });
      this.wire.request(b);
    }
  }

  /** Requests for critical pieces outstanding longer than `ageMs`: candidates for a second copy. */
  overdueRequests(now: number, ageMs: number, isCritical: (index: number) => boolean): BlockRef[] {
    const out: BlockRef[] = [];
    for (const o of this.outstanding.values()) if (now - o.sentAt > ageMs && isCritical(o.ref.index)) out.push(o.ref);
    return out;
  }

  /** How long this peer needs to deliver what we asked of it, at its current rate (ms). */
  expectedQueueMs(now: number): number {
    if (this.outstanding.size === 0) return 0;
    const rate = this.downloadRate.rate(now);
    return rate > 0 ? (this.outstanding.size * BLOCK_SIZE * 1000) / rate : Infinity;
  }

  /** Free pipeline slots right now. */
  get room(): number {
    return (this.snubbed ? 1 : this.pipeline.depth) - this.outstanding.size;
  }

  /**
   * Makes a critical block overtake this peer's queue: cancels the queued requests that are not
   * critical, except the oldest ones the peer is most likely sending already (about `keepMs` of
   * them at its current rate), so the critical requests sent next are served after those only.
   * Peers serve requests in order, so cancelling only the tail would not help. Runs at most
   * once per `minIntervalMs`; returns how many requests were cancelled.
   */
  preempt(isCritical: (index: number) => boolean, now: number, keepMs = 250, minIntervalMs = 1000): number {
    if (this.closed || this.peerChoking || now - this.lastPreemptAt < minIntervalMs) return 0;
    const keep = Math.max(2, Math.ceil((this.downloadRate.rate(now) * keepMs) / 1000 / BLOCK_SIZE));
    let seen = 0;
    let cancelled = 0;
    for (const [key, o] of this.outstanding) {
      if (seen++ < keep || isCritical(o.ref.index)) continue;
      this.outstanding.delete(key);
      this.cancelled.set(key, { ref: o.ref, sentAt: now });
      this.wire.cancel(o.ref);
      cancelled++;
    }
    if (cancelled > 0) this.lastPreemptAt = now;
    return cancelled;
  }

  /** Withdraws a request another peer answered first (endgame). */
  cancel(index: number, begin: number): void {
    const key = blockId(index, begin);
    this.cancelled.delete(key); // already cancelled by preempt(): just stop waiting for it
    const out = this.outstanding.get(key);
    if (!out) return;
    this.outstanding.delete(key);
    this.wire.cancel(out.ref);
  }

  updateInterest(): void {
    this.setInterested(this.host.isInteresting(this));
  }

  private setInterested(value: boolean): void {
    if (value === this.amInterested || this.closed) return;
    this.amInterested = value;
    if (value) this.wire.interested();
    else this.wire.notInterested();
    if (value) this.fillRequests();
  }

  /** Called about once a second by the torrent. */
  tick(now: number): void {
    this.pipeline.onRateSample(this.downloadRate.rate(now));
    this.expireCancelled(now);
    this.resendLost(now);
    if (this.outstanding.size > 0 && !this.snubbed && now - this.lastProgressAt > this.opts.requestTimeoutMs) {
      // The peer sits on our requests: hand them to others and ask it for one block at a time.
      this.snubbed = true;
      this.pipeline.onSnubbed();
      this.abandonAll();
      this.lastProgressAt = now;
    }
    this.fillRequests();
  }

  /**
   * Peers serve requests in order, so a request still open while one sent after it was answered
   * more than LOST_AFTER_MS ago was dropped (transmission 3.00 drops one now and then and rejects
   * it ~10 s later; a download's last piece waited for exactly that in every run). Such requests
   * are sent again; a copy that still arrives twice costs one block.
   */
  private resendLost(now: number): void {
    if (this.peerChoking || this.outstanding.size === 0 || now - this.lastProgressAt < LOST_AFTER_MS) return;
    for (const o of this.outstanding.values()) {
      if (o.sentAt >= this.newestAnsweredSentAt) continue;
      o.sentAt = now;
      this.wire.request(o.ref);
    }
  }

  /**
   * A peer without the fast extension never confirms a cancel: after a few seconds without the
   * block, give it back to the picker. (A fast peer answers with the block or a reject.)
   */
  private expireCancelled(now: number): void {
    if (this.cancelled.size === 0) return;
    const expired: BlockRef[] = [];
    const limit = this.fast ? this.opts.requestTimeoutMs : 3000;
    for (const [key, o] of this.cancelled) {
      if (now - o.sentAt < limit) continue;
      this.cancelled.delete(key);
      expired.push(o.ref);
    }
    if (expired.length > 0) this.host.abandon(this, expired);
  }

  private abandonAll(): void {
    if (this.outstanding.size === 0 && this.cancelled.size === 0) return;
    const refs = [...this.outstanding.values(), ...this.cancelled.values()].map((o) => o.ref);
    this.outstanding.clear();
    this.cancelled.clear();
    this.host.abandon(this, refs);
  }

  // ---- upload side ---------------------------------------------------------------------------

  sendHave(index: number): void {
    this.wire.have(index);
  }

  choke(): void {
    if (this.amChoking) return;
    this.amChoking = true;
    this.wire.choke();
    if (this.fast) for (const ref of this.uploadQueue) this.wire.reject(ref);
    this.uploadQueue.length = 0;
  }

  unchoke(): void {
    if (!this.amChoking) return;
    this.amChoking = false;
    this.wire.unchoke();
  }

  private onRequest(ref: BlockRef): void {
    const valid = ref.index < this.host.pieceCount && this.host.havePiece(ref.index) && ref.length > 0 &&
      ref.length <= 128 * 1024 && ref.begin + ref.length <= this.host.pieceSize(ref.index);
    if (!valid || this.amChoking || this.uploadQueue.length >= this.opts.maxUploadQueue) {
      if (this.fast) this.wire.reject(ref);
      return;
    }
    this.uploadQueue.push(ref);
    this.serveUploads();
  }

  private onCancel(ref: BlockRef): void {
    const i = this.uploadQueue.findIndex((r) => r.index === ref.index && r.begin === ref.begin && r.length === ref.length);
    if (i < 0) return;
    this.uploadQueue.splice(i, 1);
    // BEP 6: with the fast extension every cancelled request is answered, here with a reject.
    if (this.fast) this.wire.reject(ref);
  }

  private serveUploads(): void {
    while (!this.closed && this.uploadQueue.length > 0 && this.uploadsInFlight < 8 && this.wire.writeBacklog < this.opts.maxUploadBacklog) {
      const ref = this.uploadQueue.shift() as BlockRef;
      this.uploadsInFlight++;
      this.host.readBlock(ref.index, ref.begin, ref.length).then(
        (block) => {
          if (this.closed || this.amChoking) return;
          this.wire.piece(ref.index, ref.begin, block);
          this.uploadRate.add(block.length);
        },
        () => { if (this.fast && !this.closed) this.wire.reject(ref); },
      ).finally(() => {
        this.uploadsInFlight--;
        this.serveUploads();
      });
    }
  }

  // ---- teardown ------------------------------------------------------------------------------

  /** Ends the connection; `reason` reaches `peer-disconnected`. */
  close(reason: Error): void {
    this.wire.destroy(reason);
  }

  private onClose(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.abandonAll();
    this.uploadQueue.length = 0;
    this.host.onPeerClosed(this, err);
  }
}
