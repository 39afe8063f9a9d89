/**
 * `DIR/.ct/add/` of a `ct serve` mount: the one writable folder. A file written there (cp, a
 * shell redirect, a browser's download) is handed to the service when it is closed: a `.torrent`
 * or a `.magnet` (a magnet link as text) is added, and its folder appears in the mount; anything
 * else, or a torrent that cannot be added, fails the close (`cp` says "failed to close":
 * EINVAL) with the reason in the service's log. The file then leaves the folder. `DIR/.ct` is
 * not listed in the root. Pure bookkeeping: no FUSE calls, no timers; fuse-ops.ts routes every
 * path under `/.ct` here.
 */
import { Errno } from './errno.js';

/** What the mount does with a finished file: resolves once it is added, rejects to refuse it. */
export type AcceptFile = (name: string, bytes: Buffer) => Promise<void>;

export const ADD_FOLDER_ROOT = '/.ct';
/** Names at the root of the tree no torrent takes, add folder or not, so names stay the same either way (WebDAV shows the same tree). */
export const RESERVED_ROOT_NAMES: readonly string[] = [ADD_FOLDER_ROOT.slice(1)];
export const ADD_FOLDER = '/.ct/add';
/** A torrent file is at most this large (as the API and the watch folder take). */
export const MAX_ADD_FILE_BYTES = 8 * 1024 * 1024;
/** Files being written at once. */
const MAX_PENDING = 64;
/** Handles of this folder are numbered apart from those of torrent files (OpenFiles). */
const FIRST_FD = 1 << 30;

interface Pending {
  data: Buffer;
  size: number;
  /** Open handles on it: it leaves the folder when the last is released. */
  handles: number;
  /** Set once it was handed over at a flush, so later flushes answer the same. */
  outcome?: Promise<number>;
  readonly time: Date;
}

export type AddFolderNode = { kind: 'dir' } | { kind: 'file'; size: number; time: Date };

export class AddFolder {
  private readonly files = new Map<string, Pending>();
  private readonly fds = new Map<number, string>();
  private nextFd = FIRST_FD;

  constructor(private readonly accept: AcceptFile) {}

  /** Is `p` this folder's business (`/.ct`, `/.ct/add`, or a file in it)? */
  static owns(p: string): boolean {
    return p === ADD_FOLDER_ROOT || p.startsWith(`${ADD_FOLDER_ROOT}/`);
  }

  ownsFd(fd: number): boolean {
    return this.fds.has(fd);
  }

  get(p: string): AddFolderNode | undefined {
    if (p === ADD_FOLDER_ROOT || p === ADD_FOLDER) return { kind: 'dir' };
    const f = this.files.get(this.nameOf(p) ?? '');
    return f ? { kind: 'file', size: f.size, time: f.time } : undefined;
  }

  list(p: string): string[] | number {
    if (p === ADD_FOLDER_ROOT) return ['add'];
    if (p === ADD_FOLDER) return [...this.files.keys()];
    return this.get(p) ? Errno.ENOTDIR : Errno.ENOENT;
  }

  /** A new file (create, or open with O_CREAT on a name not there): its handle, or an errno. */
  create(p: string): number {
    const name = this.nameOf(p);
    if (name === undefined) return p === ADD_FOLDER || p === ADD_FOLDER_ROOT ? Errno.EEXIST : Errno.EACCES;
    const existing = this.files.get(name);
    if (!existing && this.files.size >= MAX_PENDING) return Errno.ENOSPC;
    const file = existing ?? { data: Buffer.alloc(0), size: 0, handles: 0, time: new Date() };
    if (existing) file.size = 0; // created again: truncated
    this.files.set(name, file);
    return this.handle(name, file);
  }

  /** An open of a file being written (to write more, or truncate it). */
  open(p: string, truncate: boolean): number {
    const name = this.nameOf(p);
    const file = name === undefined ? undefined : this.files.get(name);
    if (!file || name === undefined) return this.get(p)?.kind === 'dir' ? Errno.EISDIR : Errno.ENOENT;
    if (truncate) file.size = 0;
    return this.handle(name, file);
  }

