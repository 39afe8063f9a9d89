/**
 * One connected peer of one torrent: the protocol state (choke/interest, which pieces it has),
 * the download pipeline (requests kept in flight, timeouts, snubbing) and the upload queue
 * (bounded, served from the piece cache at the pace the socket drains). Torrent-wide decisions
 * (which block, who is unchoked, what to do with a block) belong to the `PeerHost`.
 */
import type { PexMessage } from './pex.js';
import type { PexView } from './pex.js';
import { formatHostPort, parseHostPort } from '../util/address.js';
import type { PeerExtendedHandshake } from './extensions.js';
import { DEFAULT_PEER_OPTIONS, type PeerSessionOptions } from './peer-options.js';
import { ExtensionChannel } from './extension-channel.js';
import { BLOCK_SIZE } from '../wire/messages.js';
import type { PickerPeer } from '../picker/piece-picker.js';
import { ProtocolError } from '../errors.js';
import { Bitfield } from '../util/bitfield.js';
import { RateMeter } from '../util/rate-meter.js';
import type { BlockRef, HandshakeInfo, WireMessage } from '../wire/messages.js';
import type { PeerConnection } from '../wire/peer-connection.js';
import { OutstandingRequests } from './outstanding-requests.js';
import { PeerPieces, type AnnouncedPieces } from './peer-pieces.js';
import { RequestPipeline } from './request-pipeline.js';
import type { PeerHostOf } from './peer-host.js';
import { UploadQueue } from './upload-queue.js';

/** What a PeerSession needs from its torrent (peer-host.ts). */
export type PeerHost = PeerHostOf<PeerSession>;

/** How long after the last block an open request that was overtaken counts as lost. */
const LOST_AFTER_MS = 2000;
/** A peer without the fast extension never confirms a cancel: give it up after this long. */
const CANCEL_EXPIRY_SLOW_PEER_MS = 3000;
/** A peer's BEP 10 `reqq` above this is not believed. */
const MAX_PEER_REQQ = 5000;

export class PeerSession implements PickerPeer {
  peerChoking = true;
  peerInterested = false;
  amChoking = true;
  amInterested = false;
  /** What the peer says it has. */
  private readonly pieceSet: PeerPieces;
  readonly fast: boolean;
  readonly extended: boolean;
  /** From the handshake: one peer reached at two addresses (PEX, incoming and outgoing) is one peer. */
  readonly peerId: Buffer;
  /** The IP address part of `key` (per-address limits count by it). */
  readonly ip: string;
  /** BEP 10 and what runs over it (ut_metadata serving, ut_pex). */
  private readonly extensions: ExtensionChannel;
  /** Our requests to it, and those cancelled but perhaps still answered. */
  private readonly requests = new OutstandingRequests();
  /** The block being received in place right now (its piece and offset), if any. */
  private landing: { index: number; begin: number } | undefined;
  /** When preempt() last ran, so a stream of reads does not churn the queue. */
  private lastPreemptAt = 0;
  readonly pipeline = new RequestPipeline();
  readonly downloadRate = new RateMeter();
  readonly uploadRate = new RateMeter();
  /** Last time a requested block arrived, or requests were (re)started after an idle period. */
  private lastProgressAt = Date.now();
  snubbed = false;
  private readonly uploads: UploadQueue;
  /** Used by the choker's optimistic rotation. */
  lastOptimistic = 0;
  readonly connectedAt = Date.now();
  private closed = false;
  /** The socket's reads, as the download limit pauses and resumes them. */
  private readonly socketReads = { pause: () => this.wire.pauseReads?.(), resume: () => this.wire.resumeReads?.() };

  constructor(
    readonly wire: PeerConnection,
    /** address:port; for outgoing peers the dialed address, so bans and retries match it. */
    readonly key: string,
    readonly outgoing: boolean,
    handshake: HandshakeInfo,
    private readonly host: PeerHost,
    private readonly opts: PeerSessionOptions = DEFAULT_PEER_OPTIONS,
  ) {
    this.pieceSet = new PeerPieces(host.pieceCount);
    this.fast = handshake.fast;
    this.extended = handshake.extended;
    // A copy: the handshake may be a view into a read buffer that the next read overwrites.
    this.peerId = Buffer.from(handshake.peerId);
    this.ip = parseHostPort(key).host;
    this.extensions = new ExtensionChannel(wire, host.infoBytes, (msg) => host.onPex(this, msg));
    this.uploads = new UploadQueue(wire, this.fast, host, { maxQueue: opts.maxUploadQueue, maxBacklog: opts.maxUploadBacklog },
      () => !this.closed && !this.amChoking, (bytes) => {
        this.uploadRate.add(bytes);
        host.bandwidth.sent(bytes, this.uploads);
      });
    wire.setReadMeter?.((bytes) => host.bandwidth.received(bytes, this.socketReads));
    wire.on('message', (msg) => {
      try {
        this.onMessage(msg);
      } catch (err) {
        wire.destroy(err as Error);
      }
    });
    wire.on('drain', () => this.uploads.serve());
    wire.setPieceTarget?.((index, begin, length) => this.landingTarget(index, begin, length));
    wire.on('close', (err) => this.onClose(err));
  }

