/**
 * Typed access to fuse-native (CommonJS, untyped). Only what ct uses is declared. The binding
 * runs libfuse2's high-level loop on its own thread and calls our operations on the JS main
 * thread, so a busy event loop stalls every FUSE call.
 */
import { createRequire } from 'node:module';

export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino?: number;
  blksize?: number;
  blocks?: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
}

export interface FuseStatfs {
  bsize: number; frsize: number; blocks: number; bfree: number; bavail: number;
  files: number; ffree: number; favail: number; fsid: number; flag: number; namemax: number;
}

type Done = (err: number) => void;

/** The operations ct implements; callbacks take 0 or a negative errno first. */
export interface FuseOperations {
  init(cb: Done): void;
  access(path: string, mode: number, cb: Done): void;
  statfs(path: string, cb: (err: number, st?: FuseStatfs) => void): void;
  getattr(path: string, cb: (err: number, st?: FuseStat) => void): void;
  fgetattr(path: string, fd: number, cb: (err: number, st?: FuseStat) => void): void;
  readdir(path: string, cb: (err: number, names?: string[]) => void): void;
  open(path: string, flags: number, cb: (err: number, fd?: number) => void): void;
  read(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (bytesOrErr: number) => void): void;
  release(path: string, fd: number, cb: Done): void;
  flush(path: string, fd: number, cb: Done): void;
  readlink(path: string, cb: (err: number, target?: string) => void): void;
  getxattr(path: string, name: string, position: number, cb: (err: number, value?: Buffer | null) => void): void;
  listxattr(path: string, cb: (err: number, names?: string[]) => void): void;
  // Everything that would change the tree answers EROFS.
  write(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (bytesOrErr: number) => void): void;
  create(path: string, mode: number, cb: (err: number, fd?: number) => void): void;
  truncate(path: string, size: number, cb: Done): void;
  ftruncate(path: string, fd: number, size: number, cb: Done): void;
  unlink(path: string, cb: Done): void;
  rename(src: string, dest: string, cb: Done): void;
  mkdir(path: string, mode: number, cb: Done): void;
  rmdir(path: string, cb: Done): void;
  chmod(path: string, mode: number, cb: Done): void;
  chown(path: string, uid: number, gid: number, cb: Done): void;
  utimens(path: string, atime: number, mtime: number, cb: Done): void;
  setxattr(path: string, name: string, value: Buffer, position: number, flags: number, cb: Done): void;
  removexattr(path: string, name: string, cb: Done): void;
  symlink(src: string, dest: string, cb: Done): void;
  link(src: string, dest: string, cb: Done): void;
  mknod(path: string, mode: number, dev: number, cb: Done): void;
}

export interface FuseNativeOptions {
  timeout?: false | number;
  force?: boolean;
  mkdir?: boolean;
  allowOther?: boolean;
  autoUnmount?: boolean;
  kernelCache?: boolean;
  maxRead?: number;
  attrTimeout?: number;
  entryTimeout?: number;
  fsname?: string;
  subtype?: string;
  uid?: number;
  gid?: number;
}

export interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}

interface FuseClass {
  new (mnt: string, ops: Partial<FuseOperations>, opts: FuseNativeOptions): FuseInstance & { _fuseOptions(): string };
  prototype: { _fuseOptions(): string };
  unmount(mnt: string, cb: (err: Error | null) => void): void;
}

let loaded: FuseClass | undefined;

/** Loads the binding on first use (so importing @ct/fusefs never needs libfuse). */
export function fuseNative(): FuseClass {
  loaded ??= createRequire(import.meta.url)('fuse-native') as FuseClass;
  return loaded;
}

/**
 * A fuse-native instance mounted read-only (`-o ro`): the kernel then answers EROFS for every
 * write, create, rename, unlink, chmod or truncate itself, before the call reaches us.
 * fuse-native has no option for it, so it is appended to the option string it builds. With
 * `readOnly: false` (a mount with an add folder) the kernel passes writes on and our operations
 * answer EROFS for every path but that folder's.
 */
export function createReadOnlyFuse(mnt: string, ops: Partial<FuseOperations>, opts: FuseNativeOptions, readOnly = true): FuseInstance {
  const Fuse = fuseNative();
  const fuse = new Fuse(mnt, ops, opts);
  if (!readOnly) return fuse;
  const build = Fuse.prototype._fuseOptions;
  fuse._fuseOptions = function (this: unknown) {
    const options = build.call(this);
    return options ? `${options},ro` : '-oro';
  };
  return fuse;
}
