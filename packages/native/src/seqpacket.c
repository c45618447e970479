/* seqpacket.c — a SOCK_SEQPACKET client on the event loop, for conmon's attach
 * socket. conmon sends every chunk it read from the container (at most 8192
 * bytes) as one packet whose first byte names the pipe, so 200 MiB/s of output
 * is 25,000 packets a second. One JavaScript call and one fresh buffer per
 * packet cost more than the bytes themselves; here each wake-up drains every
 * queued packet into one buffer, strips the pipe bytes in place, and makes one
 * call per run of packets from the same pipe. Reading can be paused, so a slow
 * consumer pushes back on conmon (its writes to us block) instead of making
 * the server buffer without bound.
 *
 *   seqpacketConnect(path, onData(pipe, buf), onEnd(err|null), onWritable()) → handle
 *   seqpacketSend(handle, buf) → bytes sent as one packet, or -errno (-EAGAIN: call seqpacketWantWrite)
 *   seqpacketWantWrite(handle)   onWritable() runs once when the socket can take a packet again
 *   seqpacketPause(handle, bool) stop / restart reading
 *   seqpacketShutdownRead(handle) shutdown(SHUT_RD) and stop reading (the peer's writes fail; sends still work)
 *   seqpacketClose(handle)       no callback runs after this */
#include "napi-util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

/* Room for one packet at the end of the batch buffer; conmon's are 8193 bytes,
 * and a larger one would be cut by the kernel, so leave far more than that. */
#define PACKET_ROOM (64 * 1024)
#define BATCH_BYTES (256 * 1024)
/* Bytes drained per wake-up before giving the event loop back. */
#define WAKEUP_BYTES (1024 * 1024)

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref on_data, on_end, on_writable;
  napi_async_context async;
  int fd;
  bool paused, want_write, ended;
  /* closed: no more callbacks; the memory lives until libuv has let go of the
   * poll handle (uv_done) and JavaScript of the handle object (finalized). */
  bool closed, uv_done, finalized;
  /* buf[0] is spare: each packet is received one byte before its data's place,
   * so its pipe byte lands on the previous packet's last byte, which is saved
   * and put back. The data of a run is contiguous from buf + 1. */
  char buf[1 + BATCH_BYTES + PACKET_ROOM];
} sp_socket;

static void sp_closed(uv_handle_t *h) {
  sp_socket *s = h->data;
  /* Here, not in sp_close: a socket is often closed from inside its own
   * callback, which is still running in this context. */
  napi_async_destroy(s->env, s->async);
  s->uv_done = true;
  if (s->finalized) free(s);
}

static void sp_close(sp_socket *s) {
  if (s->closed) return;
  s->closed = true;
  napi_delete_reference(s->env, s->on_data);
  napi_delete_reference(s->env, s->on_end);
  napi_delete_reference(s->env, s->on_writable);
  uv_poll_stop(&s->poll);
  close(s->fd);
  uv_close((uv_handle_t *)&s->poll, sp_closed);
}

static void sp_env_cleanup(void *arg) { sp_close(arg); }

static void sp_poll_cb(uv_poll_t *h, int status, int events);

static void sp_update(sp_socket *s) {
  if (s->closed) return;
  int events = (s->paused || s->ended ? 0 : UV_READABLE) | (s->want_write ? UV_WRITABLE : 0);
  if (events) uv_poll_start(&s->poll, events, sp_poll_cb);
  else uv_poll_stop(&s->poll);
}

/* Calls a stored callback with argv, reporting a throw as an uncaught exception. */
static void sp_call(sp_socket *s, napi_ref ref, size_t argc, napi_value *argv) {
  napi_value fn, recv;
  napi_get_reference_value(s->env, ref, &fn);
  napi_get_global(s->env, &recv); /* napi_make_callback needs an object receiver */
  if (napi_make_callback(s->env, s->async, recv, fn, argc, argv, NULL) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(s->env, &err);
    napi_fatal_exception(s->env, err);
  }
}

static void sp_emit(sp_socket *s, int pipe, size_t len) {
  napi_value argv[2];
  void *unused;
  napi_create_int32(s->env, pipe, &argv[0]);
  napi_create_buffer_copy(s->env, len, s->buf + 1, &unused, &argv[1]);
  sp_call(s, s->on_data, 2, argv);
}

static void sp_end(sp_socket *s, int err) {
  s->ended = true;
  sp_update(s);
  napi_value arg;
  if (err) arg = nimbus_errno_error(s->env, err, "recv");
  else napi_get_null(s->env, &arg);
  sp_call(s, s->on_end, 1, &arg);
}

static void sp_read(sp_socket *s) {
  size_t len = 0, total = 0;
  int pipe = -1, err = 0;
  bool eof = false;
  while (!s->closed && !s->paused && total < WAKEUP_BYTES) {
    char *at = s->buf + len; /* one byte before this packet's data */
    char saved = *at;
    ssize_t n = recv(s->fd, at, PACKET_ROOM, MSG_DONTWAIT);
    char got_pipe = *at;
    *at = saved;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    if (n == 0) { /* conmon never sends an empty packet: this is the end */
      eof = true;
      break;
    }
    if (n == 1) continue;
    if (len > 0 && got_pipe != pipe) { /* another pipe: hand over the run so far, start this one at the front */
      sp_emit(s, pipe, len);
      len = 0;
      memmove(s->buf + 1, at + 1, (size_t)n - 1);
    }
    pipe = got_pipe;
    len += (size_t)n - 1;
    total += (size_t)n - 1;
    if (len >= BATCH_BYTES) {
      sp_emit(s, pipe, len);
      len = 0;
    }
  }
  if (len > 0 && !s->closed) sp_emit(s, pipe, len);
  if (!s->closed && (eof || err)) sp_end(s, err);
}

