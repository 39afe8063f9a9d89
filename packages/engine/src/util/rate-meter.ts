/**
 * Transfer rate over a sliding window. Pure: the caller passes the clock, so tests control time.
 * A window of 20 slots of 250 ms (5 s) smooths TCP's bursts without lagging behind real changes.
 */
const SLOT_MS = 250;
const SLOTS = 20;

export class RateMeter {
  private readonly slots = new Float64Array(SLOTS);
  private current = 0;
  private currentStart: number;
  total = 0;

  /** When the meter started: until a whole window has passed, the rate is over the time elapsed. */
  private readonly createdAt: number;

  constructor(now: number = Date.now()) {
    this.currentStart = now - (now % SLOT_MS);
    this.createdAt = now;
  }

  add(bytes: number, now: number = Date.now()): void {
    this.advance(now);
    this.slots[this.current] += bytes;
    this.total += bytes;
  }

  /** Bytes per second over the window. */
  rate(now: number = Date.now()): number {
    this.advance(now);
    let sum = 0;
    for (let i = 0; i < SLOTS; i++) sum += this.slots[i];
    // A fixed 5 s divisor made the first second read a fifth of the real rate.
    const span = Math.min(SLOTS * SLOT_MS, Math.max(SLOT_MS, now - this.createdAt));
    return sum / (span / 1000);
  }

  private advance(now: number): void {
    let steps = Math.floor((now - this.currentStart) / SLOT_MS);
    if (steps <= 0) return;
    if (steps > SLOTS) steps = SLOTS;
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % SLOTS;
      this.slots[this.current] = 0;
    }
    this.currentStart = now - (now % SLOT_MS);
  }
}
