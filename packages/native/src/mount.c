/* mount.c — mount(2) and umount2(2) on libuv's thread pool, returning promises.
 * Exec'ing /bin/mount for every sandbox forked the whole server (tens of ms with
 * the event loop blocked, more under load); the syscall itself takes well under
 * a millisecond. Only what the overlay root and the disk-limit image (a loop
 * device, set up here rather than by mount(8)) need is exposed. */
#include "napi-util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *source, *target, *fstype, *data; /* unused ones stay NULL */
  int flags;
  int signal_fd; /* -1, or an fd that gets one byte once the mount succeeded */
  char **dirs;   /* NULL, or directories to create first (an existing one is fine) */
  char **files;  /* NULL, or path, content, path, content, ... to write first */
  bool unmount;
  bool loop; /* source is a filesystem image: attach it to a free loop device (autoclear) and mount that */
  int err;
  const char *failed_call;
} mount_call;

static void free_mount_call(mount_call *c) {
  free(c->source), free(c->target), free(c->fstype), free(c->data);
  nimbus_free_string_array(c->dirs);
  nimbus_free_string_array(c->files);
  free(c);
}

/* mkdir -p: each missing component of `path` (modified in place, restored). */
static int mkdir_parents(char *path) {
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    int rc = mkdir(path, 0755);
    int err = rc == 0 ? 0 : errno;
    *p = saved;
    if (err && err != EEXIST) return err;
    if (saved == '\0') return 0;
  }
}

/* Creates c->dirs (with parents) and writes c->files; 0 or an errno (c->failed_call names the call). */
static int prepare(mount_call *c) {
  for (char **d = c->dirs; d && *d; d++) {
    int err = mkdir_parents(*d);
    if (err) {
      c->failed_call = "mkdir";
      return err;
    }
  }
  for (char **f = c->files; f && f[0] && f[1]; f += 2) {
    int fd = open(f[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      c->failed_call = "open";
      return errno;
    }
    size_t len = strlen(f[1]), off = 0;
    while (off < len) {
      ssize_t w = write(fd, f[1] + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        int err = errno;
        close(fd);
        c->failed_call = "write";
        return err;
      }
      off += (size_t)w;
    }
    if (close(fd) != 0) {
      c->failed_call = "close";
      return errno;
    }
  }
  return 0;
}

/* Attaches c->source to a free loop device with autoclear (it detaches once the
 * filesystem on it is unmounted and the last fd closed) and mounts that device.
 * The fds are closed before returning: the mount keeps the device busy. */
static int mount_loop(mount_call *c) {
  int image = open(c->source, O_RDWR | O_CLOEXEC);
  if (image < 0) return c->failed_call = "open image", errno;
  int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (control < 0) {
    int err = errno;
    close(image);
    return c->failed_call = "open /dev/loop-control", err;
  }
  int err = 0;
  for (int attempt = 0; attempt < 16; attempt++) {
    int n = ioctl(control, LOOP_CTL_GET_FREE);
    if (n < 0) {
      err = errno, c->failed_call = "LOOP_CTL_GET_FREE";
      break;
    }
    char dev[32];
    snprintf(dev, sizeof dev, "/dev/loop%d", n);
    int loop = open(dev, O_RDWR | O_CLOEXEC);
    if (loop < 0) {
      err = errno, c->failed_call = "open loop device";
      if (err == ENOENT) continue; /* its node is being made: ask again */
      break;
    }
    struct loop_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fd = (unsigned)image;
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    if (ioctl(loop, LOOP_CONFIGURE, &cfg) < 0) {
      err = errno, c->failed_call = "LOOP_CONFIGURE";
      close(loop);
      if (err == EBUSY) continue; /* another process took it first */
      break;
    }
    err = mount(dev, c->target, c->fstype, (unsigned long)c->flags, c->data) == 0 ? 0 : errno;
    if (err) {
      c->failed_call = "mount";
      ioctl(loop, LOOP_CLR_FD, 0);
    }
    close(loop);
    break;
  }
  close(control);
  close(image);
  return err;
}

static void mount_execute(napi_env env, void *arg) {
  (void)env;
  mount_call *c = arg;
  c->err = prepare(c);
  if (c->err) return;
  if (c->loop) {
    c->err = mount_loop(c);
    return;
  }
  c->failed_call = c->unmount ? "umount2" : "mount";
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
  if (!nimbus_reject_failed(env, c->deferred, status, c->err, c->failed_call ? c->failed_call : "mount")) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, c->deferred, undefined);
  }
  napi_delete_async_work(env, c->work);
  free_mount_call(c);
}

