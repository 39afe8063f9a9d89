/**
 * `ct umount`: asks the ct process serving a mount to unmount, and waits for it to exit. While
 * files are open it refuses (as umount(8) does) unless --force, which fails pending reads with
 * EIO first, so this never hangs on a read waiting for a piece. A mount whose process is gone
 * (killed: "Transport endpoint is not connected") is removed with fusermount.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { CtError } from '@ct/engine';
import { request, socketPathFor } from '../control/control-socket.js';
import { fusermountUnmount, isFuseMounted } from '../control/mount-table.js';
import { examples } from '../output-options.js';

export function register(program: Command): void {
  const cmd = program.command('umount')
    .summary('unmount a ct mount (also a stale one)')
    .description('Unmounts a ct mount: the serving process unmounts and exits. While files in it are open it refuses,\n' +
      'unless --force: then pending reads fail with EIO and the mount is detached. A stale mount left by a\n' +
      'killed process ("Transport endpoint is not connected") is removed too.')
    .argument('<mountpoint>', 'the folder a ct mount serves')
    .option('--force', 'unmount even while files are open (their pending reads fail with EIO)');
  examples(cmd, ['ct umount ./mnt', 'ct umount ./mnt --force']);
  cmd.action((mountPoint: string, opts: { force?: boolean }) => umount(mountPoint, !!opts.force));
}

async function umount(mountArg: string, force: boolean): Promise<void> {
  const mountPoint = path.resolve(mountArg);
  const socket = socketPathFor(mountPoint);
  const answer = fs.existsSync(socket) ? await request(socket, 'unmount', 5000, { force }).catch(() => undefined) : undefined;
  if (answer && typeof answer.error === 'string') throw new CtError('EMOUNT', `cannot unmount ${mountPoint}: ${answer.error}`);
  if (answer && typeof answer.pid === 'number') {
    await waitForExit(answer.pid, 15_000);
    if (!isFuseMounted(mountPoint)) return;
  }
  fs.rmSync(socket, { force: true }); // nobody answers on it any more
  if (!isFuseMounted(mountPoint)) {
    if (answer) return;
    throw new CtError('EMOUNT', `${mountPoint} is not mounted`);
  }
  let err = await fusermountUnmount(mountPoint, force);
  // A stale mount (its process is gone) cannot be busy in a way that matters: detach it.
  if (err && !force && !answer && isStale(mountPoint)) err = await fusermountUnmount(mountPoint, true);
  if (err) throw new CtError('EMOUNT', `cannot unmount ${mountPoint}: ${err}${force ? '' : ' (files open? try --force)'}`);
}

function isStale(mountPoint: string): boolean {
  try {
    fs.statSync(mountPoint);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOTCONN';
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
