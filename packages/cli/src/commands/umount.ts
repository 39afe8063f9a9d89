/**
 * `ct umount`: asks the ct process serving a mount to unmount (it fails pending reads first, so
 * this never hangs on a read waiting for a piece), and waits for it to exit. A mount whose
 * process is gone (killed: "Transport endpoint is not connected") is removed with fusermount.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CtError, UsageError } from '@ct/engine';
import { parse } from '../args.js';
import { request, socketPathFor } from '../control/control-socket.js';
import { fusermountUnmount, isFuseMounted } from '../control/mount-table.js';

export const umountHelp = `ct umount MOUNTPOINT [--force]

  Unmounts a ct mount: the serving process unmounts and exits. While files in it are open it
  refuses (as umount does), unless --force: then pending reads fail with EIO and the mount is
  detached. A stale mount left by a killed process is removed too.`;

export async function umount(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { force: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new UsageError('give exactly one MOUNTPOINT');
  const mountPoint = path.resolve(positionals[0]);
  const socket = socketPathFor(mountPoint);
  const answer = fs.existsSync(socket) ? await request(socket, 'unmount', 5000, { force: !!values.force }).catch(() => undefined) : undefined;
  if (answer && typeof answer.error === 'string') throw new CtError('EMOUNT', `cannot unmount ${mountPoint}: ${answer.error}`);
  if (answer && typeof answer.pid === 'number') {
    await waitForExit(answer.pid, 15_000);
    if (!isFuseMounted(mountPoint)) return 0;
  }
  fs.rmSync(socket, { force: true }); // nobody answers on it any more
  if (!isFuseMounted(mountPoint)) {
    if (answer) return 0;
    throw new CtError('EMOUNT', `${mountPoint} is not mounted`);
  }
  let err = await fusermountUnmount(mountPoint, !!values.force);
  // A stale mount (its process is gone) cannot be busy in a way that matters: detach it.
  if (err && !values.force && !answer && isStale(mountPoint)) err = await fusermountUnmount(mountPoint, true);
  if (err) throw new CtError('EMOUNT', `cannot unmount ${mountPoint}: ${err}${values.force ? '' : ' (files open? try --force)'}`);
  return 0;
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
