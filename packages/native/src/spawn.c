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
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* spawn(file, args, env, cwd, fds, setsid) → pid. fds[i] becomes the child's fd i;
 * -1 means /dev/null. Every fd must be >= fds.length so no dup2 clobbers another. */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "spawn(file, args, env, cwd, fds, setsid) takes 6 arguments");
    return NULL;
  }
  napi_value result = NULL;
  char *file = NULL, *cwd = NULL, **args = NULL, **envp = NULL;
  int32_t *fds = NULL;
  uint32_t nfds = 0;
  bool setsid = false, is_array = false, fa_ready = false, attr_ready = false;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;

  if (!(file = nimbus_string(env, argv[0], "file")) || !(args = nimbus_string_array(env, argv[1], "args")) ||
      !(envp = nimbus_string_array(env, argv[2], "env")) || !(cwd = nimbus_string(env, argv[3], "cwd"))) goto done;
  if (napi_is_array(env, argv[4], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[4], &nfds) != napi_ok ||
      napi_get_value_bool(env, argv[5], &setsid) != napi_ok) {
    napi_throw_type_error(env, NULL, "fds must be an array of numbers and setsid a boolean");
    goto done;
  }
  fds = calloc(nfds ? nfds : 1, sizeof *fds);
  if (!fds) goto done;
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value item;
    napi_get_element(env, argv[4], i, &item);
    if (!nimbus_int32(env, item, "fds[i]", &fds[i])) goto done;
    if (fds[i] >= 0 && (uint32_t)fds[i] < nfds) {
      napi_throw_range_error(env, NULL, "every fd handed to the child must be >= fds.length");
      goto done;
    }
  }

  int err = posix_spawn_file_actions_init(&fa);
  fa_ready = err == 0;
  if (!err) err = posix_spawnattr_init(&attr);
  attr_ready = fa_ready && err == 0;
  for (uint32_t i = 0; !err && i < nfds; i++) {
    err = fds[i] < 0 ? posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null", O_RDWR, 0)
                     : posix_spawn_file_actions_adddup2(&fa, fds[i], (int)i);
  }
  if (!err) err = posix_spawn_file_actions_addclosefrom_np(&fa, (int)nfds);
  if (!err) err = posix_spawn_file_actions_addchdir_np(&fa, cwd);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  if (!err) err = posix_spawnattr_setsigdefault(&attr, &all);
  if (!err) err = posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (setsid ? POSIX_SPAWN_SETSID : 0);
  if (!err) err = posix_spawnattr_setflags(&attr, flags);
  pid_t pid = -1;
  if (!err) err = posix_spawn(&pid, file, &fa, &attr, args, envp);
  if (err) {
    napi_throw(env, nimbus_errno_error(env, err, "posix_spawn"));
    goto done;
  }
  napi_create_int32(env, pid, &result);

done:
  if (fa_ready) posix_spawn_file_actions_destroy(&fa);
  if (attr_ready) posix_spawnattr_destroy(&attr);
  free(file);
  free(cwd);
  free(fds);
  nimbus_free_string_array(args);
  nimbus_free_string_array(envp);
  return result;
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
  size_t argc = 1;
  napi_value argv[1];
  int32_t pid;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !nimbus_int32(env, argv[0], "pid", &pid)) return NULL;
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
  if (status == napi_ok && c->err == 0) {
    napi_resolve_deferred(env, c->deferred, status_object(env, c->status));
  } else {
    napi_reject_deferred(env, c->deferred, nimbus_errno_error(env, c->err ? c->err : EIO, "waitpid"));
  }
  napi_delete_async_work(env, c->work);
  free(c);
}

/* wait(pid) → Promise<{ exitCode, signal }>: a blocking waitpid on a pool thread.
 * Only for children known to exit soon (each wait holds one of libuv's few threads). */
static napi_value js_wait(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], promise, name;
  int32_t pid;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !nimbus_int32(env, argv[0], "pid", &pid)) return NULL;
  wait_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->pid = pid;
  if (napi_create_promise(env, &c->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "nimbus.wait", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, wait_execute, wait_complete, c, &c->work) != napi_ok ||
      napi_queue_async_work(env, c->work) != napi_ok) {
    free(c);
    nimbus_throw_pending(env, "could not queue the wait");
    return NULL;
  }
  return promise;
}

napi_value nimbus_register_spawn(napi_env env, napi_value exports) {
  nimbus_export(env, exports, "wait", js_wait);
  nimbus_export(env, exports, "spawn", js_spawn);
  nimbus_export(env, exports, "pipe", js_pipe);
  nimbus_export(env, exports, "reap", js_reap);
  return exports;
}
