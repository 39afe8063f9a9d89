/**
 * A rate limit as a token bucket: tokens (bytes) flow in at `rate` per second up to a burst of
 * 100 ms worth (a new bucket starts full), and every transfer takes its size out, going into debt if it must (a socket read
 * cannot be undone). While in debt, the caller waits `waitMs()`. Over any stretch longer than the
 * burst the bytes let through average the rate. Pure: the caller passes the clock.
 */

/** The burst a bucket holds: 100 ms of its rate, never under one block. */
const BURST_SECONDS = 0.1;
const MIN_BURST = 16 * 1024;

export class TokenBucket {
  private tokens = 0;
  private at: number;
  private bytesPerSecond = 0;

  /** `rate` in bytes per second; 0 is unlimited. */
  constructor(rate = 0, now: number = Date.now()) {
    this.at = now;
    this.setRate(rate, now);
  }

  get rate(): number { return this.bytesPerSecond; }
  get limited(): boolean { return this.bytesPerSecond > 0; }

  /** A new rate, taking effect now (debt from the old rate is kept, capped at one second of the new one). */
  setRate(rate: number, now: number = Date.now()): void {
    if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`a rate is a number of bytes per second >= 0, not ${rate}`);
    this.refill(now);
    const wasLimited = this.limited;
    this.bytesPerSecond = Math.floor(rate);
    // A new limit starts with a full burst; a changed one keeps its debt, within a second's worth.
    if (!this.limited) this.tokens = 0;
    else if (!wasLimited) this.tokens = this.burst;
    else this.tokens = Math.max(-this.bytesPerSecond, Math.min(this.tokens, this.burst));
  }

  /** Takes `bytes` out (nothing happens while unlimited). */
  take(bytes: number, now: number = Date.now()): void {
    if (!this.limited) return;
    this.refill(now);
    this.tokens -= bytes;
  }

  /** How long until the bucket is out of debt: 0 when transfers may go on. */
  waitMs(now: number = Date.now()): number {
    if (!this.limited) return 0;
    this.refill(now);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.bytesPerSecond) * 1000);
  }

  private get burst(): number {
    return Math.max(MIN_BURST, this.bytesPerSecond * BURST_SECONDS);
  }

  private refill(now: number): void {
    const elapsed = now - this.at;
    this.at = now;
    if (elapsed > 0 && this.limited) this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.bytesPerSecond);
  }
}
