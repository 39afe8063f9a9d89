/**
 * Where the bytes of files we do not want go when a piece we do want spans them. A piece is
 * hashed whole, so a piece shared by a selected file and a deselected one must be downloaded and
 * stored whole; writing the deselected file's share into that file would create it (the thing
 * deselecting is meant to prevent). libtorrent keeps those bytes in a part file; so do we.
 *
 * Layout: one hidden sparse file per torrent in the download directory, holding each byte at its
 * offset in the torrent's byte space. Only the ranges written take disk space (a boundary piece's
 * share, typically less than a piece per deselected neighbour); no index to keep consistent, and
 * a crash loses nothing the resume check would not notice.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { punchHole } from './hole-punch.js';
import { openFd, readAt, writeAt } from './positional-io.js';

export class PartFile {
  /** Opened on the first write or read; undefined until then. */
  private fd: Promise<number> | undefined;
  /** Reads and writes in progress: close() and remove() wait for them (closing under one could
   *  let the descriptor number be reused and the IO land in another file). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(readonly path: string, private readonly readOnly = false) {}

  /** Stores `data` as the torrent bytes starting at `torrentOffset`. */
  write(torrentOffset: number, data: Buffer, off: number, len: number): Promise<void> {
    return this.track(this.open(true).then((fd) => writeAt(fd, data, off, len, torrentOffset)));
  }

  /** Reads torrent bytes into `into`; bytes never stored read as zeros. Returns `len`. */
  read(torrentOffset: number, into: Buffer, off: number, len: number): Promise<number> {
    return this.track((async () => {
      const fd = await this.open(false).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      const n = fd === undefined ? 0 : await readAt(fd, into, off, len, torrentOffset);
      if (n < len) into.fill(0, off + n, off + len);
      return len;
    })());
  }

  private track<T>(op: Promise<T>): Promise<T> {
    const settled = op.then(() => undefined, () => undefined);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return op;
  }

  /** Apparent size: torrent bytes up to this offset may be stored here. */
  /** Its size (0 when absent). A stat of one path, synchronously: asked once per start-up check. */
  async size(): Promise<number> {
    try {
      return fs.statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  /** Releases the stored torrent bytes [torrentOffset, +len) (a hole); false when they stay. */
  release(torrentOffset: number, len: number): Promise<boolean> {
    if (this.readOnly) return Promise.resolve(false);
    return this.track((async () => {
      const fd = await this.open(false).catch(() => undefined);
      return fd === undefined ? true : punchHole(fd, this.path, torrentOffset, len);
    })());
  }

  /** Deletes the file once nothing is left in it that a file needs. */
  async remove(): Promise<void> {
    await this.close();
    await fs.promises.rm(this.path, { force: true });
  }

  async close(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    const fd = this.fd;
    this.fd = undefined;
    if (fd) await fd.then((n) => new Promise<void>((r) => fs.close(n, () => r())), () => undefined);
  }

  private open(forWrite: boolean): Promise<number> {
    if (this.fd) return this.fd;
    const opening = forWrite && !this.readOnly
      ? fs.promises.mkdir(path.dirname(this.path), { recursive: true })
        .then(() => openFd(this.path, fs.constants.O_RDWR | fs.constants.O_CREAT))
      // A read never creates the file; a missing one (ENOENT) is not remembered.
      : openFd(this.path, this.readOnly ? fs.constants.O_RDONLY : fs.constants.O_RDWR);
    this.fd = opening;
    opening.catch(() => { if (this.fd === opening) this.fd = undefined; });
    return opening;
  }
}
