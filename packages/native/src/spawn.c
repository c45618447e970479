/* spawn.c — starting a long-lived child without forking the server.
 * libuv's spawn fork()s: the kernel copies the page tables of the whole Node
 * heap while the event loop waits for the child's exec, which costs tens of
 * milliseconds per conmon under load. glibc's posix_spawn uses
 * clone(CLONE_VM|CLONE_VFORK), so the cost no longer grows with the heap.
 * The child gets exactly the fds it is given (everything else is closed),
 * default signal dispositions (Node ignores SIGPIPE, and an ignored signal
 * would otherwise be inherited by every container) and an empty signal mask.
 * The caller owns the pid: reap() it once it has exited, or it stays a zombie,
 * because libuv only waits for children it started itself. */
#include "napi-util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* What one spawn needs, copied out of JavaScript so a pool thread can use it. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *file, *cwd, **args, **envp;
  int32_t *fds;
  uint32_t nfds;
  bool setsid;
  pid_t pid;
  int err;
} spawn_req;

static void free_spawn_req(spawn_req *r) {
  if (!r) return;
  free(r->file);
  free(r->cwd);
  free(r->fds);
  nimbus_free_string_array(r->args);
  nimbus_free_string_array(r->envp);
  free(r);
}

/* (file, args, env, cwd, fds, setsid) → a request, or NULL after throwing. fds[i]
 * becomes the child's fd i; -1 means /dev/null. Every fd must be >= fds.length
 * so no dup2 clobbers another. */
static spawn_req *read_spawn_args(napi_env env, napi_callback_info info, const char *fn) {
  napi_value argv[6];
  bool is_array = false;
  char usage[96];
  snprintf(usage, sizeof usage, "%s(file, args, env, cwd, fds, setsid)", fn);
  if (!nimbus_args(env, info, 6, 6, argv, usage)) return NULL;
  spawn_req *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  if (!(r->file = nimbus_string(env, argv[0], "file")) || !(r->args = nimbus_string_array(env, argv[1], "args")) ||
      !(r->envp = nimbus_string_array(env, argv[2], "env")) || !(r->cwd = nimbus_string(env, argv[3], "cwd"))) goto fail;
  if (napi_is_array(env, argv[4], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[4], &r->nfds) != napi_ok ||
      napi_get_value_bool(env, argv[5], &r->setsid) != napi_ok) {
    napi_throw_type_error(env, NULL, "fds must be an array of numbers and setsid a boolean");
    goto fail;
  }
  r->fds = calloc(r->nfds ? r->nfds : 1, sizeof *r->fds);
  if (!r->fds) goto fail;
  for (uint32_t i = 0; i < r->nfds; i++) {
    napi_value item;
    napi_get_element(env, argv[4], i, &item);
    if (!nimbus_int32(env, item, "fds[i]", &r->fds[i])) goto fail;
    if (r->fds[i] >= 0 && (uint32_t)r->fds[i] < r->nfds) {
      napi_throw_range_error(env, NULL, "every fd handed to the child must be >= fds.length");
      goto fail;
    }
  }
  return r;
fail:
  free_spawn_req(r);
  return NULL;
}

/* posix_spawn as described at the top; returns 0 (r->pid set) or an errno. Touches no JavaScript. */
static int do_spawn(spawn_req *r) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int err = posix_spawn_file_actions_init(&fa);
  if (err) return err;
  err = posix_spawnattr_init(&attr);
  if (err) {
    posix_spawn_file_actions_destroy(&fa);
    return err;
  }
  for (uint32_t i = 0; !err && i < r->nfds; i++) {
    err = r->fds[i] < 0 ? posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null", O_RDWR, 0)
                        : posix_spawn_file_actions_adddup2(&fa, r->fds[i], (int)i);
  }
  if (!err) err = posix_spawn_file_actions_addclosefrom_np(&fa, (int)r->nfds);
  if (!err) err = posix_spawn_file_actions_addchdir_np(&fa, r->cwd);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  if (!err) err = posix_spawnattr_setsigdefault(&attr, &all);
  if (!err) err = posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (r->setsid ? POSIX_SPAWN_SETSID : 0);
  if (!err) err = posix_spawnattr_setflags(&attr, flags);
  if (!err) err = posix_spawn(&r->pid, r->file, &fa, &attr, r->args, r->envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return err;
}

/* spawn(file, args, env, cwd, fds, setsid) → pid, on the calling (JavaScript) thread. */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  spawn_req *r = read_spawn_args(env, info, "spawn");
  if (!r) return NULL;
  napi_value result = NULL;
  int err = do_spawn(r);
  if (err) napi_throw(env, nimbus_errno_error(env, err, "posix_spawn"));
  else napi_create_int32(env, r->pid, &result);
  free_spawn_req(r);
  return result;
}

