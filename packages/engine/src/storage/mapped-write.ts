/**
 * The optional native mapped-write path (packages/engine/native): writes a piece through a shared
 * mmap window on the libuv pool, so several writes to one file proceed in parallel instead of
 * queueing on the inode lock as pwrite does. Absent (no compiler at install) or disabled with
 * CT_NO_MAPPED_WRITE=1, storage falls back to serialised pwrite.
 */
import { createRequire } from 'node:module';

export interface MappedWriter {
  write(fd: number, position: number, data: Uint8Array): Promise<void>;
}

function load(): MappedWriter | undefined {
  if (process.env.CT_NO_MAPPED_WRITE === '1') return undefined;
  try {
    // Same relative path from src/storage (tsx) and dist/storage (compiled).
    return createRequire(import.meta.url)('../../native/build/ct_mapped_write.node') as MappedWriter;
  } catch {
    return undefined;
  }
}

export const mappedWriter: MappedWriter | undefined = load();
