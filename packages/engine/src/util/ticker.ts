/**
 * One timer for many subscribers: the session's once-a-second housekeeping tick. A timer per
 * torrent cost 1,000 wake-ups a second for 1,000 idle torrents; this one runs only while someone
 * is subscribed, and calls each in the order they subscribed.
 */
export class Ticker {
  private readonly subscribers = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs = 1000) {}

  add(fn: () => void): void {
    this.subscribers.add(fn);
    this.timer ??= setInterval(() => { for (const f of this.subscribers) f(); }, this.periodMs);
  }

  remove(fn: () => void): void {
    this.subscribers.delete(fn);
    if (this.subscribers.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  get size(): number {
    return this.subscribers.size;
  }
}
