/*
 * Releases a byte range of a file back to the filesystem without changing the file's size:
 * fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE). The bounded cache (cache/disk-cache.ts)
 * evicts a piece this way, so a torrent's files stay sparse in their normal layout. Node has no
 * binding for it. Synchronous: a metadata operation on the inode, microseconds per range.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include "ct_napi.h"

/* punch(fd: number, position: number, length: number): number — 0, or the negative errno. */
static napi_value punch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  int64_t position, length;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &position) != napi_ok ||
      napi_get_value_int64(env, argv[2], &length) != napi_ok || position < 0 || length < 0) {
    napi_throw_type_error(env, NULL, "punch(fd: number, position: number, length: number)");
    return NULL;
  }
  int rc = length == 0 ? 0 : fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, position, length);
  napi_create_int32(env, rc == 0 ? 0 : -errno, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  return ct_export(env, exports, "punch", punch);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
