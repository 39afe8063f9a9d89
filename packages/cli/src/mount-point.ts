/**
 * What `ct mount` and `ct serve --mount` share: the mount's options, the check of the mount point
 * before libfuse would say it worse, the TorrentMount those options make, and how a mount answers
 * `ct umount`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { MountError, UsageError, type SessionOptions } from '@ct/engine';
import { DEFAULT_READ_TIMEOUT_MS, TorrentMount, type TorrentMountOptions } from '@ct/fusefs';
import { isFuseMounted } from './control/mount-table.js';
import type { ControlHandlers } from './control/control-socket.js';
import { listenOption, parsePositiveSize, parseSeconds } from './options.js';

/** The options `ct mount` and `ct serve` share (commander's camel-cased names). */
export interface MountFlags {
  downloadDir: string;
  readTimeout: number;
  eagain?: boolean;
  downloadAll?: boolean;
  allowOther?: boolean;
  listen: string;
  mkdir?: boolean;
  /** --cache-size: the bytes on disk of what is read on demand, together (unbounded when absent). */
  cacheSize?: number;
  cacheEvictSelected?: boolean;
}

/** The session's bounded cache from the mount flags, if one was asked for. */
export function cacheOption(opts: MountFlags): Pick<SessionOptions, 'cache'> {
  return opts.cacheSize ? { cache: { maxBytes: opts.cacheSize, evictSelected: !!opts.cacheEvictSelected } } : {};
}

/** The mount point must be an empty folder that nothing is mounted on: said before libfuse says it worse. */
export function prepareMountPoint(mountPoint: string, mkdir: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(mountPoint);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTCONN') return; // a mount left by a killed process: replaced when mounting
    if (code !== 'ENOENT') throw new MountError(`cannot use ${mountPoint}: ${(err as Error).message}`);
    if (!mkdir) throw new UsageError(`${mountPoint} does not exist (create it, or add --mkdir)`);
    fs.mkdirSync(mountPoint, { recursive: true });
    process.stderr.write(`ct: created ${mountPoint}\n`);
    return;
  }
  if (!st.isDirectory()) throw new UsageError(`${mountPoint} is not a folder`);
  if (isFuseMounted(mountPoint)) throw new MountError(`cannot mount ${mountPoint}: mount point in use (another mount is there)`);
  if (fs.readdirSync(mountPoint).length > 0) throw new UsageError(`${mountPoint} is not empty (a mount would hide what is in it): use an empty folder`);
}

/** Adds --download-dir, --read-timeout, --eagain, --download-all, --allow-other, --listen and --mkdir (which creates `what`). */
export function addMountOptions(cmd: Command, what: string): Command {
  return cmd
    .addOption(new Option('--download-dir <dir>', 'where fetched data goes').default(path.join(os.homedir(), '.cache', 'ct'), '~/.cache/ct'))
    .addOption(new Option('--read-timeout <seconds>', 'fail a read still waiting after this long').argParser(parseSeconds).default(DEFAULT_READ_TIMEOUT_MS / 1000))
    .option('--eagain', 'fail timed-out reads with EAGAIN instead of EIO (as rqbit-fuse)')
    .option('--download-all', 'fetch every file in the background, not just what is read')
    .option('--allow-other', 'let other users read the mount (needs user_allow_other in /etc/fuse.conf unless root)')
    .addOption(new Option('--cache-size <size>', 'keep at most this much of what is read on disk (10GiB, 512MiB): the least recently read pieces are evicted').argParser(parsePositiveSize))
    .option('--cache-evict-selected', 'let the cache evict pieces of files fetched in full too (--download-all, selected files)')
    .addOption(listenOption())
    .option('--mkdir', `create ${what} if it does not exist`);
}

/** The mount of ct mount or ct serve; `extra` adds ct serve's read metrics and add folder. */
export function newTorrentMount(mountPoint: string, opts: MountFlags, extra: Pick<TorrentMountOptions, 'onRead' | 'addFolder' | 'cacheStats'> = {}): TorrentMount {
  return new TorrentMount(mountPoint, { readTimeoutMs: opts.readTimeout * 1000, eagain: !!opts.eagain, allowOther: !!opts.allowOther, ...extra });
}

/** Like umount(8): a mount with files open stays unless forced (then their reads fail with EIO); `stop` then exit 0. */
export function unmountHandler(fuse: TorrentMount, stop: () => Promise<void>): ControlHandlers['unmount'] {
  return (force) => {
    const open = fuse.openFileCount;
    if (!force && open > 0) return { refuse: `${open} file${open > 1 ? 's are' : ' is'} open in the mount (close ${open > 1 ? 'them' : 'it'}, or use --force)` };
    return { then: () => void stop().then(() => process.exit(0)) };
  };
}
