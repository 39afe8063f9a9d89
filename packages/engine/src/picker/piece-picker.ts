/**
 * Decides which blocks to request from which peer. Pure logic: no sockets, no timers, no clock;
 * PeerSession asks "give me up to N blocks this peer has" and reports what happened to them.
 *
 * Order of preference for a peer:
 *   0. pieces with a deadline (a reader is waiting on them), earliest deadline first, block by
 *      block, whatever their rarity;
 *   1. partial pieces the peer has (finish what is started: fewer pieces in memory, earlier
 *      verification, earlier `have` for other peers), most complete first;
 *   2. new pieces by priority (highest first), then rarest first, ties broken by a random rank
 *      fixed at start (so swarms spread out without reshuffling on every pick). The rank is random
 *      per extent of ~4 MiB and in file order inside one (libtorrent's piece_extent_affinity):
 *      peers still spread over the torrent, and pieces verified together are neighbours on disk,
 *      so their writes merge (32,768 16 KiB pieces were 32,768 writes);
 *   3. endgame: once every wanted block is requested, blocks already requested from other peers
 *      (at most `endgameDuplicates` requests per block); the first copy to arrive wins and the
 *      torrent withdraws the rest.
 *
 * Priorities: 0 means "do not download"; 1..7 rank pieces (4 is the default). Per-file priorities
 * and streaming deadlines map onto piece priorities, so the order above carries them unchanged.
 */
import { BLOCK_SIZE, blockId, pieceOfBlock, type BlockId } from '../wire/messages.js';
import { Bitfield } from '../util/bitfield.js';
import { BlockState, PartialPiece } from './partial-piece.js';

export const DEFAULT_PRIORITY = 4;
/** Pieces of one extent are ranked in order (see 2. above). */
const EXTENT_BYTES = 4 * 1024 * 1024;
export const MAX_PRIORITY = 7;

export interface BlockRequest { index: number; begin: number; length: number }

/** What the picker needs to know of a peer. */
export interface PickerPeer {
  /** Stable key (address:port) used for hash-failure attribution. */
  readonly key: string;
  has(index: number): boolean;
  /** True when this peer already has a request out for the block (endgame must skip it). */
  hasRequested(index: number, begin: number): boolean;
}

export interface PickerGeometry { pieceCount: number; pieceLength: number; totalLength: number }

export type BlockOutcome = 'new' | 'duplicate' | 'unwanted';

export class PiecePicker {
  readonly have: Bitfield;
  /** Bumped whenever `have` changes: lets readers of it cache what they derive (a file's verified bytes). */
  haveVersion = 0;
  private readonly availability: Uint32Array;
  private readonly priority: Uint8Array;
  private readonly rank: Uint32Array;
  private readonly partial = new Map<number, PartialPiece>();
  /** Candidate pieces sorted by (priority desc, availability asc, rank); rebuilt lazily. */
  private order: number[] = [];
  private orderDirty = true;
  /**
   * `have` messages since the order was sorted. Rarity may lag a little (the scan still skips
   * what is had, open or unwanted), so the order is re-sorted once per `pieceCount / 64` haves
   * (at least 16), not per have: a swarm of leechers announcing pieces re-sorted the whole
   * order before nearly every pick.
   */
  private havesSinceSort = 0;
  /** Times the order was sorted (tests pin that haves do not each cost a sort). */
  sorts = 0;
  /**
   * Every piece in `order` before this position was taken (had, partial, verifying or not
   * wanted) when the scan passed it, so pickNewPieces starts here. Without it each pick rescanned
   * every verified piece: O(pieces) per pick, 9 % of the CPU of a download of 32,768 16 KiB
   * pieces (profiled). Reset whenever a piece behind it may be new again.
   */
  private newScanFrom = 0;
  /** Pieces fully received and waiting for the hash check. */
  private readonly verifying = new Set<number>();
  /** Deadline (any clock, smaller = sooner) per piece; Infinity when none. */
  private readonly deadline: Float64Array;
  /** Pieces with a deadline, kept sorted by it: usually a handful (a reader's window). */
  private critical: number[] = [];
  /** Critical blocks ("index:begin") whose request overran its peer: one more copy is allowed. */
  private readonly overdue = new Set<BlockId>();
  /** Bytes of pieces we have (verified), kept as pieces arrive so status never rescans. */
  private haveBytes = 0;
  /** Bytes of wanted (priority > 0) pieces we do not have yet. */
  private wantedRemaining = 0;
  endgameDuplicates = 2;
  /**
   * Pieces started (requested, arriving, or waiting for their hash and the disk) before no new
   * one is begun: each holds a piece buffer, so this bounds a download's memory whatever the
   * number of peers (six rate-capped seeders kept ~50 pieces open at once). Critical pieces
   * (under a read) are started regardless.
   */
  maxPiecesInFlight = Infinity;

