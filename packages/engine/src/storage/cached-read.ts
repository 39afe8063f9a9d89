/**
 * The optional native page-cache read (packages/engine/native/cached_read.c): copies bytes the
 * page cache holds on the calling thread and reports "not cached" instead of blocking, so a
 * read of bytes just written skips the libuv pool's round trip. Absent (no compiler at install)
 * or disabled with CT_NO_CACHED_READ=1, every read goes through the pool.
 */
import { loadNativeAddon } from '../util/native-addon.js';

export interface CachedReader {
  /** Bytes copied into `into` from `position` (maybe short; 0 at the end of the file), or -1: not cached. */
  readCached(fd: number, into: Uint8Array, position: number): number;
}

export const cachedReader = loadNativeAddon<CachedReader>('ct_cached_read', 'CT_NO_CACHED_READ');
