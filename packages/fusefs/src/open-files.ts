/**
 * The open file handles of a mount. Each FUSE open gets its own engine FileReader: readers never
 * share a readahead window (sharing one between handles thrashed distribyted; a new reader per
 * read killed anacrolix torrentfs's readahead). Closing the table aborts every pending read, so
 * unmounting never waits on a piece no peer has.
 */
import type { FileReader, ReadaheadOptions, TorrentFile } from '@ct/engine';

export interface OpenFile {
  readonly reader: FileReader;
  readonly size: number;
  readonly file: TorrentFile;
}

export class OpenFiles {
  private readonly handles = new Map<number, OpenFile>();
  private next = 1;
  private readonly shutdown = new AbortController();

  /** Aborted when the mount goes away: pending reads end with EIO at once. */
  get closing(): AbortSignal {
    return this.shutdown.signal;
  }

  get count(): number {
    return this.handles.size;
  }

  open(file: TorrentFile, size: number, readahead?: Partial<ReadaheadOptions>): number {
    const fd = this.next;
    this.next = this.next >= 0xfffffff0 ? 1 : this.next + 1;
    this.handles.set(fd, { reader: file.createReader(readahead), size, file });
    return fd;
  }

  get(fd: number): OpenFile | undefined {
    return this.handles.get(fd);
  }

  close(fd: number): void {
    this.handles.get(fd)?.reader.close();
    this.handles.delete(fd);
  }

  /** Aborts every pending read and closes every reader. */
  closeAll(): void {
    this.shutdown.abort();
    for (const fd of [...this.handles.keys()]) this.close(fd);
  }
}
