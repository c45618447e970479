/* mount.c — mount(2) and umount2(2) on libuv's thread pool, returning promises.
 * Exec'ing /bin/mount for every sandbox forked the whole server (tens of ms with
 * the event loop blocked, more under load); the syscall itself takes well under
 * a millisecond. Only what the overlay root needs is exposed. */
#include "napi-util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *source, *target, *fstype, *data; /* unused ones stay NULL */
  int flags;
  int signal_fd; /* -1, or an fd that gets one byte once the mount succeeded */
  bool unmount;
  int err;
} mount_call;

static void mount_execute(napi_env env, void *arg) {
  (void)env;
  mount_call *c = arg;
  int rc = c->unmount ? umount2(c->target, c->flags) : mount(c->source, c->target, c->fstype, (unsigned long)c->flags, c->data);
  c->err = rc == 0 ? 0 : errno;
  /* Whatever waits on the mount (conmon on its start pipe) goes on from here, not
   * after the completion has queued behind everything else on the event loop. */
  if (c->err == 0 && c->signal_fd >= 0) {
    ssize_t w;
    do w = write(c->signal_fd, "0", 1);
    while (w < 0 && errno == EINTR);
  }
}

static void mount_complete(napi_env env, napi_status status, void *arg) {
  mount_call *c = arg;
  if (status == napi_ok && c->err == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, c->deferred, undefined);
  } else {
    napi_reject_deferred(env, c->deferred, nimbus_errno_error(env, c->err ? c->err : EIO, c->unmount ? "umount2" : "mount"));
  }
  napi_delete_async_work(env, c->work);
  free(c->source);
  free(c->target);
  free(c->fstype);
  free(c->data);
  free(c);
}

static napi_value queue(napi_env env, mount_call *c) {
  napi_value promise = nimbus_queue_work(env, c->unmount ? "nimbus.umount" : "nimbus.mount", mount_execute, mount_complete, c, &c->work, &c->deferred);
  if (!promise) {
    free(c->source), free(c->target), free(c->fstype), free(c->data), free(c);
  }
  return promise;
}

/* mount(source, target, fstype, flags, data, signalFd = -1) → Promise<void> */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data, signalFd?) takes 5 or 6 arguments");
    return NULL;
  }
  mount_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->signal_fd = -1;
  napi_valuetype sig_type = napi_undefined;
  if (argc >= 6) napi_typeof(env, argv[5], &sig_type);
  if (sig_type != napi_undefined && !nimbus_int32(env, argv[5], "signalFd", &c->signal_fd)) {
    free(c);
    return NULL;
  }
  if (!(c->source = nimbus_string(env, argv[0], "source")) || !(c->target = nimbus_string(env, argv[1], "target")) ||
      !(c->fstype = nimbus_string(env, argv[2], "fstype")) || !nimbus_int32(env, argv[3], "flags", &c->flags) ||
      !(c->data = nimbus_string(env, argv[4], "data"))) {
    free(c->source), free(c->target), free(c->fstype), free(c->data), free(c);
    return NULL;
  }
  return queue(env, c);
}

/* umount(target, flags) → Promise<void>; flags are umount2's (MNT_DETACH = 2). */
static napi_value js_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "umount(target, flags) takes 2 arguments");
    return NULL;
  }
  mount_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->unmount = true;
  if (!(c->target = nimbus_string(env, argv[0], "target")) || !nimbus_int32(env, argv[1], "flags", &c->flags)) {
    free(c->target), free(c);
    return NULL;
  }
  return queue(env, c);
}

napi_value nimbus_register_mount(napi_env env, napi_value exports) {
  nimbus_export(env, exports, "mount", js_mount);
  nimbus_export(env, exports, "umount", js_umount);
  return exports;
}
