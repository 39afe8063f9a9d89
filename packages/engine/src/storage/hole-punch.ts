/**
 * Releasing a byte range of a file to the filesystem, the size unchanged (a hole): how the
 * bounded cache evicts a piece while the file keeps its normal sparse layout. Through the native
 * addon (native/punch_hole.c, fallocate(PUNCH_HOLE)); without it through util-linux's
 * `fallocate --punch-hole`; where the filesystem cannot punch holes at all the bytes stay (the
 * piece still leaves the cache: it is no longer had and is fetched again when read).
 */
import { execFile } from 'node:child_process';
import { loadNativeAddon } from '../util/native-addon.js';

interface PunchAddon {
  /** 0, or the negative errno. */
  punch(fd: number, position: number, length: number): number;
}

const addon = loadNativeAddon<PunchAddon>('ct_punch_hole', 'CT_NO_PUNCH_HOLE');

/** Whether the bytes were released (false: the filesystem cannot punch holes). */
export async function punchHole(fd: number, file: string, position: number, length: number): Promise<boolean> {
  if (length <= 0) return true;
  if (addon) return addon.punch(fd, position, length) === 0;
  return new Promise((resolve) => {
    execFile('fallocate', ['--punch-hole', '--offset', String(position), '--length', String(length), file], (err) => resolve(!err));
  });
}
