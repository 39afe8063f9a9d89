/**
 * Which FUSE mounts the kernel has, from /proc/self/mountinfo, and how to remove one with
 * fusermount. Used by `ct umount` for mounts no ct process serves any more (killed: the kernel
 * answers "Transport endpoint is not connected" until it is unmounted).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Mount points of FUSE filesystems, as absolute paths. */
export function fuseMountPoints(): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right || !right.startsWith('fuse')) continue;
    // Field 5 is the mount point, with spaces and other bytes escaped as \ooo.
    const raw = left.split(' ')[4] ?? '';
    out.push(raw.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

export function isFuseMounted(mountPoint: string): boolean {
  return fuseMountPoints().includes(path.resolve(mountPoint));
}

/** `fusermount -u` (or `-uz`, lazy, with `lazy`); resolves with its error output on failure. */
export function fusermountUnmount(mountPoint: string, lazy: boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('fusermount', [lazy ? '-uz' : '-u', path.resolve(mountPoint)], { timeout: 10_000 }, (err, _out, stderr) =>
      resolve(err ? (stderr.trim() || err.message).split('\n')[0] : undefined));
  });
}
