/**
 * The files of one torrent on disk. Turns torrent-space reads and writes into positioned IO on
 * the right files (a piece may span several), creates files sparse and lazily (a file no piece
 * has touched does not exist), never writes pad files, and keeps every path inside the download
 * directory. Callback-style `fs.write`/`fs.read` are used on purpose: 10–35% faster than
 * FileHandle promises on this hot path (measured, see DESIGN.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StorageError } from '../errors.js';
import type { FileLayout } from '../layout/file-layout.js';
import { mappedHasher } from './mapped-hash.js';
import { mappedWriter } from './mapped-write.js';
import { PartFile } from './part-file.js';
import { FdPool } from './fd-pool.js';
import { punchHole } from './hole-punch.js';
import { openFd, readAtCachedFirst, writeAt, writevAt } from './positional-io.js';
import { WriteCoalescer } from './write-coalescer.js';


/**
 * Segments smaller than this are written with pwrite even when the mapped writer is there: a
 * mapped write costs fallocate + mmap + madvise + munmap (a TLB shootdown across threads), which
 * for 16 KiB pieces was four syscalls per piece and ~2 s of system time per 512 MiB (strace);
 * one pwrite is one syscall.
 */
const MAPPED_WRITE_MIN_BYTES = 256 * 1024;
/**
 * Up to this many files are stat'ed synchronously at start (a stat is ~3 us on the main thread;
 * through the libuv pool ~30 us of JS each, and 1,000 torrents restored at once spent most of
 * their start-up there); larger torrents go through the pool so the event loop keeps turning.
 */
const SYNC_STAT_MAX_FILES = 64;
export interface StorageFile {
  /** Sanitised components relative to the torrent root. */
  readonly path: readonly string[];
  readonly length: number;
  readonly pad: boolean;
}

export interface StorageOptions {
  /** Open files read-only (seeding data we must not modify). */
  readOnly?: boolean;
  /** At most this many file descriptors open at once (ignored with `fdPool`). */
  maxOpenFiles?: number;
  /** A budget of descriptors shared with other storages (the session's); else one of its own. */
  fdPool?: FdPool;
  /**
   * Where bytes of unallocated files go (see part-file.ts). Without it every file counts as
   * allocated, and a piece writes all of its files.
   */
  partFile?: string;
}

export class TorrentStorage {
  /** Absolute path of every file (pad files included, never opened). */
  readonly filePaths: string[];
  /** Open descriptors by file index, with how many IOs are using each right now. */
  private readonly fds = new Map<number, OpenFile>();
  /** Small writes, gathered while the file is being written and merged into runs. */
  private readonly coalescer = new WriteCoalescer((fileIndex, position, buffers) => this.writeRun(fileIndex, position, buffers));
  /** The last queued write of each file: writes to one file never overlap (see serialised()). */
  private readonly writeChains = new Map<number, Promise<void>>();
  /** Which idle descriptor to close when the budget is reached (shared by a session's torrents). */
  private readonly pool: FdPool;
  /**
   * Per file: may it exist on disk? A file is allocated once it exists, is selected or is read;
   * until then its share of the pieces we store goes to the part file.
   */
  private readonly allocated: boolean[];
  private readonly partFile: PartFile | undefined;
  /**
   * Per unallocated file: the pieces whose share of it was written to the part file in this run,
   * recorded when the write starts (not when it ends), with the writes still in flight. allocate()
   * moves exactly these (plus pieces had from earlier runs) and waits for exactly these writes.
   */
  private readonly partShares = new Map<number, { pieces: Set<number>; inFlight: Set<Promise<void>> }>();
  /**
   * Per file: read at least once in this run (a reader, an upload, the start-up check). Mapped
   * writes to a file nobody reads let the kernel read around and populate the whole window at
   * once (~0.7 s less CPU per GiB); with a reader on the file that read-around slowed a mount's
   * reads to 0.84x (native/mapped_write.c), so once read, a file is written without it.
   */
  private readonly readOnce: boolean[];
  /** Files whose bytes are being moved out of the part file: their reads wait. */
  private readonly moving = new Map<number, Promise<void>>();

  constructor(
    private readonly layout: FileLayout,
    readonly files: readonly StorageFile[],
    /** Folder files are placed in: downloadDir/name for a multi-file torrent, downloadDir otherwise. */
    readonly root: string,
    private readonly opts: StorageOptions = {},
  ) {
    this.pool = opts.fdPool ?? new FdPool(opts.maxOpenFiles ?? 128);
    const base = path.resolve(root);
    this.filePaths = files.map((f) => {
      const p = path.resolve(base, ...f.path);
      if (p !== base && !p.startsWith(base + path.sep)) throw new StorageError(`refusing path outside download dir: ${f.path.join('/')}`);
      return p;
    });
    this.allocated = files.map(() => true);
    this.readOnce = files.map(() => false);
    if (opts.partFile) this.partFile = new PartFile(opts.partFile, opts.readOnly);
  }

