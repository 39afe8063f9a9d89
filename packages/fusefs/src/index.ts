/**
 * @ct/fusefs — mounts torrents as read-only FUSE folders.
 *
 * Placeholder until the FUSE issue: it only reports whether the native binding loads, so the
 * install (fuse-native's prebuild + Debian's libfuse2) is exercised from the start.
 */
import { createRequire } from 'node:module';

/** True when fuse-native's prebuilt addon loads on this machine. */
export function fuseAvailable(): boolean {
  try {
    createRequire(import.meta.url)('fuse-native');
    return true;
  } catch {
    return false;
  }
}
