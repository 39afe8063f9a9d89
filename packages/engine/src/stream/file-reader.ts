/**
 * Reads a file of a torrent while it downloads. Each reader has its own position and readahead
 * window (sharing one between consumers thrashes it): a read gives the pieces under it the
 * earliest deadlines and the pieces of its window later ones, waits until they are verified on
 * disk, and returns exactly the bytes asked for (short only at end of file).
 */
import { ClosedError, UsageError } from '../errors.js';
import { DEFAULT_READAHEAD, ReadaheadWindow, type ReadaheadOptions } from './readahead.js';

/** What a reader needs from its torrent. */
export interface ReaderHost {
  readonly pieceLength: number;
  /** Declares which pieces this reader needs, in order of urgency (earlier = sooner). */
  want(owner: object, urgent: readonly number[], ahead: readonly number[]): void;
  release(owner: object): void;
  /** True when the piece is verified on disk. */
  havePiece(index: number): boolean;
  /** Resolves once every piece in [first, last] is verified on disk. */
  waitForPieces(first: number, last: number, signal?: AbortSignal): Promise<void>;
  /** Reads verified bytes, into `into` when given (its first `length` bytes). */
  readRange(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  /** Told of each read: whether its pieces were all here already (a cache hit) or it had to wait. */
  countRead?(hit: boolean): void;
  /**
   * The most readahead (bytes) a reader may ask for right now, when there is a bound: a bounded
   * cache must hold every open reader's window, so it shrinks as readers come.
   */
  readonly readaheadCap?: number;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /**
   * Where to put the bytes (at least `length` long): a FUSE read hands over the kernel's reply
   * buffer, which saves an allocation and a copy per read.
   */
  into?: Buffer;
}

export class FileReader {
  private readonly readahead: ReadaheadWindow;
  private closed = false;
  /**
   * Piece ranges of the reads in progress. The kernel sends several reads on one open file at
   * once (its own readahead): each must keep its pieces wanted while a later one declares its own.
   */
  private readonly pending = new Set<{ first: number; last: number }>();
  /** The readahead pieces the newest read asked for, [first, last]. */
  private ahead: [number, number] = [-1, -1];

  constructor(
    private readonly host: ReaderHost,
    /** The file's offset and length in the torrent's byte space. */
    readonly fileOffset: number,
    readonly fileLength: number,
    opts?: Partial<ReadaheadOptions>,
  ) {
    this.readahead = new ReadaheadWindow({ ...DEFAULT_READAHEAD, ...opts });
  }

  /** Bytes [position, position+length) of the file; fewer only at end of file. */
  async read(position: number, length: number, opts: ReadOptions = {}): Promise<Buffer> {
    if (this.closed) throw new ClosedError('reader closed');
    if (!Number.isInteger(position) || position < 0 || !Number.isInteger(length) || length < 0) {
      throw new UsageError(`invalid read of ${length} bytes at ${position}`);
    }
    const end = Math.min(this.fileLength, position + length);
    if (end <= position) return Buffer.alloc(0);
    if (opts.into && opts.into.length < end - position) throw new UsageError(`read buffer of ${opts.into.length} bytes for ${end - position}`);
    const ahead = Math.min(this.readahead.onRead(position, end - position), this.host.readaheadCap ?? Infinity);
    const pl = this.host.pieceLength;
    const first = Math.floor((this.fileOffset + position) / pl);
    const last = Math.floor((this.fileOffset + end - 1) / pl);
    const aheadEnd = Math.min(this.fileLength, end + ahead);
    const aheadLast = Math.floor((this.fileOffset + aheadEnd - 1) / pl);
    const range = { first, last };
    this.pending.add(range);
    const here = this.haveAll(first, last);
    this.host.countRead?.(here);
    // Hot path of a sequential reader (a FUSE read is 128 KiB): when its pieces are here and the
    // window ends where it did, there is nothing new to tell the torrent.
    const unchanged = aheadLast === this.ahead[1] && this.pending.size === 1 && here;
    this.ahead = [last + 1, aheadLast];
    if (!unchanged) this.declare();
    try {
      await this.host.waitForPieces(first, last, opts.signal);
    } catch (err) {
      // An aborted read gives up its deadlines; the next read declares what it needs afresh.
      if (opts.signal?.aborted) {
        this.pending.delete(range);
        if (this.pending.size === 0) this.host.release(this);
        else this.declare();
      }
      throw err;
    } finally {
      this.pending.delete(range);
    }
    if (this.closed) throw new ClosedError('reader closed');
    return this.host.readRange(this.fileOffset + position, end - position, opts.into?.subarray(0, end - position));
  }

  private haveAll(first: number, last: number): boolean {
    for (let i = first; i <= last; i++) if (!this.host.havePiece(i)) return false;
    return true;
  }

  /**
   * Tells the host what this reader needs: the pieces under every pending read first (oldest
   * read first), then the readahead window the newest read opened.
   */
  private declare(): void {
    const [aheadFirst, aheadLast] = this.ahead;
    const urgent: number[] = [];
    const seen = new Set<number>();
    for (const r of this.pending) {
      for (let i = r.first; i <= r.last; i++) if (!seen.has(i)) { seen.add(i); urgent.push(i); }
    }
    const later: number[] = [];
    for (let i = aheadFirst; i >= 0 && i <= aheadLast; i++) if (!seen.has(i)) later.push(i);
    this.host.want(this, urgent, later);
  }

  /** Current readahead window in bytes (for status and tests). */
  get window(): number {
    return this.readahead.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.release(this);
  }
}
