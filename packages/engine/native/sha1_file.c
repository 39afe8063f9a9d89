/*
 * ct_sha1_file: SHA-1 of pieces read straight from their files through read-only mappings, on
 * the libuv pool. Used by the check of what is on disk (start-up, recheck).
 *
 * Why: the check read each piece into a buffer (a copy out of the page cache, on the main
 * thread) and then hashed that buffer on the pool. Hashing the page cache in place through a
 * mapping of up to WINDOW bytes skips the copy and the per-piece round trips: for 1 GiB in the
 * page cache, 0.73 CPU s for pread + SHA-1 against 0.59 s mapped (bench/RESULTS.md).
 *
 * Safety: touching a mapped page past the end of the file, or one the disk cannot read, raises
 * SIGBUS. MADV_POPULATE_READ (Linux 5.14+) maps the whole window first and fails with an errno
 * instead (EFAULT past the end, EIO), and a file truncated between that call and the hash is
 * caught by a SIGBUS handler that only acts for a thread inside a hash of a mapped window: that
 * batch is rejected with EFAULT. Any other SIGBUS goes to the disposition there was before.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <node_api.h>
#include "ct_napi.h"
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14+; older headers lack the name */
#endif

/* Bytes mapped at once per job: larger windows cost fewer mmap/munmap pairs (16 MiB: 0.59 s per
 * GiB, 1 MiB: 0.64 s), but every mapped page counts in our RSS while the window is up. */
#define WINDOW ((size_t)8 << 20)

/* OpenSSL's streaming SHA-1, looked up in the running Node at load (as in sha1_batch.c). The
 * context is opaque here: SHA_CTX is 96 bytes, this leaves room. */
typedef struct { _Alignas(16) unsigned char bytes[256]; } Sha1Ctx;
typedef int (*Sha1Init)(Sha1Ctx *);
typedef int (*Sha1Update)(Sha1Ctx *, const void *, size_t);
typedef int (*Sha1Final)(unsigned char *, Sha1Ctx *);
static Sha1Init sha1_init;
static Sha1Update sha1_update;
static Sha1Final sha1_final;

/* The SIGBUS guard: set only while this thread hashes bytes of a mapped window. */
static __thread sigjmp_buf *guard __attribute__((tls_model("initial-exec")));
static struct sigaction previous_sigbus;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
  if (guard) siglongjmp(*guard, 1);
  /* Not ours: what was there before us handles it (returning re-runs the faulting access). */
  if (previous_sigbus.sa_flags & SA_SIGINFO) {
    previous_sigbus.sa_sigaction(sig, info, context);
  } else if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN) {
    previous_sigbus.sa_handler(sig);
  } else {
    sigaction(SIGBUS, &previous_sigbus, NULL);
  }
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref held; /* the two typed arrays, alive until completion */
  const double *ranges; /* triples: fd (-1: zeros), offset, length */
  const uint32_t *ends; /* per piece: index of the triple after its last */
  uint32_t pieces;
  bool populate;
  uint8_t *digests;
  int err;
} Job;

typedef struct {
  int fd;
  uint8_t *base;
  int64_t start, end; /* file bytes [start, end) are at base */
} Window;

static void unmap(Window *w) {
  if (w->base) munmap(w->base, (size_t)(w->end - w->start));
  w->base = NULL;
}

/* Maps bytes of `fd` from `offset` (page-aligned down) to at most `limit` and WINDOW. */
static int map_window(Window *w, int fd, int64_t offset, int64_t limit, bool populate) {
  unmap(w);
  int64_t page = sysconf(_SC_PAGESIZE);
  int64_t start = offset - offset % page;
  int64_t end = limit < start + (int64_t)WINDOW ? limit : start + (int64_t)WINDOW;
  void *base = mmap(NULL, (size_t)(end - start), PROT_READ, MAP_SHARED, fd, start);
  if (base == MAP_FAILED) return errno;
  if (populate && madvise(base, (size_t)(end - start), MADV_POPULATE_READ) != 0) {
    int err = errno;
    munmap(base, (size_t)(end - start));
    return err;
  }
  *w = (Window){ .fd = fd, .base = base, .start = start, .end = end };
  return 0;
}

/* Where the run of byte-contiguous ranges of one file starting at triple `i` ends. */
static int64_t run_end(const Job *job, uint32_t i, uint32_t count) {
  int fd = (int)job->ranges[3 * i];
  int64_t end = (int64_t)job->ranges[3 * i + 1] + (int64_t)job->ranges[3 * i + 2];
  for (uint32_t k = i + 1; k < count; k++) {
    if ((int)job->ranges[3 * k] != fd || (int64_t)job->ranges[3 * k + 1] != end) break;
    end += (int64_t)job->ranges[3 * k + 2];
  }
  return end;
}

static int hash_mapped(Sha1Ctx *ctx, const uint8_t *bytes, size_t length) {
  sigjmp_buf jump;
  if (sigsetjmp(jump, 1)) {
    guard = NULL;
    return EFAULT; /* the file shrank under the mapping */
  }
  guard = &jump;
  sha1_update(ctx, bytes, length);
  guard = NULL;
  return 0;
}

