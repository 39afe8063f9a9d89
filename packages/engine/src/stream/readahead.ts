/**
 * Adaptive readahead for one reader: the window doubles while reads are contiguous and closes on
 * a seek, so a player that streams gets bytes well ahead of it, and one that probes the end of a
 * file and jumps back does not drag a large window around. After a seek nothing is fetched ahead
 * until the next read continues from there (then the minimum, doubling again): a reader jumping
 * from place to place (a database, a notebook sampling a dataset) fetches what it reads, not a
 * piece more per read, which under a small bounded cache also pushed out what it would read
 * again. The first read of a reader opens the minimum window: most start at the beginning and go
 * on. Pure.
 */
export interface ReadaheadOptions { min: number; max: number }

export const DEFAULT_READAHEAD: ReadaheadOptions = { min: 1024 * 1024, max: 64 * 1024 * 1024 };

export class ReadaheadWindow {
  /** Bytes to fetch past each read; 0 right after a seek. */
  private window: number;
  /** Where the next read starts if the reader keeps going; undefined before the first read. */
  private expected: number | undefined;

  constructor(private readonly opts: ReadaheadOptions = DEFAULT_READAHEAD) {
    this.window = opts.min;
  }

  /**
   * Records a read; returns how many bytes past its end should be fetched ahead. A read that
   * starts near where the stream is (within the minimum window either way) continues it: the
   * kernel sends a sequential reader's 128 KiB FUSE reads several at a time, and they arrive
   * slightly out of order. Anything farther is a seek.
   */
  onRead(position: number, length: number): number {
    if (this.expected === undefined) {
      this.expected = position + length;
      return this.window;
    }
    if (Math.abs(position - this.expected) <= this.opts.min) {
      if (position + length > this.expected) this.window = this.window === 0 ? this.opts.min : Math.min(this.opts.max, this.window * 2);
      this.expected = Math.max(this.expected, position + length);
    } else {
      this.window = 0;
      this.expected = position + length;
    }
    return this.window;
  }

  get size(): number {
    return this.window;
  }
}
