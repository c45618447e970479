/* confined.c — file operations on a tree the server does not trust (a sandbox's
 * root, an image layer), with every path resolved by the kernel inside a root
 * directory fd: openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, so a
 * symlink or `..` in the tree (or one swapped in while we work) can never lead
 * out of it. Names given to the *at calls are single components relative to a
 * directory fd that was itself resolved that way.
 *
 *   openRoot(path) → fd                          O_PATH directory fd of a trusted host path
 *   openat2(dirFd, path, flags, mode, resolve) → Promise<fd>     (+ openat2Sync)
 *   openRegular(dirFd, path, flags, resolve) → Promise<Opened>   (+ openRegularSync)
 *       resolves with O_PATH first and fstat()s; only a regular file is then
 *       reopened for I/O (through /proc/self/fd), so a FIFO, socket or device is
 *       never opened at all: no blocking open, no driver side effects.
 *   mkdirat(dirFd, name, mode), unlinkat(dirFd, name, flags),
 *   renameat(oldDirFd, oldName, newDirFd, newName) → Promise<void>
 *   readlinkFd(pathFd) → Promise<string>     the target of the symlink an
 *       O_PATH|O_NOFOLLOW fd names (readlinkat with an empty path): text, never followed
 *   lstat(dirFd, path, resolve) → Promise<Stat>   what `path` names, a final symlink not
 *       followed: O_PATH | O_NOFOLLOW, fstat, readlinkat on that fd (so the link
 *       read is the one resolved), {type, sizeBytes, mode, uid, gid, rdev, mtimeMs, linkTarget?}
 *   symlinkat(target, dirFd, name) → Promise<void>   `target` is stored as text, never resolved here
 *
 * `resolve` is OR-ed into RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (e.g.
 * RESOLVE_NO_XDEV); those two are always on. Errors reject with the errno name
 * as `code`, as Node's fs does. */
#include "napi-util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ALWAYS_RESOLVE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

enum op { OP_OPEN, OP_OPEN_REGULAR, OP_MKDIR, OP_UNLINK, OP_RENAME, OP_READLINK, OP_SYMLINK, OP_LSTAT };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  enum op op;
  int dir_fd, dir_fd2;
  char *path, *path2;
  int flags, mode;
  unsigned resolve;
  /* results */
  int fd;
  struct stat st;
  char *link; /* OP_READLINK's result */
  int err;
  const char *failed_call;
} confined_call;

static void free_call(confined_call *c) {
  free(c->path), free(c->path2), free(c->link);
  free(c);
}

/* openat2 with the confinement flags; retries EAGAIN, which RESOLVE_IN_ROOT
 * returns when a concurrent rename could have raced a `..` step. */
static int confined_openat2(int dir_fd, const char *path, int flags, int mode, unsigned resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? (unsigned long long)mode : 0;
  how.resolve = ALWAYS_RESOLVE | resolve;
  for (int tries = 0;; tries++) {
    long fd = syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
    if (fd >= 0) return (int)fd;
    if ((errno == EAGAIN || errno == EINTR) && tries < 64) continue;
    return -1;
  }
}

/* A single path component: no slash, not empty, not . or .. */
static bool single_name(const char *name) {
  return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Resolve with O_PATH (opens nothing but the name), fstat, and reopen a regular
 * file for I/O. c->fd stays -1 when it is not regular; c->st says what it is. */
static void open_regular(confined_call *c) {
  c->fd = -1;
  int path_fd = confined_openat2(c->dir_fd, c->path, O_PATH | (c->flags & O_NOFOLLOW), 0, c->resolve);
  if (path_fd < 0) {
    c->err = errno, c->failed_call = "openat2";
    return;
  }
  if (fstat(path_fd, &c->st) != 0) {
    c->err = errno, c->failed_call = "fstat";
    close(path_fd);
    return;
  }
  if (S_ISREG(c->st.st_mode)) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", path_fd);
    /* The magic link names exactly the inode resolved above: no second lookup in the tree. */
    int flags = (c->flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_DIRECTORY | O_PATH)) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    c->fd = open(proc, flags);
    if (c->fd < 0) c->err = errno, c->failed_call = "open";
  }
  close(path_fd);
}

