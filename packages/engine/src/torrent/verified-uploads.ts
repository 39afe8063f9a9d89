/**
 * Where uploaded blocks come from: whole pieces read from disk into a bounded cache, checked
 * before any byte of them leaves. Whatever happened on disk since a piece was verified (a bug,
 * another program), we upload only bytes that match the torrent; a piece that fails is reported
 * lost (the torrent fetches it again) and its blocks are rejected.
 *
 * The check: a piece is hashed again (HasherPool) when it is read, unless every file it lies
 * in still has the stamp (inode, size, mtime) it had when the torrent's start-up check began,
 * taken again after the read. Any write to a file changes its mtime, so an unchanged stamp means
 * the bytes are the ones that were verified; hashing them again cost a seeder of three peers
 * ~40 % of its CPU (each piece is read once per peer). Pieces written by this session since
 * (their file's stamp moved) are hashed on every read, as are small pieces (a hash is cheaper
 * than the stat) and pieces held in the part file.
 */
import { StorageError } from '../errors.js';
import { allocPieceBuffer, type HasherPool } from '../hash/hasher-pool.js';
import type { FileLayout } from '../layout/file-layout.js';
import { pieceHash, type Metainfo } from '../metainfo/metainfo.js';
import { PieceCache, type BorrowedBytes } from '../storage/piece-cache.js';
import type { TorrentStorage } from '../storage/torrent-storage.js';

/** Below this a piece is hashed again rather than trusted on a stat (the hash is cheaper). */
const TRUST_MIN_PIECE_BYTES = 64 * 1024;

export class VerifiedUploads {
  private readonly cache: PieceCache;
  /** Per file: its stamp when it was last known to hold only verified pieces' bytes. */
  private readonly trusted = new Map<number, string>();
  /** Pieces hashed again for an upload (tests count them). */
  rehashed = 0;

  constructor(
    private readonly metainfo: Metainfo,
    private readonly layout: FileLayout,
    private readonly storage: TorrentStorage,
    private readonly hasher: HasherPool,
    cacheBytes: number,
    /** The piece on disk does not match its hash. */
    private readonly onLost: (index: number) => void,
  ) {
    this.cache = new PieceCache(cacheBytes, metainfo.pieceLength, allocPieceBuffer, (i, into) => this.load(i, into));
  }

  /** The block's bytes, lent until `release()` (when the socket has taken them). */
  readBlock(index: number, begin: number, length: number): Promise<BorrowedBytes> {
    return this.cache.borrow(index, begin, length);
  }

  clear(): void {
    this.cache.clear();
  }

  /** The piece left the disk (the bounded cache evicted it): not served from memory either. */
  drop(index: number): void {
    this.cache.drop(index);
  }

  /** Every file's stamp now: taken before a full check, and trusted once the check is over. */
  async stampFiles(): Promise<Map<number, string>> {
    const stamps = new Map<number, string>();
    // A file not on disk keeps its bytes in the part file: the part file's stamp stands for it.
    const part = this.storage.partFileStamp();
    await Promise.all(this.metainfo.files.map(async (f, i) => {
      if (f.pad) return;
      const stamp = this.storage.isAllocated(i) ? await this.storage.fileStamp(i) : part;
      if (stamp) stamps.set(i, stamp);
    }));
    return stamps;
  }

  /** The check that began at `stamps` verified every piece it found: they may be trusted. */
  trust(stamps: Map<number, string>): void {
    for (const [i, stamp] of stamps) this.trusted.set(i, stamp);
  }

  /** True when no file under the piece changed since it was trusted (checked after the read). */
  private async unchanged(index: number): Promise<boolean> {
    if (this.layout.pieceSize(index) < TRUST_MIN_PIECE_BYTES) return false;
    const files = this.layout.pieceSegments(index).filter((s) => !s.pad).map((s) => s.fileIndex);
    if (files.some((i) => !this.trusted.has(i) || !this.storage.isAllocated(i))) return false;
    const now = await Promise.all(files.map((i) => this.storage.fileStamp(i)));
    return files.every((i, k) => now[k] !== undefined && now[k] === this.trusted.get(i));
  }

  private async load(index: number, into: Buffer): Promise<Buffer> {
    const buf = into.subarray(0, this.layout.pieceSize(index));
    await this.storage.readPiece(index, buf);
    if (await this.unchanged(index)) return buf;
    this.rehashed++;
    if (await this.hasher.verify(buf, pieceHash(this.metainfo, index))) return buf;
    this.onLost(index);
    throw new StorageError(`piece ${index} on disk does not match its hash; fetching it again`);
  }
}