  /** With a part file: only files already on disk start allocated. */
  async initAllocation(): Promise<void> {
    if (!this.partFile) return;
    const sizes = await this.statFiles();
    sizes.forEach((size, i) => { this.allocated[i] = size !== undefined || this.files[i].pad; });
  }

  /**
   * Changes whenever a file starts to exist, the part file goes or a piece's bytes are released:
   * each changes the stamps a resume snapshot holds without a piece being verified (the resume
   * store saves on a change).
   */
  allocationVersion = 0;

  isAllocated(fileIndex: number): boolean {
    return this.allocated[fileIndex];
  }

  /**
   * What says a file is unchanged: its inode, size and mtime (ns), or undefined when it cannot be
   * stat'ed. Any write changes the mtime, so an equal stamp means nobody wrote the file since.
   * Taken with fstat on the descriptor reads use, synchronously (an open file's inode is in
   * memory): a seeder stamps a file after every piece it loads, and a stat by path through the
   * libuv pool cost each load a second round trip (~9 % of a seeder's main thread in a profile).
   */
  fileStamp(fileIndex: number): Promise<string | undefined> {
    // No descriptor open (a start, a snapshot of an idle torrent): a stat by path, without taking
    // a descriptor from the session's budget only to stat it.
    if (!this.fds.has(fileIndex)) {
      try {
        const s = fs.statSync(this.filePaths[fileIndex], { bigint: true });
        return Promise.resolve(`${s.ino}:${s.size}:${s.mtimeNs}`);
      } catch {
        return Promise.resolve(undefined);
      }
    }
    return this.withFile(fileIndex, false, async (fd) => {
      const s = fs.fstatSync(fd, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    }).catch(() => undefined);
  }

  /**
   * The part file's stamp, `part:` + inode, size and mtime (ns): the stamp of every file whose
   * bytes live there (not allocated), so the resume data vouches for pieces stored in it as it
   * does for files. Undefined without a part file on disk.
   */
  partFileStamp(): string | undefined {
    if (!this.partFile) return undefined;
    try {
      const s = fs.statSync(this.partFile.path, { bigint: true });
      return `part:${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return undefined;
    }
  }

  /**
   * Lets a file exist on disk from now on, moving in the bytes of it that were stored in the part
   * file (pieces in `have`, or written there in this run). Its reads wait for the move.
   *
   * Which pieces to move is decided at once, when the file flips to allocated: from that moment
   * on its shares are written to the file itself, and a piece verified during the move must not
   * be "moved" too (the part file has nothing of it for this file: copying would overwrite the
   * good bytes with zeros; issue 10's zeros-through-the-mount bug).
   */
  allocate(fileIndex: number, have: (piece: number) => boolean): Promise<void> {
    if (this.allocated[fileIndex] || this.opts.readOnly || !this.partFile) return this.moving.get(fileIndex) ?? Promise.resolve();
    this.allocated[fileIndex] = true; // writes starting now go to the file
    this.allocationVersion++;
    const part = this.partFile;
    const shares = this.partShares.get(fileIndex);
    this.partShares.delete(fileIndex);
    const toMove: number[] = [];
    const range = this.layout.filePieces(fileIndex);
    for (let p = range?.first ?? 0; range && p <= range.last; p++) {
      if (have(p) || shares?.pieces.has(p)) toMove.push(p);
    }
    const job = (async () => {
      if (shares) await Promise.all(shares.inFlight);
      if (this.files[fileIndex].length === 0) await this.createEmptyFile(fileIndex);
      for (const p of toMove) {
        const s = this.layout.pieceSegments(p).find((seg) => seg.fileIndex === fileIndex);
        if (!s) continue;
        const buf = Buffer.allocUnsafe(s.length);
        await part.read(p * this.layout.pieceLength + s.rangeOffset, buf, 0, s.length);
        await this.writeSegment(s.fileIndex, s.fileOffset, buf, 0, s.length);
      }
    })();
    const done = job.finally(async () => {
      this.moving.delete(fileIndex);
      // Nothing left that could need the part file (0-byte files never have bytes there), and no
      // other move still reading from it.
      if (this.moving.size === 0 && this.allocated.every((a, i) => a || this.files[i].length === 0)) await part.remove();
      this.allocationVersion++; // the file's stamp (and perhaps the part file's) changed again
    });
    // Reads of the file wait for the whole job, so its errors reach them.
    this.moving.set(fileIndex, done);
    void done.catch(() => undefined);
    return done;
  }

  /** Which pieces have all their bytes somewhere on disk (to skip reading the others). */
  async storedPieces(): Promise<(index: number) => boolean> {
    const sizes = await this.fileSizes();
    const partSize = this.partFile ? await this.partFile.size() : 0;
    return (index) => this.layout.pieceSegments(index).every((s) => s.pad || (this.allocated[s.fileIndex]
      ? sizes[s.fileIndex] >= s.fileOffset + s.length
      : partSize >= index * this.layout.pieceLength + s.rangeOffset + s.length));
  }

  /**
   * Releases a piece's bytes from its files and the part file (holes; the sizes stay): the
   * bounded cache evicted it. Resolves to false when the filesystem kept some of them.
   */
  async releasePiece(index: number): Promise<boolean> {
    if (this.opts.readOnly) return false;
    const segments = this.layout.pieceSegments(index).filter((s) => !s.pad && s.length > 0);
    const done = await Promise.all(segments.map((s) => {
      if (!this.allocated[s.fileIndex]) return this.partFile?.release(index * this.layout.pieceLength + s.rangeOffset, s.length) ?? Promise.resolve(true);
      return this.withFile(s.fileIndex, true, (fd) => punchHole(fd, this.filePaths[s.fileIndex], s.fileOffset, s.length));
    }));
    // A hole changes the file's mtime: the next resume snapshot must stamp it again.
    this.allocationVersion++;
    return done.every(Boolean);
  }

  /** Writes a verified piece to its files. */
  async writePiece(index: number, data: Buffer): Promise<void> {
    const segments = this.layout.pieceSegments(index).filter((s) => !s.pad);
    await Promise.all(segments.map((s) => {
      if (this.allocated[s.fileIndex] || !this.partFile) return this.writeSegment(s.fileIndex, s.fileOffset, data, s.rangeOffset, s.length);
      return this.writePart(s.fileIndex, index, index * this.layout.pieceLength + s.rangeOffset, data, s.rangeOffset, s.length);
    }));
  }

  private writeSegment(fileIndex: number, fileOffset: number, data: Buffer, off: number, len: number): Promise<void> {
    // Mapped writes run in parallel; pwrites to one file would only queue on its inode lock, so
    // they are serialised, and small ones gathered and merged (write-coalescer.ts).
    if (!mappedWriter || len < MAPPED_WRITE_MIN_BYTES) return this.coalescer.write(fileIndex, fileOffset, data.subarray(off, off + len));
    const mapped = mappedWriter;
    return this.withFile(fileIndex, true, async (fd) => {
      try {
        await mapped.write(fd, fileOffset, data.subarray(off, off + len), !this.readOnce[fileIndex]);
      } catch (err) {
        throw this.writeError(fileIndex, err);
      }
    });
  }

  /** One run of contiguous writes to a file (see WriteCoalescer). */
  private writeRun(fileIndex: number, position: number, buffers: Buffer[]): Promise<void> {
    return this.serialised(fileIndex, () => this.withFile(fileIndex, true, async (fd) => {
      try {
        if (buffers.length === 1) await writeAt(fd, buffers[0], 0, buffers[0].length, position);
        else await writevAt(fd, buffers, position);
      } catch (err) {
        throw this.writeError(fileIndex, err);
      }
    }));
  }

  private writeError(fileIndex: number, err: unknown): StorageError {
    return new StorageError(`cannot write ${this.filePaths[fileIndex]}: ${(err as Error).message}`, { cause: err });
  }

  private writePart(fileIndex: number, piece: number, torrentOffset: number, data: Buffer, off: number, len: number): Promise<void> {
    const part = this.partFile as PartFile;
    let shares = this.partShares.get(fileIndex);
    if (!shares) this.partShares.set(fileIndex, shares = { pieces: new Set(), inFlight: new Set() });
    shares.pieces.add(piece);
    const job = part.write(torrentOffset, data, off, len).catch((err: Error) => {
      throw new StorageError(`cannot write ${part.path}: ${err.message}`, { cause: err });
    });
    const settled = job.catch(() => undefined);
    const inFlight = shares.inFlight;
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return job;
  }

  /** Which write path this process uses, for status and benchmarks. */
  static get writePath(): 'mapped' | 'pwrite' {
    return mappedWriter ? 'mapped' : 'pwrite';
  }

  /**
   * Runs writes to one file one after another. Buffered writes to a file take its inode lock
   * exclusively; four libuv threads writing the same file spent 2.35 s of system time spinning on
   * it per GiB (measured per thread), against ~0.6 s when they take turns.
   */
  private serialised(fileIndex: number, job: () => Promise<void>): Promise<void> {
    const previous = this.writeChains.get(fileIndex) ?? Promise.resolve();
    const next = previous.then(job, job);
    const tail = next.catch(() => undefined);
    this.writeChains.set(fileIndex, tail);
    void tail.then(() => { if (this.writeChains.get(fileIndex) === tail) this.writeChains.delete(fileIndex); });
    return next;
  }

  /**
   * Reads torrent bytes [offset, offset+length) into `into` (or a new buffer). Pad files and
   * bytes past the end of a short or missing file read as zeros; returns the buffer.
   * A new buffer is not zero-filled first: every path below writes each of its bytes (read, or
   * filled with zeros), and zero-filling cost 0.28 s of main-thread CPU per GiB streamed by HTTP.
   */
  async read(offset: number, length: number, into: Buffer = Buffer.allocUnsafe(length)): Promise<Buffer> {
    const segments = this.layout.segments(offset, length);
    await Promise.all(segments.map(async (s) => {
      if (s.pad) {
        into.fill(0, s.rangeOffset, s.rangeOffset + s.length);
        return;
      }
      if (!this.allocated[s.fileIndex] && this.partFile) {
        await this.partFile.read(offset + s.rangeOffset, into, s.rangeOffset, s.length);
        return;
      }
      await this.moving.get(s.fileIndex);
      this.readOnce[s.fileIndex] = true;
      const n = await this.withFile(s.fileIndex, false, (fd) => readAtCachedFirst(fd, into, s.rangeOffset, s.length, s.fileOffset))
        .catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return 0; // a file no piece has touched yet reads as zeros
          throw err;
        });
      if (n < s.length) into.fill(0, s.rangeOffset + n, s.rangeOffset + s.length);
    }));
    return into;
  }

  async readPiece(index: number, into?: Buffer): Promise<Buffer> {
    const size = this.layout.pieceSize(index);
    return this.read(index * this.layout.pieceLength, size, into);
  }

  /** Whether hashInPlace() can be tried at all (the native addon is there). */
  get hashesInPlace(): boolean {
    return mappedHasher !== undefined;
  }

  /**
   * SHA-1 of each of `indices`, hashed straight from its files' page cache (storage/mapped-hash.ts)
   * for the check of what is on disk: 20 bytes per piece, in order. Undefined when that cannot be
   * done (no addon, a piece with bytes in the part file) or failed (a file missing or shorter
   * than the pieces need, a read error): the caller reads those pieces (readPiece) instead, which
   * reports errors its usual way.
   */
  async hashInPlace(indices: readonly number[]): Promise<Buffer | undefined> {
    const hasher = mappedHasher;
    if (!hasher) return undefined;
    const pieces = indices.map((i) => this.layout.pieceSegments(i));
    const files = new Set<number>();
    for (const s of pieces.flat()) {
      if (s.pad) continue;
      if (!this.allocated[s.fileIndex] && this.partFile) return undefined;
      files.add(s.fileIndex);
    }
    for (const f of files) {
      await this.moving.get(f);
      this.readOnce[f] = true;
    }
    const ranges = new Float64Array(3 * pieces.reduce((n, segs) => n + segs.length, 0));
    const ends = new Uint32Array(pieces.length);
    try {
      return await this.withFiles([...files], (fds) => {
        let r = 0;
        pieces.forEach((segs, p) => {
          for (const s of segs) ranges.set([s.pad ? -1 : fds.get(s.fileIndex)!, s.fileOffset, s.length], 3 * r++);
          ends[p] = r;
        });
        return hasher.hashFileRanges(ranges, ends);
      });
    } catch {
      return undefined;
    }
  }

  /** withFile() for several files at once: `io` gets each one's descriptor by file index. */
  private withFiles<T>(fileIndexes: readonly number[], io: (fds: Map<number, number>) => Promise<T>, fds = new Map<number, number>()): Promise<T> {
    if (fds.size === fileIndexes.length) return io(fds);
    const next = fileIndexes[fds.size];
    return this.withFile(next, false, (fd) => this.withFiles(fileIndexes, io, fds.set(next, fd)));
  }

  /** Current on-disk sizes (0 for missing files), for the resume check. */
  private async fileSizes(): Promise<number[]> {
    const sizes = await this.statFiles();
    return sizes.map((size, i) => (this.files[i].pad ? this.files[i].length : size ?? 0));
  }

  /** Each file's size on disk, undefined when it is not there (pad files are never stat'ed). */
  private async statFiles(): Promise<(number | undefined)[]> {
    if (this.filePaths.length <= SYNC_STAT_MAX_FILES) {
      return this.filePaths.map((p, i) => {
        if (this.files[i].pad) return undefined;
        try {
          return fs.statSync(p).size;
        } catch {
          return undefined;
        }
      });
    }
    return Promise.all(this.filePaths.map((p, i) => (this.files[i].pad ? undefined : fs.promises.stat(p).then((s) => s.size, () => undefined))));
  }

  /** Creates allocated 0-byte files (no piece ever writes them) and the folders they live in. */
  async createEmptyFiles(): Promise<void> {
    if (this.opts.readOnly) return;
    await Promise.all(this.files.map(async (f, i) => {
      if (f.length === 0 && !f.pad && this.allocated[i]) await this.createEmptyFile(i);
    }));
  }

  private async createEmptyFile(fileIndex: number): Promise<void> {
    await fs.promises.mkdir(path.dirname(this.filePaths[fileIndex]), { recursive: true });
    await (await fs.promises.open(this.filePaths[fileIndex], 'a')).close();
  }

  async close(): Promise<void> {
    await this.partFile?.close();
    const files = [...this.fds.values()];
    for (const f of files) this.pool.removed(f);
    this.fds.clear();
    await Promise.all(files.map((f) => f.fd.then((fd) => new Promise<void>((r) => fs.close(fd, () => r())), () => undefined)));
  }

  /**
   * Runs `io` with an open descriptor of the file. A descriptor is closed (to stay under
   * `maxOpenFiles`) only while no IO uses it: closing one under an in-flight IO could let the
   * number be reused by another file and the IO land there.
   */
  private async withFile<T>(fileIndex: number, forWrite: boolean, io: (fd: number) => Promise<T>): Promise<T> {
    let entry = this.fds.get(fileIndex);
    if (entry && forWrite && !entry.writable && !this.opts.readOnly) {
      // Opened by a read before the file existed for writing: reopen with create + allocation.
      this.closeWhenIdle(fileIndex, entry);
      entry = undefined;
    }
    if (!entry) {
      this.pool.makeRoom();
      const writable = forWrite && !this.opts.readOnly;
      entry = { fd: this.doOpen(fileIndex, writable), users: 0, writable };
      const created = entry;
      this.fds.set(fileIndex, created);
      this.pool.added(created, () => {
        if (created.users > 0) return false;
        this.closeWhenIdle(fileIndex, created);
        return true;
      });
      created.fd.catch(() => {
        if (this.fds.get(fileIndex) === created) this.fds.delete(fileIndex);
        this.pool.removed(created);
      });
    }
    entry.users++;
    try {
      return await io(await entry.fd);
    } finally {
      entry.users--;
      if (entry.closing && entry.users === 0) void entry.fd.then((fd) => fs.close(fd, () => undefined), () => undefined);
      else if (this.fds.get(fileIndex) === entry) this.pool.touched(entry);
      // Many IOs at once (1,000 torrents stamping their files at start) pass the budget: back under it.
      if (this.pool.size > this.pool.max) this.pool.makeRoom();
    }
  }

  private closeWhenIdle(fileIndex: number, entry: OpenFile): void {
    if (this.fds.get(fileIndex) === entry) this.fds.delete(fileIndex);
    this.pool.removed(entry);
    entry.closing = true;
    if (entry.users === 0) void entry.fd.then((fd) => fs.close(fd, () => undefined), () => undefined);
  }

  private async doOpen(fileIndex: number, create: boolean): Promise<number> {
    const file = this.filePaths[fileIndex];
    if (!create) {
      // Reads never create files: a missing file reads as zeros (ENOENT is handled by read()).
      return openFd(file, this.opts.readOnly ? fs.constants.O_RDONLY : fs.constants.O_RDWR);
    }
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const fd = await openFd(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
      // Sparse allocation: the file gets its final size at once, without writing zeros, so
      // readers see the right length and the filesystem can place extents well.
      const size = (await fs.promises.stat(file)).size;
      if (size < this.files[fileIndex].length) await new Promise<void>((resolve, reject) =>
        fs.ftruncate(fd, this.files[fileIndex].length, (err) => (err ? reject(err) : resolve())));
      return fd;
    } catch (err) {
      throw new StorageError(`cannot open ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
}

interface OpenFile {
  fd: Promise<number>;
  users: number;
  writable: boolean;
  /** Evicted: close as soon as the last user is done. */
  closing?: boolean;
}
