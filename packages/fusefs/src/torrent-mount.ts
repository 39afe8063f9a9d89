/**
 * One FUSE mount serving any number of torrents of an engine Session, in this process. Owns the
 * tree, the open handles and the fuse-native instance; unmounting first fails every pending read
 * (so no reader, and no kernel request, waits on a piece no peer has), then unmounts.
 *
 * FUSE options, and why (DESIGN.md has the longer story):
 * - `ro`: the kernel itself answers EROFS to every write, create, rename, unlink, chmod, truncate.
 *   Not with an add folder (`ct serve`): then our operations answer EROFS outside `/.ct/add/`.
 * - `kernel_cache`: verified torrent data never changes, so pages the kernel cached stay valid
 *   across opens; a second `cat` of a file costs no FUSE call at all.
 * - `max_read=131072`: the kernel's limit for FUSE reads anyway; said so it is explicit.
 * - `entry_timeout` 30 s: names never change once a torrent is mounted; `attr_timeout` 1 s: sizes
 *   never change, but a file's blocks (what is on disk, for `du`) grow as it downloads.
 * - `auto_unmount`: if the process dies (even SIGKILL), fusermount removes the mount instead of
 *   leaving "Transport endpoint is not connected" behind.
 * - `allow_other` only when asked: other users reading the mount is a deliberate choice.
 * - no per-operation timeout from the binding (`timeout: false`): our read timeout decides, and a
 *   binding timeout would answer a read that our reader then completes into a freed buffer.
 */
import { MountError, type CacheStats, type Torrent } from '@ct/engine';
import { AddFolder, RESERVED_ROOT_NAMES, type AcceptFile } from './add-folder.js';
import { createReadOnlyFuse, fuseNative, type FuseInstance } from './fuse-native.js';
import { TorrentFsOperations, type OpsOptions } from './fuse-ops.js';
import { MountTree, treeSource } from './mount-tree.js';
import { torrentsWithFiles, type FileStatus, type TorrentStatus } from './status.js';

export interface TorrentMountOptions extends Omit<Partial<OpsOptions>, 'addFolder'> {
  allowOther?: boolean;
  /**
   * Makes `DIR/.ct/add/` writable: each file written there is given to this when closed (its
   * name and bytes); a rejection fails the close with EINVAL. The rest of the mount stays
   * read-only (EROFS), and `.ct` is not listed in the root.
   */
  addFolder?: AcceptFile;
}

export interface MountStatus {
  mountPoint: string;
  pid: number;
  /** Files open in the mount (what makes `ct umount` refuse without --force). */
  openFiles: number;
  torrents: (TorrentStatus & { path: string; files: FileStatus[] })[];
  /** The session's bounded cache, when there is one. */
  cache?: CacheStats;
}

export const DEFAULT_READ_TIMEOUT_MS = 180_000;

export class TorrentMount {
  readonly tree: MountTree;
  private readonly torrents = new Map<string, Torrent>();
  private readonly ops: TorrentFsOperations;
  private fuse: FuseInstance | undefined;
  private unmounting: Promise<void> | undefined;

  constructor(readonly mountPoint: string, private readonly opts: TorrentMountOptions = {}) {
    // Load the binding now, before anything stats a socket file (the CLI's control socket).
    // Node 20's realpathSync consults the stat result of the *previous* stat call for path parts
    // it has cached: after an lstat of a stale socket it stopped resolving at pnpm's symlink,
    // loaded fuse-native from its link path, and its own require('nanoresource') then failed
    // ("Cannot find module 'nanoresource'" on every mount after a kill -9, issue 10).
    fuseNative();
    // `.ct` is kept free at the root whether or not there is an add folder: names stay the same either way.
    this.tree = new MountTree(new Date(), RESERVED_ROOT_NAMES);
    this.ops = new TorrentFsOperations(this.tree, this.torrents, {
      addFolder: opts.addFolder ? new AddFolder(opts.addFolder) : undefined,
      readTimeoutMs: opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
      eagain: opts.eagain ?? false,
      readahead: opts.readahead,
      onRead: opts.onRead,
      cacheStats: opts.cacheStats,
    });
  }

  /** Shows a torrent in the mount (before or after mounting), in a category's folder if given; returns its path in the mount. */
  add(torrent: Torrent, category?: string): string {
    this.torrents.set(torrent.infoHashHex, torrent);
    return this.tree.add(treeSource(torrent, this.tree.createdAt, category));
  }

  /**
   * Takes a torrent out of the mount: its folder leaves listings at once (a lookup by name may
   * still succeed until attr_timeout, 1 s). Files of it still open keep their handles until
   * released, and every read of them fails with EIO from now on (pending ones too, never a hang).
   */
  remove(infoHashHex: string): boolean {
    this.torrents.delete(infoHashHex);
    this.ops.files.closeTorrent(infoHashHex);
    return this.tree.remove(infoHashHex);
  }

  /** Files open in the mount right now (FUSE opens not yet released). */
  get openFileCount(): number {
    return this.ops.files.count;
  }

  get mounted(): boolean {
    return this.fuse !== undefined;
  }

  async mount(): Promise<void> {
    const fuse = createReadOnlyFuse(this.mountPoint, this.ops.operations(), {
      timeout: false,
      force: true, // a stale mount left by a killed process is replaced; a live one is refused
      mkdir: false, // the CLI checks the mount point first (ct mount --mkdir creates it)
      autoUnmount: true,
      kernelCache: true,
      maxRead: 131072,
      attrTimeout: 1,
      entryTimeout: 30,
      allowOther: this.opts.allowOther ?? false,
      fsname: 'ct',
      subtype: 'ct',
    }, !this.opts.addFolder);
    await new Promise<void>((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve()))).catch((err: Error) => {
      const why = /in use/i.test(err.message) ? 'mount point in use (another mount is there)' : err.message;
      throw new MountError(`cannot mount ${this.mountPoint}: ${why}`, { cause: err });
    });
    this.fuse = fuse;
  }

  /** Fails pending reads, closes every handle, unmounts. Safe to call more than once. */
  unmount(): Promise<void> {
    this.unmounting ??= (async () => {
      this.ops.files.closeAll();
      const fuse = this.fuse;
      if (!fuse) return;
      // Let the failed reads' answers reach the kernel before the connection goes.
      await new Promise((r) => setImmediate(r));
      await new Promise<void>((resolve, reject) => fuse.unmount((err) => (err ? reject(err) : resolve()))).catch((err: Error) => {
        throw new MountError(`cannot unmount ${this.mountPoint}: ${err.message}`, { cause: err });
      });
      this.fuse = undefined;
    })();
    return this.unmounting;
  }

  /** What `ct status` shows. */
  status(): MountStatus {
    return {
      mountPoint: this.mountPoint,
      pid: process.pid,
      openFiles: this.openFileCount,
      torrents: torrentsWithFiles(this.torrents.values(), (t) => this.tree.topOf(t.infoHashHex) ?? ''),
      ...(this.opts.cacheStats?.() ? { cache: this.opts.cacheStats() } : {}),
    };
  }
}
