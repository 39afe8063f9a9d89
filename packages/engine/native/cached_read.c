/*
 * ct_cached_read: read bytes that are already in the page cache synchronously, on the calling
 * (JS main) thread, and say "not cached" instead of waiting for the disk.
 *
 * Why: a FUSE read of 128 KiB went through the libuv pool for its pread: two cross-thread
 * wake-ups and a queue shared with the piece writes, per read. Through a mount that cost ~20 %
 * of the sequential rate (bench/RESULTS.md). preadv2(RWF_NOWAIT) copies what the page cache
 * holds and returns EAGAIN where it would have to block, so the caller falls back to the pool
 * only for bytes that need the disk: the event loop never waits on a disk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include "ct_napi.h"
#include <stdint.h>
#include <sys/uio.h>

/* readCached(fd: number, into: Uint8Array, position: number): number
 * Bytes copied into `into` from `position` (short, or 0 at the end of the file), or -1 when the
 * first of them is not in the page cache or the kernel cannot tell without blocking. */
static napi_value read_cached(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  int64_t position;
  napi_typedarray_type type;
  size_t length, offset;
  napi_value arraybuffer;
  void *base;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &base, &arraybuffer, &offset) != napi_ok ||
      type != napi_uint8_array || napi_get_value_int64(env, argv[2], &position) != napi_ok || position < 0) {
    napi_throw_type_error(env, NULL, "readCached(fd: number, into: Uint8Array, position: number)");
    return NULL;
  }
  struct iovec iov = { .iov_base = base, .iov_len = length };
  ssize_t n;
  do n = preadv2(fd, &iov, 1, position, RWF_NOWAIT); while (n < 0 && errno == EINTR);
  /* Any failure (EAGAIN: not cached; EOPNOTSUPP/ENOSYS: no RWF_NOWAIT; a real I/O error) is left
   * to the ordinary read, which reports real errors the usual way. */
  napi_create_int64(env, n < 0 ? -1 : (int64_t)n, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  return ct_export(env, exports, "readCached", read_cached);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
