/**
 * The block requests one peer has from us, and the ones we cancelled but may still be answered.
 * Pure bookkeeping (no wire, no timers, `now` passed in): PeerSession sends what this decides.
 *
 * Two maps, because a cancel is not the end of a request: a fast-extension peer answers each
 * cancel with the block or a reject (BEP 6), and libtorrent usually sends the block because it
 * sits in its send buffer already. The picker keeps counting a cancelled request as requested
 * until then, so it is not fetched twice.
 */
import { BLOCK_SIZE, blockId, type BlockRef } from '../wire/messages.js';

export interface Outstanding { ref: BlockRef; sentAt: number }

export class OutstandingRequests {
  private readonly open = new Map<number, Outstanding>();
  private readonly cancelled = new Map<number, Outstanding>();
  /** When the newest request that was answered had been sent (see lost()). */
  private newestAnsweredSentAt = 0;

  /** Requests sent and not yet answered (cancelled ones not counted). */
  get size(): number { return this.open.size; }
  get isEmpty(): boolean { return this.open.size === 0 && this.cancelled.size === 0; }

  has(index: number, begin: number): boolean {
    const key = blockId(index, begin);
    return this.open.has(key) || this.cancelled.has(key);
  }

  /** An open (not cancelled) request for exactly this block. */
  isOpen(index: number, begin: number, length: number): boolean {
    return this.open.get(blockId(index, begin))?.ref.length === length;
  }

  sent(refs: readonly BlockRef[], now: number): void {
    for (const ref of refs) this.open.set(blockId(ref.index, ref.begin), { ref, sentAt: now });
  }

  /** The block arrived or was rejected: the request it answers (open or cancelled), if any. */
  answered(index: number, begin: number): Outstanding | undefined {
    const key = blockId(index, begin);
    const out = this.open.get(key) ?? this.cancelled.get(key);
    if (!out) return undefined;
    this.open.delete(key);
    this.cancelled.delete(key);
    return out;
  }

  /** Records that the block of `out` arrived (for lost()). */
  delivered(out: Outstanding): void {
    if (out.sentAt > this.newestAnsweredSentAt) this.newestAnsweredSentAt = out.sentAt;
  }

  /** Another peer delivered the block (endgame): the open request to withdraw, if there is one. */
  withdraw(index: number, begin: number): BlockRef | undefined {
    const key = blockId(index, begin);
    this.cancelled.delete(key); // cancelled by preempt() already: stop waiting for it
    const out = this.open.get(key);
    if (!out) return undefined;
    this.open.delete(key);
    return out.ref;
  }

  /**
   * Requests to cancel so that blocks under a read overtake the queue: every open request except
   * the `keep` oldest (the peer is likely sending those already) and those `keepIndex` protects.
   * They move to the cancelled map, stamped `now`.
   */
  preempt(keep: number, keepIndex: (index: number) => boolean, now: number): BlockRef[] {
    const out: BlockRef[] = [];
    let seen = 0;
    for (const [key, o] of this.open) {
      if (seen++ < keep || keepIndex(o.ref.index)) continue;
      this.open.delete(key);
      this.cancelled.set(key, { ref: o.ref, sentAt: now });
      out.push(o.ref);
    }
    return out;
  }

  /**
   * Peers serve requests in order: an open request sent before one that was answered was
   * dropped. Returns those, re-stamped `now` (they are sent again).
   */
  lost(now: number): BlockRef[] {
    const out: BlockRef[] = [];
    for (const o of this.open.values()) {
      if (o.sentAt >= this.newestAnsweredSentAt) continue;
      o.sentAt = now;
      out.push(o.ref);
    }
    return out;
  }

  /** Cancelled requests older than `limitMs`: they will not be answered, take them back. */
  expireCancelled(now: number, limitMs: number): BlockRef[] {
    const out: BlockRef[] = [];
    for (const [key, o] of this.cancelled) {
      if (now - o.sentAt < limitMs) continue;
      this.cancelled.delete(key);
      out.push(o.ref);
    }
    return out;
  }

  /** Open requests older than `ageMs` whose piece `select` picks: candidates for a second copy. */
  overdue(now: number, ageMs: number, select: (index: number) => boolean): BlockRef[] {
    const out: BlockRef[] = [];
    for (const o of this.open.values()) if (now - o.sentAt > ageMs && select(o.ref.index)) out.push(o.ref);
    return out;
  }

  /** How long the peer needs for what it was asked, at `rate` bytes/s (ms). */
  expectedMs(rate: number): number {
    if (this.open.size === 0) return 0;
    return rate > 0 ? (this.open.size * BLOCK_SIZE * 1000) / rate : Infinity;
  }

  /** Everything, open and cancelled, removed (a choke without the fast extension, a close). */
  takeAll(): BlockRef[] {
    const refs = [...this.open.values(), ...this.cancelled.values()].map((o) => o.ref);
    this.open.clear();
    this.cancelled.clear();
    return refs;
  }
}
