/* napi-util.h — the few N-API helpers every binding file shares: reading
 * arguments and turning an errno into a JavaScript Error whose `code` is the
 * errno name (EBUSY, ENOENT, ...), the way Node's own fs errors look. */
#ifndef NIMBUS_NAPI_UTIL_H
#define NIMBUS_NAPI_UTIL_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

/* Returns NULL (with a pending exception) on failure, so callers just `return NULL`. */
#define NAPI_CALL(env, call)                                         \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      nimbus_throw_pending(env, #call);                              \
      return NULL;                                                   \
    }                                                                \
  } while (0)

void nimbus_throw_pending(napi_env env, const char *what);
napi_value nimbus_errno_error(napi_env env, int err, const char *syscall);
/* Rejects a pool call's promise with the errno error of `syscall` (EIO when the
 * pool itself failed) unless it ran and `err` is 0; true when it rejected. */
bool nimbus_reject_failed(napi_env env, napi_deferred deferred, napi_status status, int err, const char *syscall);
/* A syscall's non-negative result as a JS number, or NULL after throwing its errno error (`err`, saved before cleanup). */
napi_value nimbus_int_or_errno(napi_env env, int value, int err, const char *syscall);
/* A malloc'd UTF-8 copy of a string argument, or NULL after throwing a TypeError. */
char *nimbus_string(napi_env env, napi_value value, const char *name);
bool nimbus_int32(napi_env env, napi_value value, const char *name, int32_t *out);
/* A NULL-terminated malloc'd array of malloc'd strings, from a JS string array. */
char **nimbus_string_array(napi_env env, napi_value value, const char *name);
void nimbus_free_string_array(char **arr);
/* Fills argv (room for `max`; missing ones are undefined). False, after throwing
 * a TypeError naming `usage`, when fewer than `min` came. */
bool nimbus_args(napi_env env, napi_callback_info info, size_t min, size_t max, napi_value *argv, const char *usage);
typedef struct {
  const char *name;
  napi_callback fn;
} nimbus_function;
void nimbus_export(napi_env env, napi_value exports, const nimbus_function *fns, size_t n);
#define NIMBUS_EXPORT(env, exports, table) nimbus_export(env, exports, table, sizeof(table) / sizeof(table[0]))
/* A promise settled by `complete` after `execute` ran on libuv's thread pool;
 * fills *work and *deferred. NULL after throwing (the caller frees `data`). */
napi_value nimbus_queue_work(napi_env env, const char *name, napi_async_execute_callback execute,
                             napi_async_complete_callback complete, void *data, napi_async_work *work, napi_deferred *deferred);

napi_value nimbus_register_mount(napi_env env, napi_value exports);
napi_value nimbus_register_spawn(napi_env env, napi_value exports);

#endif
