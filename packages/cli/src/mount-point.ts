/** Checks a mount point before libfuse would say it worse: `ct mount` and `ct serve --mount` share it. */
import * as fs from 'node:fs';
import { MountError, UsageError } from '@ct/engine';
import { isFuseMounted } from './control/mount-table.js';

/** The options `ct mount` and `ct serve` share (commander's camel-cased names). */
export interface MountFlags {
  downloadDir: string;
  readTimeout: number;
  eagain?: boolean;
  downloadAll?: boolean;
  allowOther?: boolean;
  listen: string;
  mkdir?: boolean;
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
