/*
 * The N-API steps every async addon of ct repeats: queue a job on the libuv pool behind a
 * promise, and reject that promise with an error carrying a code.
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

/* Rejects `deferred` with an Error of message `text` and code `code` (none when NULL). */
static inline void ct_reject(napi_env env, napi_deferred deferred, const char *code, const char *text) {
  napi_value msg, code_value = NULL, error;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  if (code) napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_error(env, code_value, msg, &error);
  napi_reject_deferred(env, deferred, error);
}
#endif
