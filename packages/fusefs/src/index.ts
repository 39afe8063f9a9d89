/**
 * @ct/fusefs: mounts torrents of an @ct/engine Session as a read-only FUSE folder, in-process.
 *
 *   const mount = new TorrentMount('/mnt/t', { readTimeoutMs: 60_000 });
 *   mount.add(torrent);
 *   await mount.mount();
 *   ...
 *   await mount.unmount();
 */
import { createRequire } from 'node:module';

export { TorrentMount, DEFAULT_READ_TIMEOUT_MS, type TorrentMountOptions, type MountStatus } from './torrent-mount.js';
export { MountTree, isPathComponent, treeSource, type TreeNode, type DirNode, type FileNode, type TreeSource, type TreeSourceFile } from './mount-tree.js';
export { STATUS_XATTRS } from './fuse-ops.js';
export { MAX_ADD_FILE_BYTES, RESERVED_ROOT_NAMES, type AcceptFile } from './add-folder.js';
export { torrentsWithFiles, type TorrentStatus, type FileStatus, type RootStatus } from './status.js';

/** True when fuse-native's prebuilt addon loads on this machine. */
export function fuseAvailable(): boolean {
  try {
    createRequire(import.meta.url)('fuse-native');
    return true;
  } catch {
    return false;
  }
}
