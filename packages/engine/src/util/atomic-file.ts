/**
 * Writes a file so that a crash at any moment leaves either its old content or the new one,
 * never a mix: a temp file beside it, fsync, rename over it, fsync of the folder (so the rename
 * itself survives a power cut). For state that must survive kill -9: resume snapshots, the
 * service's records.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const fh = await open(temp, 'w');
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
  } catch (err) {
    // A full disk (ENOSPC) or a failed rename: the old file stays as it was, and no half-written
    // temp file is left to fill the folder.
    await rm(temp, { force: true });
    throw err;
  }
  const folder = await open(path.dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
