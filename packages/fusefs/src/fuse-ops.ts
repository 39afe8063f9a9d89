/**
 * The FUSE operations of a mount: the tree answers lookups, each open file handle gets its own
 * engine FileReader (its own readahead window), reads block until the bytes are verified and end
 * with EIO (or EAGAIN) after the read timeout. Anything that would change the tree answers EROFS.
 * Every callback returns quickly: the event loop that runs them also runs the torrents.
 */
import type { CacheStats, ReadaheadOptions, Torrent } from '@ct/engine';
import { AddFolder } from './add-folder.js';
import { Errno } from './errno.js';
import type { FuseOperations, FuseStat, FuseStatfs } from './fuse-native.js';
import type { MountTree, TreeNode } from './mount-tree.js';
import { OpenFiles } from './open-files.js';
import { fileStatus, rootStatus, torrentStatus } from './status.js';

/** The extended attributes every node answers (the second is rqbit-fuse's name). */
export const STATUS_XATTRS = ['user.ct.status', 'user.torrent.status'] as const;

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const O_ACCMODE = 3;
const O_TRUNC = 0o1000;
const W_OK = 2;

export interface OpsOptions {
  /** A read waits this long for its pieces, then fails. */
  readTimeoutMs: number;
  /** Fail a timed-out read with EAGAIN instead of EIO (rqbit-fuse's option). */
  eagain: boolean;
  readahead?: Partial<ReadaheadOptions>;
  /** Told of every read through the mount once answered: its latency and whether it gave bytes (metrics). */
  onRead?: (seconds: number, ok: boolean) => void;
  /** `/.ct/add/`, the one writable folder (ct serve); absent: nothing is writable. */
  addFolder?: AddFolder;
  /** The session's bounded cache, for the root's status. */
  cacheStats?: () => CacheStats | undefined;
}

export class TorrentFsOperations {
  readonly files = new OpenFiles();
  private readonly uid = process.getuid?.() ?? 0;
  private readonly gid = process.getgid?.() ?? 0;

  constructor(
    private readonly tree: MountTree,
    /** Torrent id (infohash hex) -> torrent. */
    private readonly torrents: ReadonlyMap<string, Torrent>,
    private readonly opts: OpsOptions,
  ) {}

  /** The object handed to fuse-native. */
  operations(): Partial<FuseOperations> {
    const erofs = (...args: unknown[]) => (args[args.length - 1] as (e: number) => void)(Errno.EROFS);
    const add = this.opts.addFolder;
    const ops: Partial<FuseOperations> = {
      init: (cb) => cb(0),
      access: (p, mode, cb) => cb(!this.tree.get(p) ? Errno.ENOENT : mode & W_OK ? Errno.EROFS : 0),
      statfs: (_p, cb) => cb(0, this.statfs()),
      getattr: (p, cb) => this.getattr(p, cb),
      fgetattr: (p, _fd, cb) => this.getattr(p, cb),
      readdir: (p, cb) => this.readdir(p, cb),
      open: (p, flags, cb) => this.open(p, flags, cb),
      read: (_p, fd, buf, len, pos, cb) => this.read(fd, buf, len, pos, cb),
      release: (_p, fd, cb) => { this.files.close(fd); cb(0); },
      flush: (_p, _fd, cb) => cb(0),
      readlink: (p, cb) => {
        const node = this.tree.get(p);
        if (!node) return cb(Errno.ENOENT);
        return node.kind === 'link' ? cb(0, node.target) : cb(Errno.EINVAL);
      },
      getxattr: (p, name, _pos, cb) => this.getxattr(p, name, cb),
      listxattr: (p, cb) => (this.tree.get(p) ? cb(0, [...STATUS_XATTRS]) : cb(Errno.ENOENT)),
      write: erofs, create: erofs, truncate: erofs, ftruncate: erofs, unlink: erofs, rename: erofs,
      mkdir: erofs, rmdir: erofs, chmod: erofs, chown: erofs, utimens: erofs, setxattr: erofs,
      removexattr: erofs, symlink: erofs, link: erofs, mknod: erofs,
    };
    return add ? this.withAddFolder(ops, add) : ops;
  }

