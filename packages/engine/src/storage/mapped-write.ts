/**
 * The optional native mapped-write path (packages/engine/native): writes a piece through a shared
 * mmap window on the libuv pool, so several writes to one file proceed in parallel instead of
 * queueing on the inode lock as pwrite does. Absent (no compiler at install) or disabled with
 * CT_NO_MAPPED_WRITE=1, storage falls back to serialised pwrite.
 */
import { loadNativeAddon } from '../util/native-addon.js';

export interface MappedWriter {
  /** `readAround`: nobody reads the file yet, so the kernel may fault large folios around the window. */
  write(fd: number, position: number, data: Uint8Array, readAround: boolean): Promise<void>;
}

export const mappedWriter = loadNativeAddon<MappedWriter>('ct_mapped_write', 'CT_NO_MAPPED_WRITE');
