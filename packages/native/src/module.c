/* module.c — the addon's entry point and shared helpers. Each binding file
 * registers its own functions; this file only wires them up. */
#include "napi-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nimbus_throw_pending(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, what);
}

napi_value nimbus_errno_error(napi_env env, int err, const char *syscall) {
  const char *name = strerrorname_np(err);
  char message[256];
  snprintf(message, sizeof message, "%s %s: %s", name ? name : "EUNKNOWN", syscall, strerror(err));
  napi_value msg, code, error, errnum, sys;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  return error;
}

bool nimbus_reject_failed(napi_env env, napi_deferred deferred, napi_status status, int err, const char *syscall) {
  if (status == napi_ok && err == 0) return false;
  napi_reject_deferred(env, deferred, nimbus_errno_error(env, err ? err : EIO, syscall));
  return true;
}

napi_value nimbus_int_or_errno(napi_env env, int value, int err, const char *syscall) {
  napi_value result;
  if (value < 0) {
    napi_throw(env, nimbus_errno_error(env, err, syscall));
    return NULL;
  }
  NAPI_CALL(env, napi_create_int32(env, value, &result));
  return result;
}

char *nimbus_string(napi_env env, napi_value value, const char *name) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    char message[128];
    snprintf(message, sizeof message, "%s must be a string", name);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  char *out = malloc(len + 1);
  if (!out) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, out, len + 1, &len);
  if (strlen(out) != len) { /* an embedded NUL would silently cut a path or argument */
    free(out);
    char message[128];
    snprintf(message, sizeof message, "%s must not contain NUL bytes", name);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  return out;
}

bool nimbus_int32(napi_env env, napi_value value, const char *name, int32_t *out) {
  if (napi_get_value_int32(env, value, out) == napi_ok) return true;
  char message[128];
  snprintf(message, sizeof message, "%s must be a number", name);
  napi_throw_type_error(env, NULL, message);
  return false;
}

char **nimbus_string_array(napi_env env, napi_value value, const char *name) {
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array || napi_get_array_length(env, value, &n) != napi_ok) {
    char message[128];
    snprintf(message, sizeof message, "%s must be an array of strings", name);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  char **arr = calloc(n + 1, sizeof *arr);
  if (!arr) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    napi_get_element(env, value, i, &item);
    arr[i] = nimbus_string(env, item, name);
    if (!arr[i]) {
      nimbus_free_string_array(arr);
      return NULL;
    }
  }
  return arr;
}

void nimbus_free_string_array(char **arr) {
  if (!arr) return;
  for (char **p = arr; *p; p++) free(*p);
  free(arr);
}

bool nimbus_args(napi_env env, napi_callback_info info, size_t min, size_t max, napi_value *argv, const char *usage) {
  size_t argc = max;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    nimbus_throw_pending(env, "could not read the arguments");
    return false;
  }
  if (argc >= min) return true;
  char message[192];
  snprintf(message, sizeof message, "%s: %zu argument(s) given", usage, argc);
  napi_throw_type_error(env, NULL, message);
  return false;
}

void nimbus_export(napi_env env, napi_value exports, const nimbus_function *fns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
}

napi_value nimbus_register_seqpacket(napi_env env, napi_value exports);
napi_value nimbus_register_inotify(napi_env env, napi_value exports);
napi_value nimbus_register_confined(napi_env env, napi_value exports);
napi_value nimbus_register_netsock(napi_env env, napi_value exports);

napi_value nimbus_queue_work(napi_env env, const char *name, napi_async_execute_callback execute,
                             napi_async_complete_callback complete, void *data, napi_async_work *work, napi_deferred *deferred) {
  napi_value promise, resource_name;
  if (napi_create_promise(env, deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, execute, complete, data, work) != napi_ok ||
      napi_queue_async_work(env, *work) != napi_ok) {
    nimbus_throw_pending(env, "could not queue work on the thread pool");
    return NULL;
  }
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  nimbus_register_mount(env, exports);
  nimbus_register_spawn(env, exports);
  nimbus_register_seqpacket(env, exports);
  nimbus_register_inotify(env, exports);
  nimbus_register_confined(env, exports);
  nimbus_register_netsock(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
