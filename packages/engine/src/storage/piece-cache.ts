/**
 * Bounded LRU of whole pieces read from disk, for uploading. Peers request a piece block by
 * block; reading the whole piece once and serving its blocks from memory turns N small reads into
 * one. Concurrent misses on the same piece share one read.
 */
export class PieceCache {
  private readonly entries = new Map<number, Promise<Buffer>>();
  private readonly sizes = new Map<number, number>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly load: (index: number) => Promise<Buffer>,
  ) {}

  get(index: number): Promise<Buffer> {
    const hit = this.entries.get(index);
    if (hit) {
      // Re-insert to mark as most recently used.
      this.entries.delete(index);
      this.entries.set(index, hit);
      return hit;
    }
    const p = this.load(index);
    this.entries.set(index, p);
    p.then((buf) => {
      if (this.entries.get(index) !== p) return;
      this.sizes.set(index, buf.length);
      this.bytes += buf.length;
      this.evict();
    }, () => this.entries.delete(index));
    return p;
  }

  /** Drops a piece (its data changed on disk, or it failed to load). */
  invalidate(index: number): void {
    this.entries.delete(index);
    const size = this.sizes.get(index);
    if (size !== undefined) {
      this.bytes -= size;
      this.sizes.delete(index);
    }
  }

  clear(): void {
    this.entries.clear();
    this.sizes.clear();
    this.bytes = 0;
  }

  private evict(): void {
    for (const index of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) return;
      if (this.sizes.has(index)) this.invalidate(index);
    }
  }
}