static void execute(napi_env env, void *arg) {
  (void)env;
  confined_call *c = arg;
  c->err = 0;
  switch (c->op) {
    case OP_OPEN:
      c->fd = confined_openat2(c->dir_fd, c->path, c->flags, c->mode, c->resolve);
      if (c->fd < 0) c->err = errno, c->failed_call = "openat2";
      break;
    case OP_OPEN_REGULAR:
      open_regular(c);
      break;
    case OP_MKDIR:
      if (mkdirat(c->dir_fd, c->path, (mode_t)c->mode) != 0) c->err = errno, c->failed_call = "mkdirat";
      break;
    case OP_UNLINK:
      if (unlinkat(c->dir_fd, c->path, c->flags) != 0) c->err = errno, c->failed_call = "unlinkat";
      break;
    case OP_RENAME:
      if (renameat(c->dir_fd, c->path, c->dir_fd2, c->path2) != 0) c->err = errno, c->failed_call = "renameat";
      break;
    case OP_LSTAT: {
      int path_fd = confined_openat2(c->dir_fd, c->path, O_PATH | O_NOFOLLOW, 0, c->resolve);
      if (path_fd < 0) {
        c->err = errno, c->failed_call = "openat2";
        break;
      }
      if (fstat(path_fd, &c->st) != 0) c->err = errno, c->failed_call = "fstat";
      else if (S_ISLNK(c->st.st_mode) && (c->link = malloc(PATH_MAX + 1)) != NULL) {
        ssize_t n = readlinkat(path_fd, "", c->link, PATH_MAX);
        if (n < 0) c->err = errno, c->failed_call = "readlinkat";
        else c->link[n] = '\0';
      }
      close(path_fd);
      break;
    }
    case OP_READLINK: {
      c->link = malloc(PATH_MAX + 1);
      ssize_t n = c->link ? readlinkat(c->dir_fd, "", c->link, PATH_MAX) : -1;
      if (n < 0) c->err = c->link ? errno : ENOMEM, c->failed_call = "readlinkat";
      else c->link[n] = '\0';
      break;
    }
    case OP_SYMLINK:
      if (symlinkat(c->path2, c->dir_fd, c->path) != 0) c->err = errno, c->failed_call = "symlinkat";
      break;
  }
}

static const char *type_name(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "directory";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  if (S_ISCHR(m)) return "char-device";
  if (S_ISBLK(m)) return "block-device";
  return "unknown";
}

static napi_value set_number(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
  return obj;
}

/* {fd, type, sizeBytes, mode, uid, gid, rdev}; fd -1 when not a regular file. */
static napi_value opened_value(napi_env env, confined_call *c) {
  napi_value obj, type;
  napi_create_object(env, &obj);
  set_number(env, obj, "fd", c->fd);
  napi_create_string_utf8(env, type_name(c->st.st_mode), NAPI_AUTO_LENGTH, &type);
  napi_set_named_property(env, obj, "type", type);
  set_number(env, obj, "sizeBytes", (double)c->st.st_size);
  set_number(env, obj, "mode", c->st.st_mode & 07777);
  set_number(env, obj, "uid", c->st.st_uid);
  set_number(env, obj, "gid", c->st.st_gid);
  set_number(env, obj, "rdev", (double)c->st.st_rdev);
  return obj;
}

static napi_value result_value(napi_env env, confined_call *c) {
  napi_value v;
  if (c->op == OP_OPEN) napi_create_int32(env, c->fd, &v);
  else if (c->op == OP_OPEN_REGULAR) v = opened_value(env, c);
  else if (c->op == OP_LSTAT) {
    v = opened_value(env, c);
    set_number(env, v, "mtimeMs", (double)c->st.st_mtim.tv_sec * 1000 + (double)(c->st.st_mtim.tv_nsec / 1000000));
    if (c->link) {
      napi_value link;
      napi_create_string_utf8(env, c->link, NAPI_AUTO_LENGTH, &link);
      napi_set_named_property(env, v, "linkTarget", link);
    }
  } else if (c->op == OP_READLINK) napi_create_string_utf8(env, c->link, NAPI_AUTO_LENGTH, &v);
  else napi_get_undefined(env, &v);
  return v;
}

