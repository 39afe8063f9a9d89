/**
 * On start, find which pieces are already on disk and valid, so only the rest is fetched (and a
 * seeder knows what it can serve). Pieces whose files are missing or too short are skipped
 * without reading. The others are hashed in place, straight from the page cache of their files
 * (TorrentStorage.hashInPlace, in batches of consecutive pieces on the libuv pool); where that
 * is not possible they are read into buffers and hashed (HasherPool) with a few pieces in
 * flight, so disk reads and hashing overlap.
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
  /** Hash in place where the storage can (default); false: always read into buffers (tests). */
  inPlace?: boolean;
}

/**
 * A batch hashed in place: bytes up to the native window (native/sha1_file.c maps 8 MiB at
 * once), and few enough files that holding all of their descriptors stays well under the cap.
 */
const BATCH_BYTES = 8 * 1024 * 1024;
const BATCH_FILES = 16;
/** Batches hashed in place at once: two keep both cores busy; each maps up to 8 MiB (RSS). */
const BATCHES_IN_FLIGHT = 2;

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
  let checked = 0;
  const verified = (index: number, digest: Uint8Array): void => {
    if (Buffer.compare(digest, expectedHash(index)) === 0) result.set(index);
    opts.onProgress?.(++checked, candidates.length);
  };
  // Whatever cannot be hashed in place is read into buffers, `concurrency` pieces at a time.
  const concurrency = opts.concurrency ?? 4;
  let buffers: Buffer[] | undefined;
  const readAndHash = async (indices: readonly number[]): Promise<void> => {
    buffers ??= Array.from({ length: concurrency }, () => allocPieceBuffer(layout.pieceLength));
    let next = 0;
    await Promise.all(buffers.map(async (buf) => {
      while (next < indices.length) {
        const index = indices[next++];
        const view = buf.subarray(0, layout.pieceSize(index));
        await storage.readPiece(index, view);
        verified(index, await hasher.hash(view));
      }
    }));
  };
  if (opts.inPlace === false || !storage.hashesInPlace) {
    await readAndHash(candidates);
    return result;
  }
  const batches = inPlaceBatches(layout, candidates);
  let nextBatch = 0;
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, async () => {
    while (nextBatch < batches.length) {
      const batch = batches[nextBatch++];
      const digests = await storage.hashInPlace(batch);
      if (!digests) await readAndHash(batch);
      else batch.forEach((index, i) => verified(index, digests.subarray(20 * i, 20 * i + 20)));
    }
  }));
  return result;
}

/** Candidates cut into runs of consecutive pieces within BATCH_BYTES and BATCH_FILES. */
function inPlaceBatches(layout: FileLayout, candidates: readonly number[]): number[][] {
  const batches: number[][] = [];
  let batch: number[] = [];
  let bytes = 0;
  let files = new Set<number>();
  for (const index of candidates) {
    const pieceFiles = layout.pieceFiles(index);
    const newFiles = pieceFiles.filter((f) => !files.has(f)).length;
    const consecutive = batch.length === 0 || batch[batch.length - 1] === index - 1;
    if (batch.length > 0 && (!consecutive || bytes + layout.pieceSize(index) > BATCH_BYTES || files.size + newFiles > BATCH_FILES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
      files = new Set();
    }
    for (const f of pieceFiles) files.add(f);
    batch.push(index);
    bytes += layout.pieceSize(index);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
