// Tiny N-API addon for the agent's kernel calls that Node has no API for, all synchronous:
//   setns(fd)            setns(fd, CLONE_NEWNET) for the calling thread, so that a netlink
//                        socket can be created inside another network namespace
//   nsType(fd)           ioctl(NS_GET_NSTYPE): the CLONE_NEW* type of a namespace fd, -1 if not one
//   recvFds(fd, n)       one non-blocking recvmsg() of up to n bytes on a unix socket with room
//                        for SCM_RIGHTS descriptors: { data, fds } or null when nothing is queued.
//                        Node's sockets read with plain read(), which drops passed descriptors.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE 0xb703 /* _IO(0xb7, 0x3), linux/nsfs.h */
#endif
#define MAX_FDS 4

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == EBADF ? "EBADF" : err == EINVAL ? "EINVAL" : err == EPERM ? "EPERM" : err == ENOTSOCK ? "ENOTSOCK" : "ESYSCALL";
  napi_throw_error(env, code, msg);
  return NULL;
}

static int int_args(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  size_t argc = want;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) return -1;
  for (size_t i = 0; i < want; i++) {
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) return -1;
  }
  return 0;
}

static napi_value js_setns(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (int_args(env, info, 1, &fd) != 0) {
    napi_throw_type_error(env, NULL, "setns(fd: number)");
    return NULL;
  }
  if (setns(fd, CLONE_NEWNET) != 0) return throw_errno(env, "setns", errno);
  return NULL;
}

static napi_value js_ns_type(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (int_args(env, info, 1, &fd) != 0) {
    napi_throw_type_error(env, NULL, "nsType(fd: number)");
    return NULL;
  }
  int t = ioctl(fd, NS_GET_NSTYPE);
  napi_value out;
  napi_create_int32(env, t < 0 ? -1 : t, &out);
  return out;
}

static napi_value js_recv_fds(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (int_args(env, info, 2, a) != 0 || a[1] <= 0 || a[1] > 65536) {
    napi_throw_type_error(env, NULL, "recvFds(fd: number, maxBytes: 1..65536)");
    return NULL;
  }
  char data[65536];
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  } ctl;
  struct iovec iov = {.iov_base = data, .iov_len = (size_t)a[1]};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t n;
  do n = recvmsg(a[0], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    napi_value nul;
    napi_get_null(env, &nul);
    return nul;
  }
  if (n < 0) return throw_errno(env, "recvmsg", errno);
  napi_value out, buf, fds;
  napi_create_object(env, &out);
  void *dst;
  napi_create_buffer_copy(env, (size_t)n, data, &dst, &buf);
  napi_create_array(env, &fds);
  uint32_t count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *p = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < k; i++) {
      napi_value v;
      napi_create_int32(env, p[i], &v);
      napi_set_element(env, fds, count++, v);
    }
  }
  napi_value trunc;
  napi_get_boolean(env, (msg.msg_flags & MSG_CTRUNC) != 0, &trunc);
  napi_set_named_property(env, out, "data", buf);
  napi_set_named_property(env, out, "fds", fds);
  napi_set_named_property(env, out, "truncated", trunc);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "setns", NAPI_AUTO_LENGTH, js_setns, NULL, &fn);
  napi_set_named_property(env, exports, "setns", fn);
  napi_create_function(env, "nsType", NAPI_AUTO_LENGTH, js_ns_type, NULL, &fn);
  napi_set_named_property(env, exports, "nsType", fn);
  napi_create_function(env, "recvFds", NAPI_AUTO_LENGTH, js_recv_fds, NULL, &fn);
  napi_set_named_property(env, exports, "recvFds", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
