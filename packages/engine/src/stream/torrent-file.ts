/**
 * One file of a torrent as an embedding program sees it: where it lies in the torrent, how much of
 * it is verified, readers for it, and its download priority.
 */
import type { FileLayout } from '../layout/file-layout.js';
import type { TorrentFileEntry } from '../metainfo/metainfo.js';
import { FileReader, type ReaderHost } from './file-reader.js';
import { createFileReadStream, type FileReadStreamOptions } from './file-read-stream.js';
import type { Readable } from 'node:stream';
import type { ReadaheadOptions } from './readahead.js';

export interface FileHost extends ReaderHost {
  readonly layout: FileLayout;
  havePiece(index: number): boolean;
  /** Changes whenever the set of verified pieces does. */
  readonly haveVersion: number;
  setFilePriority(fileIndex: number, priority: number): void;

  filePriority(fileIndex: number): number;
  /** A reader was created: the file may now exist on disk. */
  fileOpened(fileIndex: number): void;
}

export class TorrentFile {
  constructor(
    private readonly host: FileHost,
    /** Index in the torrent's file list (pad files included), as FileLayout numbers them. */
    readonly index: number,
    private readonly entry: TorrentFileEntry,
  ) {}

  /** Sanitised path inside the torrent ('/'-separated). */
  get path(): string { return this.entry.path.join('/'); }
  get length(): number { return this.entry.length; }
  /** BEP 47: the entry is a symlink to this path inside the torrent ('/'-separated). */
  get symlinkTarget(): string | undefined { return this.entry.symlink?.join('/'); }
  /** Offset of the file's first byte in the torrent's byte space. */
  get offset(): number { return this.entry.offset; }

  /** First and last piece holding bytes of this file; null for a 0-byte file. */
  get pieces(): { first: number; last: number } | null {
    return this.host.layout.filePieces(this.index);
  }

  /**
   * Verified bytes of this file. Cached until the torrent's verified pieces change: a mount asks
   * for it on every getattr (for `du`), on the event loop that serves FUSE.
   */
  get downloaded(): number {
    if (this.downloadedAt !== this.host.haveVersion) {
      this.downloadedAt = this.host.haveVersion;
      this.downloadedBytes = this.verifiedRanges().reduce((sum, [a, b]) => sum + (b - a), 0);
    }
    return this.downloadedBytes;
  }
  private downloadedAt = -1;
  private downloadedBytes = 0;

  /** Verified byte ranges [start, end) inside the file, merged. */
  verifiedRanges(): [number, number][] {
    const range = this.pieces;
    if (!range) return [];
    const pl = this.host.layout.pieceLength;
    const out: [number, number][] = [];
    for (let i = range.first; i <= range.last; i++) {
      if (!this.host.havePiece(i)) continue;
      const start = Math.max(0, i * pl - this.offset);
      const end = Math.min(this.length, (i + 1) * pl - this.offset);
      const prev = out[out.length - 1];
      if (prev && prev[1] === start) prev[1] = end;
      else out.push([start, end]);
    }
    return out;
  }

  /** A reader with its own position and readahead window. */
  createReader(opts?: Partial<ReadaheadOptions>): FileReader {
    this.host.fileOpened(this.index);
    return new FileReader(this.host, this.offset, this.length, opts);
  }

  /**
   * The bytes [start, end] (end inclusive, like fs.createReadStream) as a Readable with a reader
   * of its own; destroying it releases what it was waiting for.
   */
  createReadStream(opts: FileReadStreamOptions & Partial<ReadaheadOptions> = {}): Readable {
    return createFileReadStream(this.createReader(opts), this.length, opts);
  }

  /**
   * Its download priority: 0 when only reads fetch it (deselected, or the torrent is on demand),
   * 1..7 when it is fetched in the background.
   */
  get priority(): number { return this.host.filePriority(this.index); }

  /** Downloads this file in the background at `priority` (1..7, default 4). */
  select(priority = 4): void {
    this.host.setFilePriority(this.index, priority);
  }

  /** Stops downloading this file (reads still fetch what they need). */
  deselect(): void {
    this.host.setFilePriority(this.index, 0);
  }
}
