/**
 * The rate a progress display shows: bytes moved over the last few seconds, from samples of a
 * running total. Plausible from the first sample on (a fixed 5 s divisor showed 4.0 MB/s in the
 * first second of a download whose average was 87.6 MB/s), and 0 once nothing moves. Pure.
 */
export class RateSampler {
  private readonly samples: { at: number; total: number }[] = [];

  constructor(private readonly windowMs = 3000) {}

  sample(now: number, total: number): void {
    this.samples.push({ at: now, total });
    // Keep one sample at or before the window's start, so the window is always covered.
    while (this.samples.length > 2 && this.samples[1].at <= now - this.windowMs) this.samples.shift();
  }

  /** Bytes per second over the window (0 before two samples). */
  rate(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? Math.max(0, last.total - first.total) / seconds : 0;
  }
}
