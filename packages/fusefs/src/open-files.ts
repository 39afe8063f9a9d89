/**
 * The open file handles of a mount. Each FUSE open gets its own engine FileReader: readers never
 * share a readahead window (sharing one between handles thrashed distribyted; a new reader per
 * read killed anacrolix torrentfs's readahead). Closing the table aborts every pending read, so
 * unmounting never waits on a piece no peer has.
 */
import type { FileReader, ReadaheadOptions, TorrentFile } from '@ct/engine';

export class OpenFile {
  /** Byte ranges whose read ran out of time lately, newest last (a few at most). */
  private timeouts: { start: number; end: number; at: number }[] = [];

  constructor(readonly reader: FileReader, readonly size: number, readonly file: TorrentFile, readonly torrentId: string) {}

  /** A read of [pos, pos+len) waited its full timeout and failed. */
  noteTimeout(pos: number, len: number, now: number): void {
    this.timeouts.push({ start: pos, end: pos + len, at: now });
    if (this.timeouts.length > 8) this.timeouts.shift();
  }

  /** True when [pos, pos+len) overlaps a range that timed out less than `windowMs` ago. */
  recentTimeout(pos: number, len: number, now: number, windowMs: number): boolean {
    return this.timeouts.some((t) => now - t.at < windowMs && pos < t.end && t.start < pos + len);
  }
}

/** One read in progress: its signal aborts at its deadline or when the mount goes away. */
export interface PendingRead {
  readonly signal: AbortSignal;
  /** True when the read ran out of time (rather than the mount closing). */
  readonly timedOut: boolean;
  /** The read is over: stop its timer. */
  end(): void;
}

export class OpenFiles {
  private readonly handles = new Map<number, OpenFile>();
  private next = 1;
  /** Reads in progress, aborted together by closeAll(). */
  private readonly reads = new Set<AbortController>();
  private closed = false;
  /** Handles of torrents taken out of the mount, until released: their reads fail with EIO. */
  private readonly orphaned = new Set<number>();
  /** Set by closeAll(): the mount is going away, reads of any handle fail with EIO. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Starts the clock of one read. A controller and a timer per read: AbortSignal.timeout() plus
   * AbortSignal.any() cost 5x more (100 ms of main thread per GiB read in 128 KiB FUSE reads).
   */
  beginRead(timeoutMs: number): PendingRead {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
    if (this.closed) controller.abort();
    else this.reads.add(controller);
    return {
      signal: controller.signal,
      get timedOut() { return timedOut; },
      end: () => { clearTimeout(timer); this.reads.delete(controller); },
    };
  }

  get count(): number {
    return this.handles.size;
  }

  /** True for a handle whose torrent left the mount (closeTorrent) and that is not yet released. */
  isOrphaned(fd: number): boolean {
    return this.orphaned.has(fd);
  }

  open(file: TorrentFile, size: number, torrentId: string, readahead?: Partial<ReadaheadOptions>): number {
    const fd = this.next;
    this.next = this.next >= 0xfffffff0 ? 1 : this.next + 1;
    this.handles.set(fd, new OpenFile(file.createReader(readahead), size, file, torrentId));
    return fd;
  }

  get(fd: number): OpenFile | undefined {
    return this.handles.get(fd);
  }

  close(fd: number): void {
    this.handles.get(fd)?.reader.close();
    this.handles.delete(fd);
    this.orphaned.delete(fd);
  }

  /** A torrent left the mount: its open handles stay open for the kernel, but every read fails. */
  closeTorrent(torrentId: string): void {
    for (const [fd, handle] of this.handles) {
      if (handle.torrentId !== torrentId) continue;
      handle.reader.close();
      this.handles.delete(fd);
      this.orphaned.add(fd);
    }
  }

  /** Aborts every pending read and closes every reader. */
  closeAll(): void {
    this.closed = true;
    for (const read of this.reads) read.abort();
    this.reads.clear();
    for (const fd of [...this.handles.keys()]) this.close(fd);
  }
}
