/**
 * The optional native mapped-write path (packages/engine/native): writes a piece through a shared
 * mmap window on the libuv pool, so several writes to one file proceed in parallel instead of
 * queueing on the inode lock as pwrite does. Absent (no compiler at install) or disabled with
 * CT_NO_MAPPED_WRITE=1, storage falls back to serialised pwrite.
 */
import { loadNativeAddon } from './native-addon.js';

export interface MappedWriter {
  write(fd: number, position: number, data: Uint8Array): Promise<void>;
}

export const mappedWriter = loadNativeAddon<MappedWriter>('ct_mapped_write', 'CT_NO_MAPPED_WRITE');