  constructor(private readonly geo: PickerGeometry, random: () => number = Math.random) {
    this.have = new Bitfield(geo.pieceCount);
    this.availability = new Uint32Array(geo.pieceCount);
    this.priority = new Uint8Array(geo.pieceCount).fill(DEFAULT_PRIORITY);
    this.rank = new Uint32Array(geo.pieceCount);
    this.deadline = new Float64Array(geo.pieceCount).fill(Infinity);
    const extent = Math.max(1, Math.ceil(EXTENT_BYTES / geo.pieceLength));
    const perm = Array.from({ length: Math.ceil(geo.pieceCount / extent) }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    for (let piece = 0; piece < geo.pieceCount; piece++) this.rank[piece] = perm[Math.floor(piece / extent)] * extent + (piece % extent);
    this.wantedRemaining = geo.totalLength;
  }

  // ---- geometry ----------------------------------------------------------------------------

  pieceSize(index: number): number {
    return index === this.geo.pieceCount - 1 ? this.geo.totalLength - this.geo.pieceLength * index : this.geo.pieceLength;
  }

  blockCount(index: number): number {
    return Math.ceil(this.pieceSize(index) / BLOCK_SIZE);
  }

  private blockLength(index: number, block: number): number {
    return Math.min(BLOCK_SIZE, this.pieceSize(index) - block * BLOCK_SIZE);
  }

  // ---- what we have and want ---------------------------------------------------------------

  /** Marks a piece as present (from a resume check, or after verification). */
  markHave(index: number): void {
    if (this.have.get(index)) return;
    this.have.set(index);
    this.haveVersion++;
    this.haveBytes += this.pieceSize(index);
    this.clearDeadline(index);
    for (const key of this.overdue) if (pieceOfBlock(key) === index) this.overdue.delete(key);
    this.partial.delete(index);
    this.verifying.delete(index);
    if (this.priority[index] > 0) this.wantedRemaining -= this.pieceSize(index);
    // The order is not rebuilt: the scan skips pieces we have, and a re-sort per verified piece
    // cost more than the whole scan (profiled).
  }

  /**
   * A piece we had turned out not to be on disk intact (it failed the check made before
   * uploading it): it is wanted again like any missing piece.
   */
  markLost(index: number): void {
    if (!this.have.get(index)) return;
    this.have.clear(index);
    this.haveVersion++;
    this.newScanFrom = 0;
    this.haveBytes -= this.pieceSize(index);
    if (this.priority[index] > 0) this.wantedRemaining += this.pieceSize(index);
  }

  /** True once every piece with priority > 0 is verified. */
  get done(): boolean {
    return this.wantedRemaining === 0;
  }

  get bytesWantedRemaining(): number {
    return this.wantedRemaining;
  }

  get bytesHave(): number {
    return this.haveBytes;
  }

  setPriority(index: number, priority: number): void {
    const p = Math.max(0, Math.min(MAX_PRIORITY, Math.round(priority)));
    const old = this.priority[index];
    if (old === p) return;
    if (!this.have.get(index)) {
      if (old > 0 && p === 0) this.wantedRemaining -= this.pieceSize(index);
      if (old === 0 && p > 0) this.wantedRemaining += this.pieceSize(index);
    }
    this.priority[index] = p;
    this.orderDirty = true;
  }

  getPriority(index: number): number {
    return this.priority[index];
  }

  /**
   * Marks a piece time-critical: it is requested before anything else, earlier deadlines first.
   * A deadline does not make a piece wanted by itself; callers raise its priority too.
   */
  setDeadline(index: number, deadline: number): void {
    if (this.have.get(index)) return;
    if (this.deadline[index] !== Infinity) this.critical = this.critical.filter((i) => i !== index);
    this.deadline[index] = deadline;
    const at = this.critical.findIndex((i) => this.deadline[i] > deadline);
    if (at < 0) this.critical.push(index);
    else this.critical.splice(at, 0, index);
  }

  /**
   * A request for a block of a critical piece overran its peer's timeout: let one other peer ask
   * for it too (the first copy to arrive wins, as in endgame).
   */
  markOverdue(index: number, begin: number): void {
    const p = this.partial.get(index);
    const b = begin / BLOCK_SIZE;
    if (this.isCritical(index) && p?.state[b] === BlockState.Requested && !p.landing[b]) {
      this.overdue.add(blockId(index, begin));
    }
  }

  isCritical(index: number): boolean {
    return this.deadline[index] !== Infinity;
  }

  clearDeadline(index: number): void {
    if (this.deadline[index] === Infinity) return;
    this.deadline[index] = Infinity;
    this.critical = this.critical.filter((i) => i !== index);
  }

  /** Blocks of a wanted piece nobody has been asked for yet. */
  unrequestedBlocks(index: number): number {
    if (this.have.get(index) || this.verifying.has(index) || this.priority[index] === 0) return 0;
    const p = this.partial.get(index);
    return p ? p.free : this.blockCount(index);
  }

  /** Pieces with deadlines, soonest first (for tests and status). */
  get criticalPieces(): readonly number[] {
    return this.critical;
  }

  /** True when the peer has at least one piece we want and do not have. */
  isInteresting(peer: Pick<PickerPeer, 'has'> & { readonly isSeed?: boolean }): boolean {
    // A seed has every wanted piece: no scan (it cost 3 % of a 16 KiB-piece download, profiled).
    if (peer.isSeed) return this.wantedRemaining > 0;
    for (let i = 0; i < this.geo.pieceCount; i++) {
      if (this.wants(i) && peer.has(i)) return true;
    }
    return false;
  }

  wants(index: number): boolean {
    return !this.have.get(index) && this.priority[index] > 0;
  }

  // ---- availability (how many connected peers have each piece) ------------------------------

  peerAdded(has: Bitfield | 'all'): void {
    this.adjustAvailability(has, 1);
  }

  peerRemoved(has: Bitfield | 'all'): void {
    this.adjustAvailability(has, -1);
  }

  peerHave(index: number): void {
    this.availability[index]++;
    if (++this.havesSinceSort >= Math.max(16, Math.ceil(this.geo.pieceCount / 64))) this.orderDirty = true;
  }

  private adjustAvailability(has: Bitfield | 'all', delta: number): void {
    for (let i = 0; i < this.geo.pieceCount; i++) {
      if (has === 'all' || has.get(i)) this.availability[i] = Math.max(0, this.availability[i] + delta);
    }
    this.orderDirty = true;
  }

  // ---- picking -------------------------------------------------------------------------------

  /** Up to `count` blocks for `peer`, marked requested. Empty when nothing it has is wanted. */
  pick(peer: PickerPeer, count: number): BlockRequest[] {
    const out: BlockRequest[] = [];
    if (count <= 0) return out;
    this.pickCritical(peer, count, out);
    if (out.length < count) this.pickFromPartials(peer, count, out);
    // Held back by the budget of open pieces is not the endgame: nothing is doubled then.
    if (out.length < count && !this.pickNewPieces(peer, count, out)) this.pickEndgame(peer, count, out);
    return out;
  }

  private pickCritical(peer: PickerPeer, count: number, out: BlockRequest[]): void {
    for (const index of this.critical) {
      if (this.have.get(index) || this.verifying.has(index) || this.priority[index] === 0 || !peer.has(index)) continue;
      let p = this.partial.get(index);
      if (!p) {
        p = new PartialPiece(index, this.blockCount(index));
        this.partial.set(index, p);
      }
      // Overdue blocks first: someone else is already late with them.
      for (let b = 0; b < p.blockCount && out.length < count && this.overdue.size > 0; b++) {
        const begin = b * BLOCK_SIZE;
        const key = blockId(index, begin);
        if (!this.overdue.has(key)) continue;
        if (p.state[b] !== BlockState.Requested || p.landing[b]) { this.overdue.delete(key); continue; }
        if (peer.hasRequested(index, begin) || p.requests[b] >= 2) continue;
        p.requests[b]++;
        this.overdue.delete(key);
        out.push({ index, begin, length: this.blockLength(index, b) });
      }
      this.takeFreeBlocks(p, peer, count, out);
      if (out.length >= count) return;
    }
  }

  private pickFromPartials(peer: PickerPeer, count: number, out: BlockRequest[]): void {
    const candidates: PartialPiece[] = [];
    for (const p of this.partial.values()) {
      if (p.free > 0 && this.eligible(p, peer)) {
        candidates.push(p);
      }
    }
    candidates.sort((a, b) => this.priority[b.index] - this.priority[a.index] || a.free - b.free);
    for (const p of candidates) {
      this.takeFreeBlocks(p, peer, count, out);
      if (out.length >= count) return;
    }
  }

  private eligible(p: PartialPiece, peer: PickerPeer): boolean {
    return this.priority[p.index] > 0 && peer.has(p.index);
  }

  /** Starts pieces for `peer`; true when the budget of open pieces stopped it before it ran out. */
  private pickNewPieces(peer: PickerPeer, count: number, out: BlockRequest[]): boolean {
    if (this.orderDirty) this.rebuildOrder();
    const order = this.order;
    // The scan position moves on while every piece passed is taken; the first one this peer
    // lacks stays ahead of it for other peers.
    let advancing = true;
    for (let i = this.newScanFrom; i < order.length; i++) {
      const index = order[i];
      if (this.have.get(index) || this.partial.has(index) || this.verifying.has(index) || this.priority[index] === 0) {
        if (advancing) this.newScanFrom = i + 1;
        continue;
      }
      if (!peer.has(index)) {
        advancing = false;
        continue;
      }
      if (this.partial.size >= this.maxPiecesInFlight) return true;
      const p = new PartialPiece(index, this.blockCount(index));
      this.partial.set(index, p);
      if (advancing) this.newScanFrom = i + 1;
      this.takeFreeBlocks(p, peer, count, out);
      if (out.length >= count) return false;
    }
    return false;
  }

  private pickEndgame(peer: PickerPeer, count: number, out: BlockRequest[]): void {
    // Only when no free block is left anywhere that this peer could fetch.
    for (const p of this.partial.values()) {
      if (p.free > 0 && this.eligible(p, peer)) return;
    }
    // Blocks handed out earlier in this same call are not yet in peer.hasRequested().
    const justPicked = new Set(out.map((r) => `${r.index}:${r.begin}`));
    for (const p of this.partial.values()) {
      if (!this.eligible(p, peer)) continue;
      for (let b = 0; b < p.blockCount && out.length < count; b++) {
        if (p.state[b] !== BlockState.Requested || p.requests[b] >= this.endgameDuplicates || p.landing[b]) continue;
        const begin = b * BLOCK_SIZE;
        if (peer.hasRequested(p.index, begin) || justPicked.has(`${p.index}:${begin}`)) continue;
        p.requests[b]++;
        out.push({ index: p.index, begin, length: this.blockLength(p.index, b) });
      }
      if (out.length >= count) return;
    }
  }

  private takeFreeBlocks(p: PartialPiece, peer: PickerPeer, count: number, out: BlockRequest[]): void {
    for (let b = 0; b < p.blockCount && out.length < count; b++) {
      if (p.state[b] !== BlockState.Free) continue;
      p.state[b] = BlockState.Requested;
      p.requests[b] = 1;
      p.requested++;
      out.push({ index: p.index, begin: b * BLOCK_SIZE, length: this.blockLength(p.index, b) });
    }
  }

  private rebuildOrder(): void {
    const order: number[] = [];
    for (let i = 0; i < this.geo.pieceCount; i++) if (this.wants(i)) order.push(i);
    const { priority, availability, rank } = this;
    order.sort((a, b) => priority[b] - priority[a] || availability[a] - availability[b] || rank[a] - rank[b]);
    this.order = order;
    this.orderDirty = false;
    this.havesSinceSort = 0;
    this.sorts++;
    this.newScanFrom = 0;
  }

  // ---- outcomes ------------------------------------------------------------------------------

  /**
   * A block arrived from `peerKey`. 'new' when it is the first copy (the caller stores it),
   * 'duplicate' when another copy won (endgame), 'unwanted' when we never asked for it.
   */
  blockReceived(index: number, begin: number, peerKey: string): BlockOutcome {
    const p = this.partial.get(index);
    if (!p || begin % BLOCK_SIZE !== 0) return 'unwanted';
    const b = begin / BLOCK_SIZE;
    if (b >= p.blockCount) return 'unwanted';
    if (p.state[b] === BlockState.Received) {
      if (p.requests[b] > 0) p.requests[b]--;
      return 'duplicate';
    }
    if (p.state[b] === BlockState.Free) return 'unwanted';
    p.state[b] = BlockState.Received;
    p.landing[b] = 0;
    p.requests[b] = 0;
    p.requested--;
    p.received++;
    p.contributors[b] = peerKey;
    if (p.complete) this.verifying.add(index);
    return 'new';
  }

  /**
   * May the block's single outstanding request be received in place? True marks it landing
   * (no second copy is requested until it arrives or its request is given up).
   */
  startLanding(index: number, begin: number): boolean {
    const p = this.partial.get(index);
    const b = begin / BLOCK_SIZE;
    if (!p || b >= p.blockCount || p.state[b] !== BlockState.Requested || p.requests[b] !== 1 || p.landing[b]) return false;
    p.landing[b] = 1;
    return true;
  }

  /** True when every block of the piece has arrived (the caller should hash it now). */
  isPieceComplete(index: number): boolean {
    return this.partial.get(index)?.complete ?? false;
  }

  /** A request will not be answered (timeout, reject, choke, peer gone): the block is free again. */
  requestAbandoned(index: number, begin: number): void {
    const p = this.partial.get(index);
    if (!p) return;
    const b = begin / BLOCK_SIZE;
    if (p.state[b] !== BlockState.Requested) return;
    p.landing[b] = 0;
    if (p.requests[b] > 1) {
      p.requests[b]--;
      return;
    }
    p.requests[b] = 0;
    p.state[b] = BlockState.Free;
    p.requested--;
    if (p.received === 0 && p.requested === 0) {
      this.partial.delete(index);
      this.newScanFrom = 0; // the piece is new again, perhaps behind the scan position
    }
  }

  pieceVerified(index: number): void {
    this.markHave(index);
  }

  /**
   * The hash check failed: every block is fetched again. Returns who delivered each block, so
   * the caller can tell the liar from the innocent (see BlockAttribution).
   */
  pieceFailed(index: number): (string | undefined)[] {
    this.verifying.delete(index);
    const p = this.partial.get(index);
    if (!p) return [];
    const owners = p.contributors.slice();
    p.reset();
    return owners;
  }

  // ---- introspection -------------------------------------------------------------------------

  get partialCount(): number {
    return this.partial.size;
  }

  /** Blocks of a partial piece in each state, for tests and status. */
  partialState(index: number): { received: number; requested: number; free: number } | undefined {
    const p = this.partial.get(index);
    return p && { received: p.received, requested: p.requested, free: p.free };
  }
}