  write(fd: number, buf: Buffer, len: number, pos: number): number {
    const file = this.byFd(fd);
    if (!file) return Errno.EBADF;
    if (pos + len > MAX_ADD_FILE_BYTES) return Errno.EFBIG;
    if (pos + len > file.data.length) {
      const grown = Buffer.alloc(Math.min(MAX_ADD_FILE_BYTES, Math.max(pos + len, file.data.length * 2, 64 * 1024)));
      file.data.copy(grown, 0, 0, file.size);
      file.data = grown;
    }
    if (pos > file.size) file.data.fill(0, file.size, pos);
    buf.copy(file.data, pos, 0, len);
    file.size = Math.max(file.size, pos + len);
    file.outcome = undefined; // written again after a flush: handed over again at the next
    return len;
  }

  truncate(p: string, size: number): number {
    const file = this.files.get(this.nameOf(p) ?? '');
    if (!file) return this.get(p) ? Errno.EISDIR : Errno.ENOENT;
    if (size > MAX_ADD_FILE_BYTES) return Errno.EFBIG;
    if (size > file.data.length) {
      const grown = Buffer.alloc(size);
      file.data.copy(grown, 0, 0, file.size);
      file.data = grown;
    } else if (size > file.size) file.data.fill(0, file.size, size);
    file.size = size;
    return 0;
  }

  /**
   * close() of a handle: the file's bytes go to the service (once per content); resolves to 0
   * or EINVAL, which close() returns to the writer. A flush of an empty file hands nothing over
   * (a `touch`, or the open before a write).
   */
  flush(fd: number): Promise<number> {
    const name = this.fds.get(fd);
    const file = name === undefined ? undefined : this.files.get(name);
    if (!file || name === undefined) return Promise.resolve(Errno.EBADF);
    if (file.size === 0) return Promise.resolve(0);
    file.outcome ??= this.accept(name, Buffer.from(file.data.subarray(0, file.size))).then(() => 0, () => Errno.EINVAL);
    return file.outcome;
  }

  /** The handle is gone; with the last one the file leaves the folder. */
  release(fd: number): void {
    const name = this.fds.get(fd);
    this.fds.delete(fd);
    const file = name === undefined ? undefined : this.files.get(name);
    if (!file || name === undefined) return;
    if (--file.handles <= 0) this.files.delete(name);
  }

  unlink(p: string): number {
    const name = this.nameOf(p);
    if (name === undefined || !this.files.has(name)) return this.get(p) ? Errno.EISDIR : Errno.ENOENT;
    this.files.delete(name);
    return 0;
  }

  /** A rename inside the folder (a tool writing a temporary name first); anything else is EROFS. */
  rename(from: string, to: string): number {
    const a = this.nameOf(from);
    const b = this.nameOf(to);
    if (a === undefined || b === undefined) return Errno.EROFS;
    const file = this.files.get(a);
    if (!file) return Errno.ENOENT;
    this.files.delete(a);
    this.files.set(b, file);
    for (const [fd, n] of this.fds) if (n === a) this.fds.set(fd, b);
    return 0;
  }

  private handle(name: string, file: Pending): number {
    file.handles++;
    const fd = this.nextFd++;
    this.fds.set(fd, name);
    return fd;
  }

  private byFd(fd: number): Pending | undefined {
    const name = this.fds.get(fd);
    return name === undefined ? undefined : this.files.get(name);
  }

  /** The file name of a path directly inside `/.ct/add`, or undefined. */
  private nameOf(p: string): string | undefined {
    if (!p.startsWith(`${ADD_FOLDER}/`)) return undefined;
    const name = p.slice(ADD_FOLDER.length + 1);
    return name !== '' && !name.includes('/') ? name : undefined;
  }
}
