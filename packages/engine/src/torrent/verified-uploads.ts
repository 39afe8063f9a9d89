/**
 * Where uploaded blocks come from: whole pieces read from disk into a bounded cache and hashed
 * again (in the workers) before any byte of them leaves. Whatever happened on disk since a piece
 * was verified (a bug, another program, a bad sector), we upload only bytes that match the
 * torrent; a piece that fails is reported lost (the torrent fetches it again) and its blocks are
 * rejected. A piece is read and hashed once per cache fill.
 */
import { StorageError } from '../errors.js';
import { allocPieceBuffer, type HasherPool } from '../hash/hasher-pool.js';
import type { FileLayout } from '../layout/file-layout.js';
import { pieceHash, type Metainfo } from '../metainfo/metainfo.js';
import { PieceCache, type BorrowedBytes } from '../storage/piece-cache.js';
import type { TorrentStorage } from '../storage/torrent-storage.js';

export class VerifiedUploads {
  private readonly cache: PieceCache;

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

  private async load(index: number, into: Buffer): Promise<Buffer> {
    const buf = into.subarray(0, this.layout.pieceSize(index));
    await this.storage.readPiece(index, buf);
    if (await this.hasher.verify(buf, pieceHash(this.metainfo, index))) return buf;
    this.onLost(index);
    throw new StorageError(`piece ${index} on disk does not match its hash; fetching it again`);
  }
}