static void sp_poll_cb(uv_poll_t *h, int status, int events) {
  sp_socket *s = h->data;
  napi_handle_scope scope;
  napi_open_handle_scope(s->env, &scope);
  if (status < 0) {
    if (!s->ended) sp_end(s, -status);
  } else {
    if ((events & UV_READABLE) && !s->paused && !s->ended) sp_read(s);
    if ((events & UV_WRITABLE) && s->want_write && !s->closed) {
      s->want_write = false;
      sp_update(s);
      sp_call(s, s->on_writable, 0, NULL);
    }
  }
  napi_close_handle_scope(s->env, scope);
}

/* The open socket of a call's first argument (the rest go to argv[1..]), or NULL
 * after throwing. argv must have room for n values. */
static sp_socket *sp_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  sp_socket *s = NULL;
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n ||
      napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || !s) {
    napi_throw_type_error(env, NULL, "expected a seqpacket handle and its arguments");
    return NULL;
  }
  if (s->closed) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "the seqpacket socket is closed");
    return NULL;
  }
  return s;
}

/* The handle is collected: close a socket nobody closed. The struct itself is
 * freed by uv_close's callback, or by the cleanup hook's close at exit. */
static void sp_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  sp_socket *s = data;
  s->finalized = true;
  if (!s->closed) {
    napi_remove_env_cleanup_hook(env, sp_env_cleanup, s);
    sp_close(s);
  } else if (s->uv_done) {
    free(s);
  }
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!nimbus_args(env, info, 4, 4, argv, "seqpacketConnect(path, onData, onEnd, onWritable)")) return NULL;
  char *path = nimbus_string(env, argv[0], "path");
  if (!path) return NULL;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    free(path);
    napi_throw_range_error(env, "ENAMETOOLONG", "the socket path is longer than sun_path; connect through /proc/self/fd/<dir fd>/<name>");
    return NULL;
  }
  strcpy(addr.sun_path, path);
  free(path);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    napi_throw(env, nimbus_errno_error(env, errno, "socket"));
    return NULL;
  }
  /* A Unix socket connects at once or fails (EAGAIN: the listener's backlog is full). */
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    close(fd);
    napi_throw(env, nimbus_errno_error(env, e, "connect"));
    return NULL;
  }
  sp_socket *s = calloc(1, sizeof *s);
  uv_loop_t *loop = NULL;
  napi_value name, handle;
  if (!s || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, fd) != 0) {
    free(s);
    close(fd);
    napi_throw_error(env, NULL, "could not set up polling for the seqpacket socket");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->poll.data = s;
  napi_create_string_utf8(env, "nimbus.seqpacket", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->async);
  napi_create_reference(env, argv[1], 1, &s->on_data);
  napi_create_reference(env, argv[2], 1, &s->on_end);
  napi_create_reference(env, argv[3], 1, &s->on_writable);
  napi_add_env_cleanup_hook(env, sp_env_cleanup, s);
  uv_poll_start(&s->poll, UV_READABLE, sp_poll_cb);
  NAPI_CALL(env, napi_create_external(env, s, sp_finalize, NULL, &handle));
  return handle;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  sp_socket *s = sp_args(env, info, 2, argv);
  if (!s) return NULL;
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "data must be a Buffer");
    return NULL;
  }
  ssize_t n;
  do n = send(s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  NAPI_CALL(env, napi_create_int64(env, n < 0 ? -errno : n, &result));
  return result;
}

static napi_value js_want_write(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sp_socket *s = sp_args(env, info, 1, argv);
  if (s) s->want_write = true, sp_update(s);
  return NULL;
}

static napi_value js_pause(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  sp_socket *s = sp_args(env, info, 2, argv);
  if (!s) return NULL;
  NAPI_CALL(env, napi_get_value_bool(env, argv[1], &s->paused));
  sp_update(s);
  return NULL;
}

static napi_value js_shutdown_read(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sp_socket *s = sp_args(env, info, 1, argv);
  if (!s) return NULL;
  if (shutdown(s->fd, SHUT_RD) < 0) {
    napi_throw(env, nimbus_errno_error(env, errno, "shutdown"));
    return NULL;
  }
  /* A read-shut socket is readable forever (recv returns 0): stop polling for it,
   * so it is not taken for the peer's end. */
  s->paused = true;
  sp_update(s);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sp_socket *s = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&s) != napi_ok || !s) return NULL;
  if (!s->closed) {
    napi_remove_env_cleanup_hook(env, sp_env_cleanup, s);
    sp_close(s);
  }
  return NULL;
}

napi_value nimbus_register_seqpacket(napi_env env, napi_value exports) {
  static const nimbus_function fns[] = {
      {"seqpacketConnect", js_connect}, {"seqpacketSend", js_send},         {"seqpacketWantWrite", js_want_write},
      {"seqpacketPause", js_pause},     {"seqpacketShutdownRead", js_shutdown_read}, {"seqpacketClose", js_close},
  };
  NIMBUS_EXPORT(env, exports, fns);
  return exports;
}
