/**
 * On start, find which pieces are already on disk and valid, so only the rest is fetched (and a
 * seeder knows what it can serve). Pieces whose files are missing or too short are skipped
 * without reading; the others are read and hashed with a few pieces in flight, so disk reads
 * and hashing (HasherPool, off the main thread) overlap.
 */
import { Bitfield } from '../util/bitfield.js';
import type { FileLayout } from '../layout/file-layout.js';
import { allocPieceBuffer, type HasherPool } from '../hash/hasher-pool.js';
import type { TorrentStorage } from './torrent-storage.js';

export interface ResumeCheckOptions {
  /** Pieces read and hashed concurrently. */
  concurrency?: number;
  /** Only these pieces are checked (others count as missing); all when omitted. */
  only?: (index: number) => boolean;
  onProgress?: (checked: number, total: number) => void;
}

export async function checkExistingPieces(
  layout: FileLayout,
  storage: TorrentStorage,
  hasher: HasherPool,
  expectedHash: (index: number) => Buffer,
  opts: ResumeCheckOptions = {},
): Promise<Bitfield> {
  const result = new Bitfield(layout.pieceCount);
  const stored = await storage.storedPieces();
  const candidates: number[] = [];
  for (let i = 0; i < layout.pieceCount; i++) {
    if (opts.only && !opts.only(i)) continue;
    if (stored(i)) candidates.push(i);
  }
  const concurrency = opts.concurrency ?? 4;
  const buffers = Array.from({ length: concurrency }, () => allocPieceBuffer(layout.pieceLength));
  let next = 0;
  let checked = 0;
  const worker = async (buf: Buffer): Promise<void> => {
    while (next < candidates.length) {
      const index = candidates[next++];
      const view = buf.subarray(0, layout.pieceSize(index));
      await storage.readPiece(index, view);
      if (await hasher.verify(view, expectedHash(index))) result.set(index);
      opts.onProgress?.(++checked, candidates.length);
    }
  };
  await Promise.all(buffers.map(worker));
  return result;
}
