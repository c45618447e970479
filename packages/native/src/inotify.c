/* inotify.c — an inotify descriptor that reports only the events asked for.
 * Node's fs.watch subscribes a directory to every kind of change, so a watch
 * on a container's bundle wakes its thread for each chunk conmon appends to
 * the log. LogRotations wants renames alone (IN_MOVED_TO), read by a worker
 * thread that blocks in read(2) on this descriptor.
 *
 *   inotifyInit([nonblocking]) → fd   close-on-exec; blocking unless asked (a non-blocking one
 *                                 is polled with readSync, which then answers EAGAIN at once)
 *   inotifyAddWatch(fd, path, mask) → wd
 *   inotifyRmWatch(fd, wd)        a watch already gone (its directory removed) is not an error */
#include "napi-util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/inotify.h>

static napi_value js_init(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bool nonblock = false;
  if (!nimbus_args(env, info, 0, 1, argv, "inotifyInit([nonblocking])")) return NULL;
  napi_valuetype t;
  if (napi_typeof(env, argv[0], &t) == napi_ok && t == napi_boolean) napi_get_value_bool(env, argv[0], &nonblock);
  int fd = inotify_init1(IN_CLOEXEC | (nonblock ? IN_NONBLOCK : 0));
  return nimbus_int_or_errno(env, fd, errno, "inotify_init1");
}

static napi_value js_add_watch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, mask;
  char *path;
  bool ok = nimbus_args(env, info, 3, 3, argv, "inotifyAddWatch(fd, path, mask)") && nimbus_int32(env, argv[0], "fd", &fd) &&
            nimbus_int32(env, argv[2], "mask", &mask) && (path = nimbus_string(env, argv[1], "path"));
  if (!ok) return NULL;
  int wd = inotify_add_watch(fd, path, (uint32_t)mask);
  int err = errno;
  free(path);
  return nimbus_int_or_errno(env, wd, err, "inotify_add_watch");
}

static napi_value js_rm_watch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, wd;
  if (!nimbus_args(env, info, 2, 2, argv, "inotifyRmWatch(fd, wd)") || !nimbus_int32(env, argv[0], "fd", &fd) ||
      !nimbus_int32(env, argv[1], "wd", &wd))
    return NULL;
  if (inotify_rm_watch(fd, wd) < 0 && errno != EINVAL) napi_throw(env, nimbus_errno_error(env, errno, "inotify_rm_watch"));
  return NULL;
}

napi_value nimbus_register_inotify(napi_env env, napi_value exports) {
  static const nimbus_function fns[] = {
      {"inotifyInit", js_init}, {"inotifyAddWatch", js_add_watch}, {"inotifyRmWatch", js_rm_watch}};
  NIMBUS_EXPORT(env, exports, fns);
  return exports;
}