  /**
   * The operations with every path under `/.ct` answered by the add folder, which takes files
   * written into `/.ct/add/`; the rest of the mount stays as it was (EROFS for any change).
   */
  private withAddFolder(ops: Partial<FuseOperations>, add: AddFolder): Partial<FuseOperations> {
    const owns = AddFolder.owns;
    const ok = (cb: (e: number) => void) => cb(0);
    const code = (n: number) => (n < 0 ? n : 0);
    const orRo = (p: string, cb: (e: number) => void, then: () => void) => (owns(p) ? then() : cb(Errno.EROFS));
    return {
      ...ops,
      access: (p, mode, cb) => (owns(p) ? cb(add.get(p) ? 0 : Errno.ENOENT) : ops.access!(p, mode, cb)),
      getattr: (p, cb) => (owns(p) ? this.addFolderAttr(add, p, cb) : ops.getattr!(p, cb)),
      fgetattr: (p, fd, cb) => (owns(p) ? this.addFolderAttr(add, p, cb) : ops.fgetattr!(p, fd, cb)),
      readdir: (p, cb) => {
        if (!owns(p)) return ops.readdir!(p, cb);
        const names = add.list(p);
        return typeof names === 'number' ? cb(names) : cb(0, ['.', '..', ...names]);
      },
      create: (p, _mode, cb) => orRo(p, cb, () => { const fd = add.create(p); return fd < 0 ? cb(fd) : cb(0, fd); }),
      open: (p, flags, cb) => {
        if (!owns(p)) return ops.open!(p, flags, cb);
        const fd = add.open(p, (flags & O_TRUNC) !== 0);
        return fd < 0 ? cb(fd) : cb(0, fd);
      },
      write: (p, fd, buf, len, pos, cb) => (add.ownsFd(fd) ? cb(add.write(fd, buf, len, pos)) : ops.write!(p, fd, buf, len, pos, cb)),
      read: (p, fd, buf, len, pos, cb) => (add.ownsFd(fd) ? cb(Errno.EACCES) : ops.read!(p, fd, buf, len, pos, cb)),
      flush: (p, fd, cb) => (add.ownsFd(fd) ? void add.flush(fd).then(cb) : ops.flush!(p, fd, cb)),
      release: (p, fd, cb) => (add.ownsFd(fd) ? (add.release(fd), cb(0)) : ops.release!(p, fd, cb)),
      truncate: (p, size, cb) => orRo(p, cb, () => cb(code(add.truncate(p, size)))),
      ftruncate: (p, _fd, size, cb) => orRo(p, cb, () => cb(code(add.truncate(p, size)))),
      unlink: (p, cb) => orRo(p, cb, () => cb(add.unlink(p))),
      rename: (from, to, cb) => (owns(from) && owns(to) ? cb(add.rename(from, to)) : cb(Errno.EROFS)),
      // cp -p and editors set times and modes: accepted, nothing to keep.
      utimens: (p, _a, _m, cb) => orRo(p, cb, () => ok(cb)),
      chmod: (p, _mode, cb) => orRo(p, cb, () => ok(cb)),
      chown: (p, _u, _g, cb) => orRo(p, cb, () => ok(cb)),
      listxattr: (p, cb) => (owns(p) ? cb(0, []) : ops.listxattr!(p, cb)),
      getxattr: (p, name, pos, cb) => (owns(p) ? cb(0, null) : ops.getxattr!(p, name, pos, cb)),
    };
  }

  private addFolderAttr(add: AddFolder, p: string, cb: (err: number, st?: FuseStat) => void): void {
    const node = add.get(p);
    if (!node) return cb(Errno.ENOENT);
    const time = node.kind === 'file' ? node.time : this.tree.createdAt;
    const base = { uid: this.uid, gid: this.gid, atime: time, mtime: time, ctime: time, blksize: 4096 };
    if (node.kind === 'dir') return cb(0, { ...base, mode: S_IFDIR | (p.endsWith('/add') ? 0o755 : 0o555), size: 4096, nlink: p.endsWith('/add') ? 2 : 3, blocks: 8 });
    cb(0, { ...base, mode: S_IFREG | 0o644, size: node.size, nlink: 1, blocks: Math.ceil(node.size / 512) });
  }

  stat(node: TreeNode): FuseStat {
    const base = { uid: this.uid, gid: this.gid, atime: node.time, mtime: node.time, ctime: node.time, blksize: 4096 };
    switch (node.kind) {
      case 'dir':
        return { ...base, mode: S_IFDIR | 0o555, size: 4096, nlink: 2 + this.tree.subdirCount(node), blocks: 8 };
      case 'file': {
        // Blocks are what is on disk so far (verified bytes), so `du` shows how much was fetched.
        const file = this.torrents.get(node.torrent)?.files.find((f) => f.index === node.fileIndex);
        return { ...base, mode: S_IFREG | 0o444, size: node.size, nlink: 1, blocks: Math.ceil((file?.downloaded ?? 0) / 512) };
      }
      case 'link':
        return { ...base, mode: S_IFLNK | 0o444, size: Buffer.byteLength(node.target), nlink: 1, blocks: 0 };
    }
  }

