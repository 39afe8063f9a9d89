/**
 * Bounded LRU of whole pieces read from disk, for uploading. Peers request a piece block by
 * block; reading the whole piece once and serving its blocks from memory turns N small reads into
 * one. Concurrent misses on the same piece share one read.
 *
 * The cache owns a fixed set of piece buffers and reuses them: a block handed out is *borrowed*
 * (the piece is pinned) until the socket has taken its bytes and the borrower releases it; only
 * then may the buffer be refilled with another piece. Allocating a fresh 1 MiB buffer per load
 * instead cost more than the read itself (fresh pages fault in, and garbage SharedArrayBuffers
 * are collected late: measured 1.5 GiB peak RSS seeding 512 MiB to three peers).
 */

/** Bytes lent by a cache: valid until `release()`, which must be called exactly once. */
export interface BorrowedBytes {
  readonly data: Buffer;
  release(): void;
}

interface Entry {
  readonly index: number;
  readonly buffer: Buffer;
  /** Settles once the piece is read (and checked); a rejected load is dropped at once. */
  readonly ready: Promise<Buffer>;
  loaded: boolean;
  pins: number;
  /** Out of the map (evicted, invalidated, failed): its buffer returns to the pool when unpinned. */
  detached: boolean;
}

export class PieceCache {
  private readonly entries = new Map<number, Entry>();
  private readonly free: Buffer[] = [];
  private readonly slots: number;
  private allocated = 0;

  constructor(
    maxBytes: number,
    private readonly pieceLength: number,
    /** A buffer of `pieceLength` bytes for the cache (the hasher wants shared memory). */
    private readonly alloc: (length: number) => Buffer,
    /** Fills `into` with piece `index`; resolves with the piece's bytes (a view of `into`). */
    private readonly load: (index: number, into: Buffer) => Promise<Buffer>,
  ) {
    this.slots = Math.max(1, Math.floor(maxBytes / pieceLength));
  }

  /** Forgets piece `index` unless it is lent out right now (then its verified bytes finish their upload). */
  drop(index: number): void {
    const entry = this.entries.get(index);
    if (entry && entry.pins === 0) this.entries.delete(index);
  }

  /** Bytes of piece buffers the cache holds (in use or free). */
  get bytesHeld(): number { return this.allocated * this.pieceLength; }

  /** Borrows `length` bytes at `begin` of piece `index`. */
  async borrow(index: number, begin: number, length: number): Promise<BorrowedBytes> {
    const entry = this.entries.get(index) ?? this.startLoad(index);
    // Most recently used goes last in the map's order.
    this.entries.delete(index);
    this.entries.set(index, entry);
    entry.pins++;
    let piece: Buffer;
    try {
      piece = await entry.ready;
    } catch (err) {
      this.unpin(entry);
      throw err;
    }
    let released = false;
    return {
      data: piece.subarray(begin, begin + length),
      release: () => {
        if (released) return;
        released = true;
        this.unpin(entry);
      },
    };
  }

  /** Drops a piece (its data changed on disk, or it failed to load). */
  invalidate(index: number): void {
    const entry = this.entries.get(index);
    if (entry) this.detach(entry);
  }

  clear(): void {
    for (const entry of [...this.entries.values()]) this.detach(entry);
  }

  private startLoad(index: number): Entry {
    const buffer = this.takeBuffer();
    const entry: Entry = { index, buffer, ready: this.load(index, buffer), loaded: false, pins: 0, detached: false };
    entry.ready.then(() => { entry.loaded = true; }, () => this.detach(entry));
    this.entries.set(index, entry);
    return entry;
  }

  /** A free buffer, a new one while under the budget, else the least recently used idle piece's. */
  private takeBuffer(): Buffer {
    const free = this.free.pop();
    if (free) return free;
    if (this.allocated < this.slots) {
      this.allocated++;
      return this.alloc(this.pieceLength);
    }
    for (const entry of this.entries.values()) {
      if (entry.pins > 0 || !entry.loaded) continue;
      this.entries.delete(entry.index);
      entry.detached = true;
      return entry.buffer;
    }
    // Every piece is lent out: one more buffer, dropped again when it comes back over budget.
    this.allocated++;
    return this.alloc(this.pieceLength);
  }

  private detach(entry: Entry): void {
    if (this.entries.get(entry.index) === entry) this.entries.delete(entry.index);
    if (entry.detached) return;
    entry.detached = true;
    if (entry.pins === 0) this.recycle(entry);
  }

  private unpin(entry: Entry): void {
    entry.pins--;
    if (entry.pins > 0) return;
    if (entry.detached) this.recycle(entry);
    else if (this.allocated > this.slots) this.trim();
  }

  /** Over budget (buffers were added while all were lent): drops idle pieces, oldest first. */
  private trim(): void {
    for (const entry of [...this.entries.values()]) {
      if (this.allocated <= this.slots) return;
      if (entry.pins === 0 && entry.loaded) this.detach(entry);
    }
  }

  private recycle(entry: Entry): void {
    // A load still filling the buffer returns it when it settles (detach runs again then, but
    // the entry is already detached, so only this path recycles, once the load is over).
    if (!entry.loaded) {
      entry.ready.then(() => this.giveBack(entry.buffer), () => this.giveBack(entry.buffer));
      return;
    }
    this.giveBack(entry.buffer);
  }

  private giveBack(buffer: Buffer): void {
    if (this.allocated > this.slots) this.allocated--;
    else this.free.push(buffer);
  }
}