static void spawn_execute(napi_env env, void *arg) {
  (void)env;
  spawn_req *r = arg;
  r->err = do_spawn(r);
}

static void spawn_complete(napi_env env, napi_status status, void *arg) {
  spawn_req *r = arg;
  if (!nimbus_reject_failed(env, r->deferred, status, r->err, "posix_spawn")) {
    napi_value pid;
    napi_create_int32(env, r->pid, &pid);
    napi_resolve_deferred(env, r->deferred, pid);
  }
  napi_delete_async_work(env, r->work);
  free_spawn_req(r);
}

/* spawnAsync(...same) → Promise<pid>: the spawn runs on a pool thread. Even a vfork
 * suspends the calling thread until the child has exec'd, which on a loaded host
 * means waiting for the child to be scheduled; a pool thread can afford that. */
static napi_value js_spawn_async(napi_env env, napi_callback_info info) {
  spawn_req *r = read_spawn_args(env, info, "spawnAsync");
  if (!r) return NULL;
  napi_value promise = nimbus_queue_work(env, "nimbus.spawn", spawn_execute, spawn_complete, r, &r->work, &r->deferred);
  if (!promise) free_spawn_req(r);
  return promise;
}

/* pipe() → [readFd, writeFd], both close-on-exec so no other child inherits them. */
static napi_value js_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    napi_throw(env, nimbus_errno_error(env, errno, "pipe2"));
    return NULL;
  }
  napi_value arr, r, w;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_int32(env, p[0], &r);
  napi_create_int32(env, p[1], &w);
  napi_set_element(env, arr, 0, r);
  napi_set_element(env, arr, 1, w);
  return arr;
}

/* { exitCode, signal } from a wait status; one of the two is null. */
static napi_value status_object(napi_env env, int status) {
  napi_value out, code, sig;
  napi_create_object(env, &out);
  if (WIFEXITED(status)) napi_create_int32(env, WEXITSTATUS(status), &code);
  else napi_get_null(env, &code);
  if (WIFSIGNALED(status)) napi_create_int32(env, WTERMSIG(status), &sig);
  else napi_get_null(env, &sig);
  napi_set_named_property(env, out, "exitCode", code);
  napi_set_named_property(env, out, "signal", sig);
  return out;
}

/* reap(pid) → null while the child runs, else { exitCode, signal } (one of them null). */
static napi_value js_reap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t pid;
  if (!nimbus_args(env, info, 1, 1, argv, "reap(pid)") || !nimbus_int32(env, argv[0], "pid", &pid)) return NULL;
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0) {
    napi_value none;
    napi_get_null(env, &none);
    return none;
  }
  if (r < 0) {
    napi_throw(env, nimbus_errno_error(env, errno, "waitpid"));
    return NULL;
  }
  return status_object(env, status);
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  pid_t pid;
  int status, err;
} wait_call;

static void wait_execute(napi_env env, void *arg) {
  (void)env;
  wait_call *c = arg;
  pid_t r;
  do r = waitpid(c->pid, &c->status, 0);
  while (r < 0 && errno == EINTR);
  c->err = r < 0 ? errno : 0;
}

static void wait_complete(napi_env env, napi_status status, void *arg) {
  wait_call *c = arg;
  if (!nimbus_reject_failed(env, c->deferred, status, c->err, "waitpid")) napi_resolve_deferred(env, c->deferred, status_object(env, c->status));
  napi_delete_async_work(env, c->work);
  free(c);
}

/* wait(pid) → Promise<{ exitCode, signal }>: a blocking waitpid on a pool thread.
 * Only for children known to exit soon (each wait holds one of libuv's few threads). */
static napi_value js_wait(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t pid;
  if (!nimbus_args(env, info, 1, 1, argv, "wait(pid)") || !nimbus_int32(env, argv[0], "pid", &pid)) return NULL;
  wait_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->pid = pid;
  napi_value promise = nimbus_queue_work(env, "nimbus.wait", wait_execute, wait_complete, c, &c->work, &c->deferred);
  if (!promise) free(c);
  return promise;
}

napi_value nimbus_register_spawn(napi_env env, napi_value exports) {
  static const nimbus_function fns[] = {
      {"spawn", js_spawn}, {"spawnAsync", js_spawn_async}, {"pipe", js_pipe}, {"reap", js_reap}, {"wait", js_wait},
  };
  NIMBUS_EXPORT(env, exports, fns);
  return exports;
}
