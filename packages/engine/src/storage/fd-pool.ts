/**
 * The session's budget of open file descriptors, shared by every torrent's storage. Each
 * storage keeps descriptors open between IOs (an open, a read and a close per 16 KiB block would
 * triple the syscalls of a seeder), so 1,000 seeding torrents held 1,000 descriptors; here the
 * least recently used idle one, of any torrent, is closed to make room. One in use by an IO is
 * never closed (its number could be reused by another file and the IO land there), so the count
 * can pass the budget by the IOs in flight.
 */
export class FdPool {
  /** Entry -> closes it if idle (true) or says it is busy (false); Map order is LRU order. */
  private readonly open = new Map<object, () => boolean>();

  constructor(readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Before opening one more: closes idle descriptors, oldest first, until there is room. */
  makeRoom(): void {
    for (const [entry, closeIfIdle] of this.open) {
      if (this.open.size < this.max) return;
      if (closeIfIdle()) this.open.delete(entry);
    }
  }

  added(entry: object, closeIfIdle: () => boolean): void {
    this.open.set(entry, closeIfIdle);
  }

  /** Just used: the last to be closed. */
  touched(entry: object): void {
    const close = this.open.get(entry);
    if (!close) return;
    this.open.delete(entry);
    this.open.set(entry, close);
  }

  removed(entry: object): void {
    this.open.delete(entry);
  }
}
