/*
 * The N-API steps every addon of ct repeats: export a function, queue a job on the libuv pool
 * behind a promise (and release what the job held), reject that promise with a coded error.
 */
#ifndef CT_NAPI_H
#define CT_NAPI_H
#include <node_api.h>

/* Queues `job` (execute on the pool, complete on the main thread); returns its promise. */
static inline napi_value ct_queue_job(napi_env env, const char *name, napi_async_execute_callback execute,
                                      napi_async_complete_callback complete, void *job, napi_async_work *work,
                                      napi_deferred *deferred) {
  napi_value promise, resource_name;
  napi_create_promise(env, deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  napi_create_async_work(env, NULL, resource_name, execute, complete, job, work);
  napi_queue_async_work(env, *work);
  return promise;
}

/* Drops what a queued job held: the reference keeping its buffers alive, and its async work. */
static inline void ct_release_job(napi_env env, napi_ref held, napi_async_work work) {
  napi_delete_reference(env, held);
  napi_delete_async_work(env, work);
}

/* Sets exports[name] to the native function `fn`; returns `exports`, for an addon's init. */
static inline napi_value ct_export(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value value;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &value);
  napi_set_named_property(env, exports, name, value);
  return exports;
}

/* Rejects `deferred` with an Error of message `text` and code `code` (none when NULL). */
static inline void ct_reject(napi_env env, napi_deferred deferred, const char *code, const char *text) {
  napi_value msg, code_value = NULL, error;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  if (code) napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_error(env, code_value, msg, &error);
  napi_reject_deferred(env, deferred, error);
}
#endif
