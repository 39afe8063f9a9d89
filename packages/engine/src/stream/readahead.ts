/**
 * Adaptive readahead for one reader: the window doubles while reads are contiguous and collapses
 * to its minimum on a seek, so a player that streams gets bytes well ahead of it, and one that
 * probes the end of a file and jumps back does not drag a large window around. Pure.
 */
export interface ReadaheadOptions { min: number; max: number }

export const DEFAULT_READAHEAD: ReadaheadOptions = { min: 1024 * 1024, max: 64 * 1024 * 1024 };

export class ReadaheadWindow {
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
      if (position + length > this.expected) this.window = Math.min(this.opts.max, this.window * 2);
      this.expected = Math.max(this.expected, position + length);
    } else {
      this.window = this.opts.min;
      this.expected = position + length;
    }
    return this.window;
  }

  get size(): number {
    return this.window;
  }
}