static void complete(napi_env env, napi_status status, void *arg) {
  confined_call *c = arg;
  if (!nimbus_reject_failed(env, c->deferred, status, c->err, c->failed_call ? c->failed_call : "confined")) napi_resolve_deferred(env, c->deferred, result_value(env, c));
  napi_delete_async_work(env, c->work);
  free_call(c);
}

/* Runs now (sync) or on the thread pool (a promise). */
static napi_value run(napi_env env, confined_call *c, bool sync) {
  if (!sync) {
    napi_value promise = nimbus_queue_work(env, "nimbus.confined", execute, complete, c, &c->work, &c->deferred);
    if (!promise) free_call(c);
    return promise;
  }
  execute(env, c);
  napi_value v = NULL;
  if (c->err) napi_throw(env, nimbus_errno_error(env, c->err, c->failed_call));
  else v = result_value(env, c);
  free_call(c);
  return v;
}

static confined_call *new_call(napi_env env, enum op op) {
  confined_call *c = calloc(1, sizeof *c);
  if (!c) napi_throw_error(env, NULL, "out of memory");
  else c->op = op, c->fd = -1, c->dir_fd = -1, c->dir_fd2 = -1;
  return c;
}

/* The call's arguments checked for count and a call record made: every entry point starts so. */
static confined_call *begin_call(napi_env env, napi_callback_info info, size_t argc, napi_value *argv, const char *usage, enum op op) {
  if (!nimbus_args(env, info, argc, argc, argv, usage)) return NULL;
  return new_call(env, op);
}

/* Runs the call when its arguments parsed (`ok`); otherwise frees it (the parse threw already). */
static napi_value finish_call(napi_env env, confined_call *c, bool ok, bool sync) {
  if (!ok) {
    free_call(c);
    return NULL;
  }
  return run(env, c, sync);
}

static bool read_resolve(napi_env env, napi_value v, confined_call *c) {
  int32_t r = 0;
  if (!nimbus_int32(env, v, "resolve", &r)) return false;
  c->resolve = (unsigned)r;
  return true;
}

/* open*(dirFd, path, flags, mode|resolve, [resolve]) */
static napi_value open_common(napi_env env, napi_callback_info info, enum op op, bool sync) {
  napi_value argv[5];
  const char *usage = op == OP_OPEN ? "openat2(dirFd, path, flags, mode, resolve)" : "openRegular(dirFd, path, flags, resolve)";
  confined_call *c = begin_call(env, info, op == OP_OPEN ? 5 : 4, argv, usage, op);
  if (!c) return NULL;
  bool ok = nimbus_int32(env, argv[0], "dirFd", &c->dir_fd) && (c->path = nimbus_string(env, argv[1], "path")) &&
            nimbus_int32(env, argv[2], "flags", &c->flags) && (op != OP_OPEN || nimbus_int32(env, argv[3], "mode", &c->mode)) &&
            read_resolve(env, argv[op == OP_OPEN ? 4 : 3], c);
  return finish_call(env, c, ok, sync);
}

static napi_value js_openat2(napi_env env, napi_callback_info info) { return open_common(env, info, OP_OPEN, false); }
static napi_value js_openat2_sync(napi_env env, napi_callback_info info) { return open_common(env, info, OP_OPEN, true); }
static napi_value js_open_regular(napi_env env, napi_callback_info info) { return open_common(env, info, OP_OPEN_REGULAR, false); }
static napi_value js_open_regular_sync(napi_env env, napi_callback_info info) { return open_common(env, info, OP_OPEN_REGULAR, true); }