  private getattr(p: string, cb: (err: number, st?: FuseStat) => void): void {
    const node = this.tree.get(p);
    if (!node) return cb(Errno.ENOENT);
    cb(0, this.stat(node));
  }

  private readdir(p: string, cb: (err: number, names?: string[]) => void): void {
    const node = this.tree.get(p);
    if (!node) return cb(Errno.ENOENT);
    if (node.kind !== 'dir') return cb(Errno.ENOTDIR);
    cb(0, ['.', '..', ...node.children]);
  }

  private statfs(): FuseStatfs {
    let bytes = 0;
    let missing = 0;
    for (const t of this.torrents.values()) {
      const s = t.stats();
      bytes += s.totalBytes;
      missing += s.totalBytes - s.verifiedBytes;
    }
    const blocks = Math.ceil(bytes / 4096);
    // Size: the torrents; free: what is still to fetch (so `df` shows progress); read-only (flag 1).
    const free = Math.floor(missing / 4096);
    // ST_RDONLY unless there is an add folder: tools that check statfs would refuse to write there.
    return { bsize: 4096, frsize: 4096, blocks, bfree: free, bavail: free, files: this.tree.size, ffree: 0, favail: 0, fsid: 0, flag: this.opts.addFolder ? 0 : 1, namemax: 255 };
  }

  private open(p: string, flags: number, cb: (err: number, fd?: number) => void): void {
    const node = this.tree.get(p);
    if (!node) return cb(Errno.ENOENT);
    if ((flags & O_ACCMODE) !== 0 || flags & O_TRUNC) return cb(Errno.EROFS);
    if (node.kind === 'dir') return cb(Errno.EISDIR);
    if (node.kind !== 'file') return cb(Errno.EINVAL);
    const file = this.torrents.get(node.torrent)?.files.find((f) => f.index === node.fileIndex);
    if (!file) return cb(Errno.ENOENT);
    cb(0, this.files.open(file, node.size, node.torrent, this.opts.readahead));
  }

  private read(fd: number, buf: Buffer, len: number, pos: number, cb: (bytesOrErr: number) => void): void {
    const handle = this.files.get(fd);
    // Once unmounting has failed the pending reads, the kernel may still retry one: EIO as well.
    if (!handle) return cb(this.files.isClosed || this.files.isOrphaned(fd) ? Errno.EIO : Errno.EBADF);
    if (pos >= handle.size || len === 0) return cb(0);
    // A read overlapping one that just timed out gets no new deadline: the kernel retries a
    // failed readahead with a smaller read, which made --read-timeout N fail a read after 2N.
    const retry = handle.recentTimeout(pos, len, Date.now(), this.opts.readTimeoutMs);
    const pending = this.files.beginRead(retry ? 0 : this.opts.readTimeoutMs);
    // The bytes go straight into the kernel's reply buffer.
    const started = this.opts.onRead ? performance.now() : 0;
    handle.reader.read(pos, len, { signal: pending.signal, into: buf }).then(
      (bytes) => {
        pending.end();
        this.opts.onRead?.((performance.now() - started) / 1000, true);
        cb(bytes.length);
      },
      () => {
        pending.end();
        this.opts.onRead?.((performance.now() - started) / 1000, false);
        // Only a full wait opens the window: retries inside it do not extend it.
        if (pending.timedOut && !retry) handle.noteTimeout(pos, len, Date.now());
        cb(pending.timedOut && this.opts.eagain ? Errno.EAGAIN : Errno.EIO);
      },
    );
  }

  private getxattr(p: string, name: string, cb: (err: number, value?: Buffer | null) => void): void {
    const node = this.tree.get(p);
    if (!node) return cb(Errno.ENOENT);
    if (!(STATUS_XATTRS as readonly string[]).includes(name)) return cb(0, null); // ENODATA
    const status = this.statusOf(node);
    cb(0, Buffer.from(JSON.stringify(status)));
  }

  /** JSON status of a node: the root, a torrent (its folder or single file), a file. */
  statusOf(node: TreeNode): object {
    if (node.path === '/') return rootStatus([...this.torrents.values()], this.opts.cacheStats?.());
    const torrent = node.torrent ? this.torrents.get(node.torrent) : undefined;
    if (!torrent) return {};
    if (node.kind === 'file') {
      const file = torrent.files.find((f) => f.index === node.fileIndex);
      if (file) return { ...fileStatus(torrent, file), ...(torrent.metainfo.multiFile ? {} : { torrentStatus: torrentStatus(torrent) }) };
    }
    if (node.kind === 'dir' && !node.torrentRoot) return { ...torrentStatus(torrent), folder: node.path };
    return torrentStatus(torrent);
  }
}