static void execute(napi_env env, void *arg) {
  (void)env;
  Job *job = arg;
  static const uint8_t zeros[65536];
  Window w = { .fd = -1 };
  uint32_t count = job->pieces ? job->ends[job->pieces - 1] : 0;
  uint32_t i = 0;
  for (uint32_t p = 0; p < job->pieces && !job->err; p++) {
    Sha1Ctx ctx;
    sha1_init(&ctx);
    for (; i < job->ends[p] && !job->err; i++) {
      int fd = (int)job->ranges[3 * i];
      int64_t offset = (int64_t)job->ranges[3 * i + 1];
      int64_t left = (int64_t)job->ranges[3 * i + 2];
      if (fd < 0) {
        for (; left > 0; left -= (int64_t)sizeof zeros) sha1_update(&ctx, zeros, left < (int64_t)sizeof zeros ? (size_t)left : sizeof zeros);
        continue;
      }
      int64_t limit = run_end(job, i, count);
      while (left > 0 && !job->err) {
        if (!w.base || w.fd != fd || offset < w.start || offset >= w.end) job->err = map_window(&w, fd, offset, limit, job->populate);
        if (job->err) break;
        int64_t n = w.end - offset < left ? w.end - offset : left;
        job->err = hash_mapped(&ctx, w.base + (offset - w.start), (size_t)n);
        offset += n;
        left -= n;
      }
    }
    sha1_final(job->digests + 20 * (size_t)p, &ctx);
  }
  unmap(&w);
}

static void complete(napi_env env, napi_status status, void *arg) {
  Job *job = arg;
  napi_value result;
  if (status != napi_ok) {
    ct_reject(env, job->deferred, NULL, "native SHA-1 of file ranges failed");
  } else if (job->err) {
    ct_reject(env, job->deferred, job->err == EFAULT ? "EFAULT" : job->err == EIO ? "EIO" : "EMAPPED", strerror(job->err));
  } else if (napi_create_buffer_copy(env, 20 * (size_t)job->pieces, job->digests, NULL, &result) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    ct_reject(env, job->deferred, NULL, "native SHA-1 of file ranges: no result buffer");
  }
  ct_release_job(env, job->held, job->work);
  free(job->digests);
  free(job);
}

static bool typed(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  bool is = false;
  return napi_is_typedarray(env, value, &is) == napi_ok && is &&
         napi_get_typedarray_info(env, value, &type, length, data, &arraybuffer, &offset) == napi_ok && type == want;
}

/* hashFileRanges(ranges: Float64Array, ends: Uint32Array, populate = true): Promise<Buffer>
 * ranges: triples (fd or -1 for zeros, offset, length); ends[p]: the triple after piece p's last.
 * Resolves to 20 bytes per piece; rejects (code EFAULT, EIO, ...) when any byte cannot be read. */
static napi_value hash_file_ranges(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *ranges, *ends;
  size_t range_count = 0, piece_count = 0;
  bool populate = true;
  if (argc < 2 || !typed(env, argv[0], napi_float64_array, &ranges, &range_count) ||
      !typed(env, argv[1], napi_uint32_array, &ends, &piece_count) || range_count % 3 != 0 ||
      (argc > 2 && napi_get_value_bool(env, argv[2], &populate) != napi_ok)) {
    napi_throw_type_error(env, NULL, "hashFileRanges(ranges: Float64Array, ends: Uint32Array, populate?: boolean)");
    return NULL;
  }
  for (size_t p = 0; p < piece_count; p++) {
    uint32_t end = ((uint32_t *)ends)[p];
    if (end > range_count / 3 || (p > 0 && end < ((uint32_t *)ends)[p - 1])) {
      napi_throw_range_error(env, NULL, "hashFileRanges: ends must rise and stay within the ranges");
      return NULL;
    }
  }
  Job *job = calloc(1, sizeof(Job));
  job->ranges = ranges;
  job->ends = ends;
  job->pieces = (uint32_t)piece_count;
  job->populate = populate;
  job->digests = malloc(20 * (piece_count ? piece_count : 1));
  napi_value pair;
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, argv[0]);
  napi_set_element(env, pair, 1, argv[1]);
  napi_create_reference(env, pair, 1, &job->held);
  return ct_queue_job(env, "ct_sha1_file", execute, complete, job, &job->work, &job->deferred);
}

static napi_value init(napi_env env, napi_value exports) {
  sha1_init = (Sha1Init)dlsym(RTLD_DEFAULT, "SHA1_Init");
  sha1_update = (Sha1Update)dlsym(RTLD_DEFAULT, "SHA1_Update");
  sha1_final = (Sha1Final)dlsym(RTLD_DEFAULT, "SHA1_Final");
  if (!sha1_init || !sha1_update || !sha1_final) {
    napi_throw_error(env, "ENOSYS", "this Node does not export OpenSSL's SHA1_Init/Update/Final");
    return NULL;
  }
  /* Installed once per process, however many times the addon is loaded (worker threads). */
  static bool installed = false;
  if (!installed) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &previous_sigbus) != 0) {
      napi_throw_error(env, "ENOSYS", "cannot install the SIGBUS guard");
      return NULL;
    }
    installed = true;
  }
  return ct_export(env, exports, "hashFileRanges", hash_file_ranges);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
