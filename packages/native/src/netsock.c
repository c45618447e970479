/* netsock.c — socket facts Node's net module does not expose.
 *
 *   getOriginalDst(fd) → { family: 4 | 6, address, port }
 *
 * For a TCP connection that nftables redirected to a local listener, the
 * destination the client dialled (conntrack's original tuple), read with
 * getsockopt SO_ORIGINAL_DST (IPv4) or IP6T_SO_ORIGINAL_DST (IPv6) on the
 * accepted socket. Throws ENOENT when the connection was not redirected. */
#include "napi-util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>; both are 80,
 * and including those headers next to glibc's netinet/in.h clashes. */
#define NIMBUS_SO_ORIGINAL_DST 80
#define NIMBUS_IP6T_SO_ORIGINAL_DST 80

static napi_value get_original_dst(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!nimbus_args(env, info, 1, 1, argv, "getOriginalDst(fd)") || !nimbus_int32(env, argv[0], "fd", &fd)) return NULL;
  struct sockaddr_storage local;
  socklen_t len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &len) != 0) {
    napi_throw(env, nimbus_errno_error(env, errno, "getsockname"));
    return NULL;
  }
  struct sockaddr_storage orig;
  memset(&orig, 0, sizeof orig);
  len = sizeof orig;
  int rc = local.ss_family == AF_INET6 ? getsockopt(fd, SOL_IPV6, NIMBUS_IP6T_SO_ORIGINAL_DST, &orig, &len)
                                       : getsockopt(fd, SOL_IP, NIMBUS_SO_ORIGINAL_DST, &orig, &len);
  if (rc != 0) {
    napi_throw(env, nimbus_errno_error(env, errno, "getsockopt(SO_ORIGINAL_DST)"));
    return NULL;
  }
  char text[INET6_ADDRSTRLEN] = "";
  int port, family;
  if (orig.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&orig;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
    family = 6;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&orig;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
    family = 4;
  }
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_int32(env, family, &v);
  napi_set_named_property(env, out, "family", v);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "address", v);
  napi_create_int32(env, port, &v);
  napi_set_named_property(env, out, "port", v);
  return out;
}

napi_value nimbus_register_netsock(napi_env env, napi_value exports) {
  static const nimbus_function fns[] = {{"getOriginalDst", get_original_dst}};
  nimbus_export(env, exports, fns, sizeof fns / sizeof fns[0]);
  return exports;
}
