/**
 * The recency order of the pieces a bounded cache holds, across torrents: which verified piece
 * was read least recently, how many bytes they hold together, and which to evict to make room
 * for a new one. Pieces in use (under a read, in a reader's readahead, being written) are skipped
 * as victims. Pure: no IO, no timers; cache/disk-cache.ts acts on its answers.
 */

export interface CachedPiece {
  /** The torrent it belongs to (its infohash). */
  readonly owner: string;
  readonly piece: number;
  readonly bytes: number;
}

export class PieceLru {
  /** Oldest first: Map iteration order is insertion order, and a touch re-inserts. */
  private readonly order = new Map<string, CachedPiece>();
  private usedBytes = 0;

  get used(): number { return this.usedBytes; }
  get size(): number { return this.order.size; }

  has(owner: string, piece: number): boolean {
    return this.order.has(key(owner, piece));
  }

  /** Adds a piece as the most recent (a piece already there is only touched). */
  add(owner: string, piece: number, bytes: number): void {
    const k = key(owner, piece);
    const old = this.order.get(k);
    if (old) {
      this.order.delete(k);
      this.order.set(k, old);
      return;
    }
    this.order.set(k, { owner, piece, bytes });
    this.usedBytes += bytes;
  }

  /** A read of the piece: it becomes the most recent. False when it is not held. */
  touch(owner: string, piece: number): boolean {
    const k = key(owner, piece);
    const entry = this.order.get(k);
    if (!entry) return false;
    this.order.delete(k);
    this.order.set(k, entry);
    return true;
  }

  remove(owner: string, piece: number): boolean {
    const k = key(owner, piece);
    const entry = this.order.get(k);
    if (!entry) return false;
    this.order.delete(k);
    this.usedBytes -= entry.bytes;
    return true;
  }

  /** Forgets every piece of a torrent (removed from the session); returns how many. */
  removeOwner(owner: string): number {
    let n = 0;
    for (const [k, e] of this.order) {
      if (e.owner !== owner) continue;
      this.order.delete(k);
      this.usedBytes -= e.bytes;
      n++;
    }
    return n;
  }

  /**
   * The pieces to evict, oldest first, so that `incoming` more bytes fit under `maxBytes`; pinned
   * ones are skipped. They are removed here. When the unpinned ones do not free enough, all of
   * them go and the cache stays over its limit by what is pinned (a read larger than the cache
   * still completes).
   */
  evictFor(incoming: number, maxBytes: number, pinned: (owner: string, piece: number) => boolean): CachedPiece[] {
    const victims: CachedPiece[] = [];
    for (const [k, e] of this.order) {
      if (this.usedBytes + incoming <= maxBytes) break;
      if (pinned(e.owner, e.piece)) continue;
      this.order.delete(k);
      this.usedBytes -= e.bytes;
      victims.push(e);
    }
    return victims;
  }

  /** A torrent's pieces, least recently read first (kept with its resume data across restarts). */
  piecesOf(owner: string): number[] {
    const out: number[] = [];
    for (const e of this.order.values()) if (e.owner === owner) out.push(e.piece);
    return out;
  }
}

function key(owner: string, piece: number): string {
  return `${owner}:${piece}`;
}
