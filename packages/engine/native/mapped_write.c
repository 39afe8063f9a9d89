/*
 * ct_mapped_write: write a verified piece through a shared mmap window, on the libuv pool.
 *
 * Why: ext4's buffered pwrite() holds the file's inode lock for the whole copy, so writes to one
 * file are serial; page faults through a shared mapping are not. Where first-touching a page is
 * expensive (measured on our CI VM: ~10x), two threads writing through mappings did 1 GiB in
 * 0.49-0.75 s against 1.57-1.70 s for pwrite (DESIGN.md). The window covers one piece and is
 * unmapped right away, so the pages leave our RSS (they stay in the page cache).
 *
 * Read-around: a file nobody reads yet (a plain download) lets the kernel fault large folios
 * around the window and has the whole window populated in one call (MADV_POPULATE_WRITE, Linux
 * 5.14+): 1 GiB cost the pool threads ~1.4 s of CPU instead of ~2.2 s (page faults taken one
 * 4 KiB page at a time). A file that is being read gets MADV_RANDOM instead (below).
 *
 * Safety: writing through a mapping into a hole on a full disk raises SIGBUS, so the range is
 * fallocate()d first: a full disk becomes ENOSPC, reported like any write error. Filesystems
 * without fallocate get a plain pwrite instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <node_api.h>
#include "ct_napi.h"
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE_ADVICE MADV_POPULATE_WRITE
#else
#define MADV_POPULATE_WRITE_ADVICE 23 /* Linux 5.14+; older headers lack the name */
#endif

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref data_ref;
  int fd;
  int64_t position;
  bool read_around;
  uint8_t *data;
  size_t length;
  int err;
} Job;

static void execute(napi_env env, void *arg) {
  (void)env;
  Job *job = arg;
  if (job->length == 0) return;
  if (fallocate(job->fd, 0, job->position, (off_t)job->length) != 0) {
    if (errno != EOPNOTSUPP) { job->err = errno; return; }
    size_t done = 0;
    while (done < job->length) {
      ssize_t n = pwrite(job->fd, job->data + done, job->length - done, job->position + (off_t)done);
      if (n < 0) { if (errno == EINTR) continue; job->err = errno; return; }
      done += (size_t)n;
    }
    return;
  }
  long page = sysconf(_SC_PAGESIZE);
  int64_t start = job->position & ~((int64_t)page - 1);
  size_t delta = (size_t)(job->position - start);
  uint8_t *map = mmap(NULL, job->length + delta, PROT_READ | PROT_WRITE, MAP_SHARED, job->fd, start);
  if (map == MAP_FAILED) { job->err = errno; return; }
  if (job->read_around) {
    /* Fault the whole window in at once; an older kernel refuses (EINVAL) and the copy below
     * faults page by page, as before. */
    madvise(map, job->length + delta, MADV_POPULATE_WRITE_ADVICE);
  } else {
    /* No read-around on the write faults: without this the kernel reads (zero-fills, for the
     * fallocated range) large folios around each fault, and dirtying a large folio marks every
     * buffer in it. With a sequential reader on the same file this cost 4-5 s of system time per
     * GiB and halved streaming (DESIGN.md, bench/mount). */
    madvise(map, job->length + delta, MADV_RANDOM);
  }
  memcpy(map + delta, job->data, job->length);
  munmap(map, job->length + delta);
}

static void complete(napi_env env, napi_status status, void *arg) {
  Job *job = arg;
  if (status == napi_ok && job->err == 0) {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, job->deferred, undef);
  } else {
    ct_reject(env, job->deferred, job->err == ENOSPC ? "ENOSPC" : "EIO", job->err ? strerror(job->err) : "mapped write failed");
  }
  ct_release_job(env, job->data_ref, job->work);
  free(job);
}

/* write(fd: number, position: number, data: Uint8Array, readAround?: boolean): Promise<void> */
static napi_value write_mapped(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) { napi_throw_type_error(env, NULL, "write(fd, position, data)"); return NULL; }
  Job *job = calloc(1, sizeof(Job));
  int32_t fd;
  napi_typedarray_type type;
  size_t length, offset;
  napi_value arraybuffer;
  void *base;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int64(env, argv[1], &job->position) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &length, &base, &arraybuffer, &offset) != napi_ok ||
      type != napi_uint8_array) {
    free(job);
    napi_throw_type_error(env, NULL, "write(fd: number, position: number, data: Uint8Array)");
    return NULL;
  }
  bool read_around = false;
  if (argc >= 4) napi_get_value_bool(env, argv[3], &read_around);
  job->read_around = read_around;
  job->fd = fd;
  job->data = base;
  job->length = length;
  napi_create_reference(env, argv[2], 1, &job->data_ref);
  return ct_queue_job(env, "ct_mapped_write", execute, complete, job, &job->work, &job->deferred);
}

static napi_value init(napi_env env, napi_value exports) {
  return ct_export(env, exports, "write", write_mapped);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
