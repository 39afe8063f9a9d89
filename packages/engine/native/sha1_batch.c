/*
 * ct_sha1_batch: SHA-1 of a batch of buffers on the libuv pool.
 *
 * Why: hashing in worker threads cost two Node isolates (~8 MiB of memory each before any work),
 * a structured-clone message per batch (~70 us of the main thread's wall time on 2 cores) and a
 * worker event loop woken per batch. A pool job needs none of that: the buffers are read in
 * place, one small allocation per batch, one completion on the main loop.
 *
 * The digest itself is OpenSSL's SHA1(), the one Node's own crypto module runs (with the CPU's
 * SHA extensions where present), looked up in the running process at load time. A Node built
 * without it exported makes the load fail, and the engine hashes in worker threads instead.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <node_api.h>
#include "ct_napi.h"
#include <stdint.h>
#include <stdlib.h>

typedef unsigned char *(*Sha1Fn)(const unsigned char *data, size_t length, unsigned char *digest);
static Sha1Fn sha1;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref views_ref; /* keeps every buffer alive (and in place) until the job completes */
  uint32_t count;
  const uint8_t **data;
  size_t *length;
  uint8_t *digests;
} Job;

static void execute(napi_env env, void *arg) {
  (void)env;
  Job *job = arg;
  for (uint32_t i = 0; i < job->count; i++) sha1(job->data[i], job->length[i], job->digests + 20 * (size_t)i);
}

static void free_job(Job *job) {
  free(job->data);
  free(job->length);
  free(job->digests);
  free(job);
}

static void complete(napi_env env, napi_status status, void *arg) {
  Job *job = arg;
  napi_value result;
  if (status == napi_ok && napi_create_buffer_copy(env, 20 * (size_t)job->count, job->digests, NULL, &result) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    ct_reject(env, job->deferred, NULL, "native SHA-1 batch failed");
  }
  ct_release_job(env, job->views_ref, job->work);
  free_job(job);
}

/* hashBatch(views: Uint8Array[]): Promise<Buffer>  (the digests, 20 bytes each, in order) */
static napi_value hash_batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_array = false;
  uint32_t count = 0;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok || count == 0) {
    napi_throw_type_error(env, NULL, "hashBatch(views: Uint8Array[]) needs a non-empty array");
    return NULL;
  }
  Job *job = calloc(1, sizeof(Job));
  job->count = count;
  job->data = calloc(count, sizeof(uint8_t *));
  job->length = calloc(count, sizeof(size_t));
  job->digests = malloc(20 * (size_t)count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value view, arraybuffer;
    napi_typedarray_type type;
    size_t offset;
    void *base;
    if (napi_get_element(env, argv[0], i, &view) != napi_ok ||
        napi_get_typedarray_info(env, view, &type, &job->length[i], &base, &arraybuffer, &offset) != napi_ok ||
        type != napi_uint8_array) {
      free_job(job);
      napi_throw_type_error(env, NULL, "hashBatch(views: Uint8Array[]): every element must be a Uint8Array");
      return NULL;
    }
    job->data[i] = base;
  }
  napi_create_reference(env, argv[0], 1, &job->views_ref);
  return ct_queue_job(env, "ct_sha1_batch", execute, complete, job, &job->work, &job->deferred);
}

static napi_value init(napi_env env, napi_value exports) {
  sha1 = (Sha1Fn)dlsym(RTLD_DEFAULT, "SHA1");
  if (!sha1) {
    napi_throw_error(env, "ENOSYS", "this Node does not export OpenSSL's SHA1");
    return NULL;
  }
  return ct_export(env, exports, "hashBatch", hash_batch);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
