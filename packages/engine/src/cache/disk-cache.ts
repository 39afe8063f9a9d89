/**
 * The session's bounded cache of verified pieces on disk (`cache.max_size`): torrents served on
 * demand put each piece they store here, and when the bytes held would pass the limit the least
 * recently read pieces are evicted (their torrent forgets them and releases their bytes from its
 * files, storage/hole-punch.ts). Room is made before a piece is written, so the disk never holds
 * more than the limit plus what is pinned: pieces under a pending read, in a reader's readahead,
 * or being written. Counts hits (a read found its pieces here) and misses (it had to wait).
 */
import { PieceLru } from './piece-lru.js';

/** What the cache needs of a torrent whose pieces it holds. */
export interface CacheMember {
  /** A reader needs this piece now (a pending read or its readahead): never evicted. */
  isPinned(piece: number): boolean;
  /** Forget the piece and release its bytes; resolves once they are released. */
  evict(piece: number): Promise<void>;
}

export interface CacheStats {
  /** Bytes of verified pieces held (pieces being written included). */
  used: number;
  /** The limit, bytes. */
  max: number;
  pieces: number;
  hits: number;
  misses: number;
  evictions: number;
}

export class DiskCache {
  private readonly lru = new PieceLru();
  private readonly members = new Map<string, CacheMember>();
  /** Pieces being written: counted, but never a victim. */
  private readonly writing = new Set<string>();
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(private maxBytes: number) {
    if (!(maxBytes > 0)) throw new RangeError(`a cache needs a size above 0, not ${maxBytes}`);
  }

  get max(): number { return this.maxBytes; }

  stats(): CacheStats {
    return { used: this.lru.used, max: this.maxBytes, pieces: this.lru.size, hits: this.hits, misses: this.misses, evictions: this.evictions };
  }

  join(owner: string, member: CacheMember): void {
    this.members.set(owner, member);
  }

  /** The torrent left the session: its pieces no longer count (they stay on disk as they are). */
  leave(owner: string): void {
    this.members.delete(owner);
    this.lru.removeOwner(owner);
  }

  /**
   * Before `piece` of `owner` is written: it counts from now on, and older pieces are evicted
   * until it fits. Resolves once their bytes are released, so the write never takes the disk
   * over the limit. Call written() after the write (or forget() if it failed).
   */
  reserve(owner: string, piece: number, bytes: number): Promise<void> {
    const victims = this.lru.evictFor(bytes, this.maxBytes, (o, p) => this.pinned(o, p));
    const k = `${owner}:${piece}`;
    this.writing.add(k);
    this.lru.add(owner, piece, bytes);
    return this.release(victims);
  }

  written(owner: string, piece: number): void {
    this.writing.delete(`${owner}:${piece}`);
  }

  /** A piece already on disk (found at start, in recency order): held, and the limit enforced. */
  hold(owner: string, piece: number, bytes: number): Promise<void> {
    this.lru.add(owner, piece, bytes);
    return this.release(this.lru.evictFor(0, this.maxBytes, (o, p) => this.pinned(o, p)));
  }

  /** The piece is no longer had (lost, or its write failed): it leaves the cache without an eviction. */
  forget(owner: string, piece: number): void {
    this.writing.delete(`${owner}:${piece}`);
    this.lru.remove(owner, piece);
  }

  /** A read served from `piece`: it becomes the most recent. */
  touch(owner: string, piece: number): void {
    this.lru.touch(owner, piece);
  }

  /** A read that found its bytes verified (hit) or had to wait for them (miss). */
  countRead(hit: boolean): void {
    if (hit) this.hits++;
    else this.misses++;
  }

  /** Over the limit (pins held it there, and were let go): evicts down to it. */
  trim(): Promise<void> {
    if (this.lru.used <= this.maxBytes) return Promise.resolve();
    return this.release(this.lru.evictFor(0, this.maxBytes, (o, p) => this.pinned(o, p)));
  }

  /** A new limit: evicts down to it at once. */
  resize(maxBytes: number): Promise<void> {
    if (!(maxBytes > 0)) throw new RangeError(`a cache needs a size above 0, not ${maxBytes}`);
    this.maxBytes = maxBytes;
    return this.release(this.lru.evictFor(0, maxBytes, (o, p) => this.pinned(o, p)));
  }

  /** A torrent's held pieces, least recently read first. */
  recencyOf(owner: string): number[] {
    return this.lru.piecesOf(owner);
  }

  holds(owner: string, piece: number): boolean {
    return this.lru.has(owner, piece);
  }

  private pinned(owner: string, piece: number): boolean {
    if (this.writing.has(`${owner}:${piece}`)) return true;
    return this.members.get(owner)?.isPinned(piece) ?? false;
  }

  private async release(victims: readonly { owner: string; piece: number }[]): Promise<void> {
    this.evictions += victims.length;
    await Promise.all(victims.map((v) => this.members.get(v.owner)?.evict(v.piece)));
  }
}
