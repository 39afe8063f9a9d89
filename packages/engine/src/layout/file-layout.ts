/**
 * File/piece mapping. A torrent's files are concatenated into one byte space cut into pieces; a
 * piece may span several files and a file several pieces. This module answers, without any IO,
 * "which file ranges hold these torrent bytes?" and "which pieces cover this file?". Storage,
 * streaming readers and the FUSE layer all build on it.
 */

export interface LayoutFile {
  readonly offset: number;
  readonly length: number;
  /** Pad files take piece space but are never stored: their bytes are zeros by definition. */
  readonly pad: boolean;
}

/** A contiguous run of torrent bytes that lies inside one file. */
export interface Segment {
  readonly fileIndex: number;
  /** Position inside the file. */
  readonly fileOffset: number;
  readonly length: number;
  /** Position of this run relative to the start of the requested torrent range. */
  readonly rangeOffset: number;
  readonly pad: boolean;
}

export class FileLayout {
  readonly totalLength: number;
  /** Start offsets of files, for binary search; 0-byte files share their neighbour's offset. */
  private readonly starts: number[];

  constructor(
    readonly files: readonly LayoutFile[],
    readonly pieceLength: number,
  ) {
    this.starts = files.map((f) => f.offset);
    const last = files[files.length - 1];
    this.totalLength = last ? last.offset + last.length : 0;
  }

  get pieceCount(): number {
    return Math.ceil(this.totalLength / this.pieceLength);
  }

  pieceSize(index: number): number {
    const start = index * this.pieceLength;
    return Math.min(this.pieceLength, this.totalLength - start);
  }

  /** The file runs covering torrent bytes [offset, offset+length), in order, 0-byte files skipped. */
  segments(offset: number, length: number): Segment[] {
    if (offset < 0 || length < 0 || offset + length > this.totalLength) {
      throw new RangeError(`range ${offset}+${length} outside torrent of ${this.totalLength} bytes`);
    }
    const out: Segment[] = [];
    let i = this.fileAt(offset);
    let pos = offset;
    const end = offset + length;
    while (pos < end && i < this.files.length) {
      const f = this.files[i];
      const fileEnd = f.offset + f.length;
      if (f.length > 0 && pos < fileEnd) {
        const runEnd = Math.min(end, fileEnd);
        out.push({ fileIndex: i, fileOffset: pos - f.offset, length: runEnd - pos, rangeOffset: pos - offset, pad: f.pad });
        pos = runEnd;
      }
      i++;
    }
    return out;
  }

  pieceSegments(index: number): Segment[] {
    return this.segments(index * this.pieceLength, this.pieceSize(index));
  }

  /** Index of the last non-empty file whose start is <= offset (the file holding that byte). */
  fileAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    // Several files may start at `offset` when some are empty: the first non-empty one holds it.
    while (lo > 0 && this.starts[lo - 1] === this.starts[lo]) lo--;
    while (lo < this.files.length - 1 && this.files[lo].length === 0) lo++;
    return lo;
  }

  /** Pieces [first, last] that hold any byte of file `fileIndex`; null for a 0-byte file. */
  filePieces(fileIndex: number): { first: number; last: number } | null {
    const f = this.files[fileIndex];
    if (f.length === 0) return null;
    return { first: Math.floor(f.offset / this.pieceLength), last: Math.floor((f.offset + f.length - 1) / this.pieceLength) };
  }

  /** Files (by index, 0-byte and pad excluded) that piece `index` touches. */
  pieceFiles(index: number): number[] {
    return this.pieceSegments(index).filter((s) => !s.pad).map((s) => s.fileIndex);
  }
}