static bool read_name(napi_env env, napi_value v, const char *what, char **out) {
  if (!(*out = nimbus_string(env, v, what))) return false;
  if (single_name(*out)) return true;
  char message[160];
  snprintf(message, sizeof message, "%s must be a single path component (no '/', not '.' or '..')", what);
  napi_throw_type_error(env, NULL, message);
  return false;
}

/* mkdirat(dirFd, name, mode) / unlinkat(dirFd, name, flags) */
static napi_value at_common(napi_env env, napi_callback_info info, enum op op) {
  napi_value argv[3];
  confined_call *c = begin_call(env, info, 3, argv, op == OP_MKDIR ? "mkdirat(dirFd, name, mode)" : "unlinkat(dirFd, name, flags)", op);
  if (!c) return NULL;
  int32_t num = 0;
  bool ok = nimbus_int32(env, argv[0], "dirFd", &c->dir_fd) && read_name(env, argv[1], "name", &c->path) &&
            nimbus_int32(env, argv[2], op == OP_MKDIR ? "mode" : "flags", &num);
  if (op == OP_MKDIR) c->mode = num & 0777; /* never setuid/setgid/sticky from here */
  else c->flags = num;
  return finish_call(env, c, ok, false);
}

static napi_value js_mkdirat(napi_env env, napi_callback_info info) { return at_common(env, info, OP_MKDIR); }
static napi_value js_unlinkat(napi_env env, napi_callback_info info) { return at_common(env, info, OP_UNLINK); }

static napi_value js_renameat(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  confined_call *c = begin_call(env, info, 4, argv, "renameat(oldDirFd, oldName, newDirFd, newName)", OP_RENAME);
  if (!c) return NULL;
  bool ok = nimbus_int32(env, argv[0], "oldDirFd", &c->dir_fd) && read_name(env, argv[1], "oldName", &c->path) &&
            nimbus_int32(env, argv[2], "newDirFd", &c->dir_fd2) && read_name(env, argv[3], "newName", &c->path2);
  return finish_call(env, c, ok, false);
}

static napi_value js_lstat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  confined_call *c = begin_call(env, info, 3, argv, "lstat(dirFd, path, resolve)", OP_LSTAT);
  if (!c) return NULL;
  bool ok = nimbus_int32(env, argv[0], "dirFd", &c->dir_fd) && (c->path = nimbus_string(env, argv[1], "path")) && read_resolve(env, argv[2], c);
  return finish_call(env, c, ok, false);
}

static napi_value js_readlink_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  confined_call *c = begin_call(env, info, 1, argv, "readlinkFd(pathFd)", OP_READLINK);
  if (!c) return NULL;
  return finish_call(env, c, nimbus_int32(env, argv[0], "pathFd", &c->dir_fd), false);
}

static napi_value js_symlinkat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  confined_call *c = begin_call(env, info, 3, argv, "symlinkat(target, dirFd, name)", OP_SYMLINK);
  if (!c) return NULL;
  bool ok = (c->path2 = nimbus_string(env, argv[0], "target")) && nimbus_int32(env, argv[1], "dirFd", &c->dir_fd) && read_name(env, argv[2], "name", &c->path);
  return finish_call(env, c, ok, false);
}

static napi_value js_open_root(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!nimbus_args(env, info, 1, 1, argv, "openRoot(path)")) return NULL;
  char *path = nimbus_string(env, argv[0], "path");
  if (!path) return NULL;
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int err = errno;
  free(path);
  return nimbus_int_or_errno(env, fd, err, "open");
}

napi_value nimbus_register_confined(napi_env env, napi_value exports) {
  static const nimbus_function fns[] = {
      {"openRoot", js_open_root},       {"openat2", js_openat2},         {"openat2Sync", js_openat2_sync},
      {"openRegular", js_open_regular}, {"openRegularSync", js_open_regular_sync}, {"mkdirat", js_mkdirat},
      {"unlinkat", js_unlinkat},        {"renameat", js_renameat},       {"readlinkFd", js_readlink_fd},
      {"symlinkat", js_symlinkat},      {"lstat", js_lstat}};
  NIMBUS_EXPORT(env, exports, fns);
  return exports;
}