static napi_value queue(napi_env env, mount_call *c) {
  napi_value promise = nimbus_queue_work(env, c->unmount ? "nimbus.umount" : "nimbus.mount", mount_execute, mount_complete, c, &c->work, &c->deferred);
  if (!promise) free_mount_call(c);
  return promise;
}

/* The call's arguments checked for count and a call record made (no signal fd yet); NULL after throwing. */
static mount_call *begin_mount_call(napi_env env, napi_callback_info info, size_t min, size_t max, napi_value *argv, const char *usage) {
  if (!nimbus_args(env, info, min, max, argv, usage)) return NULL;
  mount_call *c = calloc(1, sizeof *c);
  if (!c) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  c->signal_fd = -1;
  return c;
}

/* obj[name] as a string array when present; false after throwing. */
static bool optional_strings(napi_env env, napi_value obj, const char *name, char ***out) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return true;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return false;
  return (*out = nimbus_string_array(env, v, name)) != NULL;
}

/* argv[0..4] = source, target, fstype, flags, data into c; false (c freed) after throwing. */
static bool mount_args(napi_env env, napi_value *argv, const char *source_name, mount_call *c) {
  if (!(c->source = nimbus_string(env, argv[0], source_name)) || !(c->target = nimbus_string(env, argv[1], "target")) ||
      !(c->fstype = nimbus_string(env, argv[2], "fstype")) || !nimbus_int32(env, argv[3], "flags", &c->flags) ||
      !(c->data = nimbus_string(env, argv[4], "data"))) {
    free_mount_call(c);
    return false;
  }
  return true;
}

/* mount(source, target, fstype, flags, data, signalFd = -1, before = {dirs, files}) → Promise<void> */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  mount_call *c = begin_mount_call(env, info, 5, 7, argv, "mount(source, target, fstype, flags, data, signalFd?, before?)");
  if (!c) return NULL;
  napi_valuetype sig_type, before_type;
  napi_typeof(env, argv[5], &sig_type);
  napi_typeof(env, argv[6], &before_type);
  if ((sig_type != napi_undefined && !nimbus_int32(env, argv[5], "signalFd", &c->signal_fd)) ||
      (before_type == napi_object && (!optional_strings(env, argv[6], "dirs", &c->dirs) || !optional_strings(env, argv[6], "files", &c->files)))) {
    free_mount_call(c);
    return NULL;
  }
  return mount_args(env, argv, "source", c) ? queue(env, c) : NULL;
}

/* mountLoop(image, target, fstype, flags, data) → Promise<void>: the image on a fresh autoclear loop device. */
static napi_value js_mount_loop(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  mount_call *c = begin_mount_call(env, info, 5, 5, argv, "mountLoop(image, target, fstype, flags, data)");
  if (c) c->loop = true;
  return c && mount_args(env, argv, "image", c) ? queue(env, c) : NULL;
}

/* umount(target, flags) → Promise<void>; flags are umount2's (MNT_DETACH = 2). */
static napi_value js_umount(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  mount_call *c = begin_mount_call(env, info, 2, 2, argv, "umount(target, flags)");
  if (!c) return NULL;
  c->unmount = true;
  if (!(c->target = nimbus_string(env, argv[0], "target")) || !nimbus_int32(env, argv[1], "flags", &c->flags)) {
    free_mount_call(c);
    return NULL;
  }
  return queue(env, c);
}

napi_value nimbus_register_mount(napi_env env, napi_value exports) {
  static const nimbus_function fns[] = {{"mount", js_mount}, {"mountLoop", js_mount_loop}, {"umount", js_umount}};
  NIMBUS_EXPORT(env, exports, fns);
  return exports;
}
