/**
 * The optional native check of what is on disk (packages/engine/native/sha1_file.c): SHA-1 of
 * pieces straight from their files' page cache through read-only mappings on the libuv pool, no
 * copy into a buffer. Absent (no compiler at install, a Node without OpenSSL's streaming SHA-1)
 * or disabled with CT_NO_MAPPED_HASH=1, the check reads each piece into a buffer instead.
 */
import { loadNativeAddon } from '../util/native-addon.js';

export interface MappedHasher {
  /**
   * `ranges`: triples (fd, or -1 for zeros; offset; length); `ends[p]`: the triple after piece
   * p's last. Resolves to 20 bytes per piece; rejects (code EFAULT past a file's end, EIO) when
   * any byte cannot be read. `populate: false` (tests only) skips the pre-fault, so a short file
   * is met by the SIGBUS guard instead.
   */
  hashFileRanges(ranges: Float64Array, ends: Uint32Array, populate?: boolean): Promise<Buffer>;
}

export const mappedHasher = loadNativeAddon<MappedHasher>('ct_sha1_file', 'CT_NO_MAPPED_HASH');