  /** Sends what follows the handshake: extension handshake and our pieces. */
  start(): void {
    if (this.extended) {
      this.extensions.sendHandshake({ ...this.host.extensionOffer(), clientVersion: this.opts.clientVersion, reqq: this.opts.maxUploadQueue });
    }
    const own = this.host.ownBitfield();
    if (this.fast && own.complete) this.wire.haveAll();
    else if (this.fast && own.count === 0) this.wire.haveNone();
    else if (own.count > 0) this.wire.bitfield(own.bytes);
  }

  has(index: number): boolean {
    return this.pieceSet.has(index);
  }

  hasRequested(index: number, begin: number): boolean {
    return this.requests.has(index, begin);
  }

  get requestsInFlight(): number {
    return this.requests.size;
  }

  get isSeed(): boolean {
    return this.pieceSet.isSeed;
  }

  /** It sent have-all (its bitfield stays empty then). */
  get hasAll(): boolean { return this.pieceSet.hasAll; }
  /** 0..1 of the torrent the peer has. */
  get progress(): number { return this.pieceSet.fraction; }
  /** What it announced, as the torrent's availability counts it (undefined: nothing). */
  announcedPieces(): AnnouncedPieces | undefined { return this.pieceSet.current(); }

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
      case 'have-all':
        this.requireFast('have-all');
        return this.replacePieces('all');
      case 'have-none':
        this.requireFast('have-none');
        return this.replacePieces('none');
      case 'request': return this.uploads.request(msg);
      case 'cancel': return this.uploads.cancel(msg);
      case 'piece': return this.onPiece(msg.index, msg.begin, msg.block);
      case 'reject': return this.onReject(msg);
      case 'extended':
        return this.onExtended(msg.id, msg.payload);
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

  /** A bitfield, have-all or have-none replaces what the peer had said before (see PeerPieces). */
  private onBitfield(bytes: Buffer): void {
    if (!Bitfield.isValidWire(bytes, this.host.pieceCount)) {
      throw new ProtocolError(`bitfield of ${bytes.length} bytes for ${this.host.pieceCount} pieces`);
    }
    this.replacePieces(new Bitfield(this.host.pieceCount, bytes));
  }

  private replacePieces(next: Bitfield | 'all' | 'none'): void {
    const gone = this.pieceSet.replace(next);
    if (gone) this.host.onPeerPiecesGone(this, gone);
    if (next !== 'none') this.host.onPeerPieces(this, next);
    this.updateInterest();
  }

  private onHave(index: number): void {
    this.checkIndex(index, 'have');
    if (!this.pieceSet.add(index)) return;
    this.host.onPeerPieces(this, index);
    if (!this.amInterested && this.host.wants(index)) this.setInterested(true);
    else if (this.amInterested) this.fillRequests();
  }

  private onExtended(id: number, payload: Buffer): void {
    const hs = this.extensions.onMessage(id, payload);
    if (!hs) return;
    if (hs.reqq !== undefined && hs.reqq > 0) this.pipeline.peerLimit = Math.min(hs.reqq, MAX_PEER_REQQ);
  }

