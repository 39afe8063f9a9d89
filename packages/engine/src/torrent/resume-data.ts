/**
 * Fast resume: what a torrent had on disk when it last saved, so a restart trusts it instead of
 * hashing everything again. A snapshot is the verified pieces plus a stamp (inode, size, mtime in
 * ns; TorrentStorage.fileStamp) of every file; a file not on disk, whose share of pieces lives in
 * the part file, carries the part file's stamp (`part:...`). On start, a piece whose files all
 * carry the stamp they had at the snapshot is taken as the snapshot says (had or not had); a
 * piece touching a file that changed or is gone, or whose part file changed, is hashed again
 * (resume-check.ts).
 *
 * Why it is safe: the snapshot's pieces were written before they were marked verified, and ct
 * never writes a verified piece again, so a later write of ours only touches pieces the snapshot
 * lacks. Anything else that writes a file changes its mtime (or inode, or size), and that file is
 * rechecked. Pure: no IO; the caller stamps files and stores the JSON.
 */
import { Bitfield } from '../util/bitfield.js';
import type { FileLayout } from '../layout/file-layout.js';

/** The stored form (JSON-safe). Opaque to callers: produce with Torrent.resumeData(). */
export interface ResumeData {
  readonly version: 1;
  /** Hex infohash: a snapshot only ever applies to its own torrent. */
  readonly infoHash: string;
  /** The verified pieces, as a base64 BitTorrent bitfield. */
  readonly pieces: string;
  /** Per file of the torrent (pad files included, as null): its stamp at the snapshot, or null. */
  readonly files: readonly (string | null)[];
  /** Pieces the bounded cache holds, least recently read first: its order after a restart. */
  readonly recency?: readonly number[];
}

export function snapshot(infoHash: string, have: Bitfield, stamps: ReadonlyMap<number, string>, fileCount: number, recency?: readonly number[]): ResumeData {
  return {
    version: 1,
    infoHash,
    pieces: Buffer.from(have.bytes).toString('base64'),
    files: Array.from({ length: fileCount }, (_, i) => stamps.get(i) ?? null),
    ...(recency?.length ? { recency } : {}),
  };
}

/** The cache's recency order a snapshot kept (valid piece indexes, each once), or [] when it has none. */
export function savedRecency(data: unknown, pieceCount: number): number[] {
  const r = (data as { recency?: unknown } | null)?.recency;
  if (!Array.isArray(r)) return [];
  const seen = new Set<number>();
  return r.filter((i): i is number => Number.isInteger(i) && i >= 0 && i < pieceCount && !seen.has(i) && (seen.add(i), true));
}

export interface ResumePlan {
  /** Pieces taken as had without hashing. */
  readonly trusted: Bitfield;
  /** Pieces to hash: those touching a file whose stamp is not the snapshot's. */
  readonly recheck: (index: number) => boolean;
  /** Files whose stamp changed (for logs and tests). */
  readonly changedFiles: readonly number[];
}

/**
 * What `data` lets a start skip, given the stamps the files carry now; undefined when `data` is
 * not a valid snapshot of this torrent (then everything is checked, as without one).
 */
export function planResume(data: unknown, infoHash: string, layout: FileLayout, stamps: ReadonlyMap<number, string>): ResumePlan | undefined {
  const saved = validSnapshot(data, infoHash, layout);
  if (!saved) return undefined;
  const unchanged = layout.files.map((f, i) => f.pad || f.length === 0 || (saved.files[i] !== null && stamps.get(i) === saved.files[i]));
  const trusted = new Bitfield(layout.pieceCount);
  const rechecked = new Uint8Array(layout.pieceCount);
  for (let i = 0; i < layout.pieceCount; i++) {
    if (layout.pieceSegments(i).every((s) => unchanged[s.fileIndex])) {
      if (saved.have.get(i)) trusted.set(i);
    } else {
      rechecked[i] = 1;
    }
  }
  return {
    trusted,
    recheck: (i) => rechecked[i] === 1,
    changedFiles: unchanged.flatMap((same, i) => (same ? [] : [i])),
  };
}

function validSnapshot(data: unknown, infoHash: string, layout: FileLayout): { have: Bitfield; files: readonly (string | null)[] } | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Partial<Record<keyof ResumeData, unknown>>;
  if (d.version !== 1 || d.infoHash !== infoHash || typeof d.pieces !== 'string' || !Array.isArray(d.files)) return undefined;
  if (d.files.length !== layout.files.length || !d.files.every((s) => s === null || typeof s === 'string')) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(d.pieces)) return undefined;
  const bytes = Buffer.from(d.pieces, 'base64');
  if (!Bitfield.isValidWire(bytes, layout.pieceCount)) return undefined;
  return { have: new Bitfield(layout.pieceCount, bytes), files: d.files as (string | null)[] };
}
