/**
 * Download and upload rate limits, for the session and for each torrent. A transfer is charged
 * to its torrent's bucket and the session's (token-bucket.ts); when either is in debt, what
 * moved the bytes is paused (a peer's socket stops being read, so TCP slows the sender down; a
 * peer's upload queue stops sending) until both are out of it. One timer for the whole session,
 * armed only while something waits: an unlimited session costs a check per read, no timer.
 */
import { TokenBucket } from './token-bucket.js';

/** Rates in bytes per second; 0 is unlimited. */
export interface RateLimits {
  download: number;
  upload: number;
}

export const UNLIMITED: RateLimits = { download: 0, upload: 0 };

/** Something that moves bytes and can hold off: a peer's socket reads, its upload queue. */
export interface Throttled {
  pause(): void;
  resume(): void;
}

/** Never wake more often than this (timer granularity; the buckets absorb the rest). */
const MIN_WAIT_MS = 5;

export class SessionBandwidth {
  readonly down = new TokenBucket();
  readonly up = new TokenBucket();
  private readonly waiting = new Map<Throttled, readonly TokenBucket[]>();
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;

  constructor(limits: Partial<RateLimits> = {}) {
    this.set(limits);
  }

  get limits(): RateLimits {
    return { download: this.down.rate, upload: this.up.rate };
  }

  /** Changes the session's limits now; what waited is re-checked at once. */
  set(limits: Partial<RateLimits>): void {
    setBuckets(this.down, this.up, limits);
    this.wake();
  }

  /** The buckets of one torrent, charged together with the session's. */
  forTorrent(limits: Partial<RateLimits> = {}): TorrentBandwidth {
    return new TorrentBandwidth(this, limits);
  }

  /** Takes `bytes` from every bucket; pauses `who` while any is in debt. */
  charge(buckets: readonly TokenBucket[], bytes: number, who: Throttled): void {
    let limited = false;
    for (const b of buckets) limited ||= b.limited;
    if (!limited) return;
    const now = Date.now();
    let wait = 0;
    for (const b of buckets) {
      b.take(bytes, now);
      wait = Math.max(wait, b.waitMs(now));
    }
    if (wait > 0 && !this.waiting.has(who)) {
      this.waiting.set(who, buckets);
      who.pause();
      this.arm(wait);
    }
  }

  /** `who` is gone (its peer closed): it is not resumed. */
  forget(who: Throttled): void {
    this.waiting.delete(who);
  }

  /** Resumes what may go on now; re-arms the timer for the rest. */
  wake(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [who, buckets] of this.waiting) {
      let wait = 0;
      for (const b of buckets) wait = Math.max(wait, b.waitMs(now));
      if (wait > 0) next = Math.min(next, wait);
      else {
        this.waiting.delete(who);
        who.resume();
      }
    }
    if (next < Infinity) this.arm(next);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting.clear();
  }

  private arm(waitMs: number): void {
    const due = Date.now() + Math.max(MIN_WAIT_MS, waitMs);
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.wake(), due - Date.now());
  }
}

export class TorrentBandwidth {
  private readonly down = new TokenBucket();
  private readonly up = new TokenBucket();
  private readonly downBuckets: readonly TokenBucket[];
  private readonly upBuckets: readonly TokenBucket[];

  constructor(private readonly session: SessionBandwidth, limits: Partial<RateLimits>) {
    setBuckets(this.down, this.up, limits);
    this.downBuckets = [this.down, session.down];
    this.upBuckets = [this.up, session.up];
  }

  get limits(): RateLimits {
    return { download: this.down.rate, upload: this.up.rate };
  }

  set(limits: Partial<RateLimits>): void {
    setBuckets(this.down, this.up, limits);
    this.session.wake();
  }

  /** Bytes received from a peer (its socket is `who`). */
  received(bytes: number, who: Throttled): void {
    this.session.charge(this.downBuckets, bytes, who);
  }

  /** Bytes of a block sent to a peer (its upload queue is `who`). */
  sent(bytes: number, who: Throttled): void {
    this.session.charge(this.upBuckets, bytes, who);
  }

  forget(who: Throttled): void {
    this.session.forget(who);
  }
}

function setBuckets(down: TokenBucket, up: TokenBucket, limits: Partial<RateLimits>): void {
  const now = Date.now();
  if (limits.download !== undefined) down.setRate(limits.download, now);
  if (limits.upload !== undefined) up.setRate(limits.upload, now);
}