  /** The peer's extension handshake, once it arrived. */
  get peerExtensions(): PeerExtendedHandshake | undefined { return this.extensions.peer; }
  /** The client name from its extension handshake ('' until then). */
  get clientName(): string { return this.extensions.peer?.client ?? ''; }
  /** What this peer has been told over ut_pex, so each message carries only changes. */
  get pexView(): PexView { return this.extensions.pexView; }
  /** True when the peer takes ut_pex messages. */
  get acceptsPex(): boolean { return this.extensions.acceptsPex; }
  sendPex(msg: PexMessage): void { if (!this.closed) this.extensions.sendPex(msg); }

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
    const out = this.requests.answered(ref.index, ref.begin);
    if (out) this.host.abandon(this, [out.ref]);
  }

  /** A block we asked this peer for (and only this peer) may be received into its piece buffer. */
  private landingTarget(index: number, begin: number, length: number): Buffer | undefined {
    if (this.closed || index >= this.host.pieceCount || !this.requests.isOpen(index, begin, length)) return undefined;
    const target = this.host.landingTarget(this, index, begin, length);
    if (target) this.landing = { index, begin };
    return target;
  }

  /** A request is given up while its block lands: the rest of its bytes must go elsewhere. */
  private abortLanding(): void {
    if (!this.landing) return;
    this.landing = undefined;
    this.wire.abortLanding?.();
  }

  private onPiece(index: number, begin: number, block: Buffer): void {
    if (this.landing?.index === index && this.landing.begin === begin) this.landing = undefined;
    this.checkIndex(index, 'piece');
    // A block we cancelled for one under a read but the peer had already queued is still welcome.
    const out = this.requests.answered(index, begin);
    if (!out) return; // unrequested, or withdrawn in endgame: ignore the bytes
    if (out.ref.length !== block.length) throw new ProtocolError(`block ${index}:${begin} of ${block.length} bytes, requested ${out.ref.length}`);
    const now = Date.now();
    this.requests.delivered(out);
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
    const depth = this.depth;
    const want = depth - this.requests.size;
    // Refill in batches, not one request per received block: each refill is a picker pass and a
    // socket write (profiled: one writev per block cost ~6% of the CPU at 1 GiB; batches of 16
    // still made ~2,500 write syscalls per GiB, batches of up to 64 a quarter of that).
    if (want <= 0 || (!now && want < Math.min(64, depth >> 2) && this.requests.size > 0)) return;
    const blocks = this.host.pick(this, want);
    if (blocks.length === 0) {
      if (this.requests.size === 0) this.updateInterest();
      return;
    }
    const at = Date.now();
    if (this.requests.size === 0) this.lastProgressAt = at;
    this.requests.sent(blocks, at);
    for (const b of blocks) this.wire.request(b);
  }

  /** Requests for pieces `select` picks, outstanding longer than `ageMs`: candidates for a second copy. */
  overdueRequests(now: number, ageMs: number, select: (index: number) => boolean): BlockRef[] {
    return this.requests.overdue(now, ageMs, select);
  }

  /** How long this peer needs to deliver what we asked of it, at its current rate (ms). */
  expectedQueueMs(now: number): number {
    return this.requests.expectedMs(this.downloadRate.rate(now));
  }

  /** Free pipeline slots right now. */
  get room(): number {
    return this.depth - this.requests.size;
  }

  /** True while this peer sends us blocks or may: it unchoked us and has pieces we want. */
  get downloadingFrom(): boolean {
    return !this.closed && !this.peerChoking && this.amInterested;
  }

  /** Requests to keep out: the pipeline's depth within this peer's share of the open pieces. */
  private get depth(): number {
    return this.snubbed ? 1 : Math.min(this.pipeline.depth, this.host.requestShare(this));
  }

  /**
   * Makes blocks under a read overtake this peer's queue: cancels the queued requests for other
   * pieces, except the oldest ones the peer is most likely sending already (about `keepMs` of
   * them at its current rate), so the requests sent next are served after those only. Peers
   * serve requests in order, so cancelling only the tail would not help. Runs at most once per
   * `minIntervalMs`; returns how many requests were cancelled.
   */
  preempt(isUnderRead: (index: number) => boolean, now: number, keepMs = 250, minIntervalMs = 1000): number {
    if (this.closed || this.peerChoking || now - this.lastPreemptAt < minIntervalMs) return 0;
    const keep = Math.max(2, Math.ceil((this.downloadRate.rate(now) * keepMs) / 1000 / BLOCK_SIZE));
    // A block landing now is arriving as we speak: never cancelled.
    const landingPiece = this.landing?.index;
    const cancelled = this.requests.preempt(keep, (i) => i === landingPiece || isUnderRead(i), now);
    for (const ref of cancelled) this.wire.cancel(ref);
    if (cancelled.length > 0) this.lastPreemptAt = now;
    return cancelled.length;
  }

  /** Withdraws a request another peer answered first (endgame). */
  cancel(index: number, begin: number): void {
    if (this.landing?.index === index && this.landing.begin === begin) this.abortLanding();
    const ref = this.requests.withdraw(index, begin);
    if (ref) this.wire.cancel(ref);
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
    if (this.requests.size > 0 && !this.snubbed && now - this.lastProgressAt > this.opts.requestTimeoutMs) {
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
    if (this.peerChoking || this.requests.size === 0 || now - this.lastProgressAt < LOST_AFTER_MS) return;
    for (const ref of this.requests.lost(now)) this.wire.request(ref);
  }

  /**
   * A peer without the fast extension never confirms a cancel: after a few seconds without the
   * block, give it back to the picker. (A fast peer answers with the block or a reject.)
   */
  private expireCancelled(now: number): void {
    const expired = this.requests.expireCancelled(now, this.fast ? this.opts.requestTimeoutMs : CANCEL_EXPIRY_SLOW_PEER_MS);
    if (expired.length > 0) this.host.abandon(this, expired);
  }

  private abandonAll(): void {
    this.abortLanding();
    if (this.requests.isEmpty) return;
    this.host.abandon(this, this.requests.takeAll());
  }

  // ---- upload side ---------------------------------------------------------------------------

  sendHave(index: number): void {
    this.wire.have(index);
  }

  choke(): void {
    if (this.amChoking) return;
    this.amChoking = true;
    this.wire.choke();
    this.uploads.choked();
  }

  unchoke(): void {
    if (!this.amChoking) return;
    this.amChoking = false;
    this.wire.unchoke();
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
    this.uploads.stop();
    this.host.bandwidth.forget(this.uploads);
    this.host.bandwidth.forget(this.socketReads);
    this.host.onPeerClosed(this, err);
  }
}
