// Tiny N-API addon for the agent's kernel calls that Node has no API for, all synchronous:
//   setns(fd)            setns(fd, CLONE_NEWNET) for the calling thread, so that a netlink
//                        socket can be created inside another network namespace
//   nsType(fd)           ioctl(NS_GET_NSTYPE): the CLONE_NEW* type of a namespace fd, -1 if not one
//   recvFds(fd, n)       one non-blocking recvmsg() of up to n bytes on a unix socket with room
//                        for SCM_RIGHTS descriptors: { data, fds } or null when nothing is queued.
//                        Node's sockets read with plain read(), which drops passed descriptors.
//   rtnlSocket()         a NETLINK_ROUTE socket in the calling thread's netns (call inside setns)
//   whenReadable(fd, cb) cb(errno) once fd is readable (or hung up), from a uv_poll on the agent's
//                        loop; returns cancel(). For a paused socket whose first bytes must be
//                        read with recvFds(): the CNI socket server waits this way, not on timers.
//   delLink(sock, index, cb)  RTM_DELLINK on the libuv thread pool; cb(errno) (0 = done). The
//                        kernel spends ~20 ms deleting a veth; done synchronously it would stall
//                        the event loop (the netlink package sends synchronously).
//   renameExchange(a, b) renameat2(RENAME_EXCHANGE): swaps two existing names atomically. The
//                        checkpoint replaces its file this way: ext4 starts writeback of a file
//                        renamed over another (auto_da_alloc), a block-device submission on the
//                        agent's thread per commit; an exchange is a plain directory update.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE 0xb703 /* _IO(0xb7, 0x3), linux/nsfs.h */
#endif
#define MAX_FDS 4

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == EBADF ? "EBADF" : err == EINVAL ? "EINVAL" : err == EPERM ? "EPERM" : err == ENOTSOCK ? "ENOTSOCK" : err == ENOENT ? "ENOENT" : err == ENOSYS ? "ENOSYS" : "ESYSCALL";
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

static napi_value js_rtnl_socket(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return throw_errno(env, "socket", errno);
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

struct del_work {
  napi_async_work work;
  napi_ref cb;
  int sock, index, err;
};

/* One request, one ack; the socket is used by one request at a time (the JS side queues). */
static void del_execute(napi_env env, void *data) {
  (void)env;
  struct del_work *w = data;
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifi;
  } req;
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = RTM_DELLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.nh.nlmsg_seq = (unsigned)w->index;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = w->index;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(w->sock, &req, sizeof req, 0, (struct sockaddr *)&to, sizeof to) < 0) {
    w->err = errno;
    return;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = recv(w->sock, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      w->err = errno;
      return;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != (unsigned)w->index || h->nlmsg_type != NLMSG_ERROR) continue;
      w->err = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
      return;
    }
  }
}

static void del_complete(napi_env env, napi_status status, void *data) {
  struct del_work *w = data;
  napi_value cb, global, arg;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &global);
  napi_create_int32(env, status == napi_ok ? w->err : ECANCELED, &arg);
  napi_call_function(env, global, cb, 1, &arg, NULL);
  napi_delete_reference(env, w->cb);
  napi_delete_async_work(env, w->work);
  free(w);
}

static napi_value js_del_link(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t sock, index;
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_int32(env, argv[0], &sock) != napi_ok ||
      napi_get_value_int32(env, argv[1], &index) != napi_ok || napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function || index <= 0) {
    napi_throw_type_error(env, NULL, "delLink(sock: number, index: number, cb: (errno) => void)");
    return NULL;
  }
  struct del_work *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "calloc", ENOMEM);
  w->sock = sock;
  w->index = index;
  napi_value name;
  napi_create_string_utf8(env, "vpcnet-dellink", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[2], 1, &w->cb);
  napi_create_async_work(env, NULL, name, del_execute, del_complete, w, &w->work);
  napi_queue_async_work(env, w->work);
  return NULL;
}

/* One wait: the uv_poll handle lives until its close callback; the struct until both that and
 * the finalizer of the JS cancel function have run (either may come first). */
struct readable_wait {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int done, closed, orphan;
};

static void rw_closed(uv_handle_t *h) {
  struct readable_wait *r = h->data;
  r->closed = 1;
  if (r->orphan) free(r);
}

/* Stops watching before anything else may touch the fd (the JS side resumes or destroys the socket next). */
static void rw_stop(struct readable_wait *r) {
  r->done = 1;
  napi_delete_reference(r->env, r->cb);
  napi_async_destroy(r->env, r->ctx);
  uv_poll_stop(&r->poll);
  uv_close((uv_handle_t *)&r->poll, rw_closed);
}

static void rw_event(uv_poll_t *p, int status, int events) {
  (void)events;
  struct readable_wait *r = p->data;
  if (r->done) return;
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, arg;
  napi_get_reference_value(env, r->cb, &cb);
  napi_get_global(env, &recv); /* napi_make_callback wants an object receiver */
  napi_create_int32(env, status < 0 ? -status : 0, &arg);
  napi_async_context ctx = r->ctx;
  r->done = 1;
  napi_delete_reference(env, r->cb);
  uv_poll_stop(&r->poll);
  uv_close((uv_handle_t *)&r->poll, rw_closed);
  napi_make_callback(env, ctx, recv, cb, 1, &arg, NULL);
  napi_async_destroy(env, ctx);
  napi_close_handle_scope(env, scope);
}

static napi_value js_rw_cancel(napi_env env, napi_callback_info info) {
  struct readable_wait *r;
  if (napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&r) == napi_ok && r && !r->done) rw_stop(r);
  return NULL;
}

static void rw_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct readable_wait *r = data;
  if (!r->done) rw_stop(r);
  r->orphan = 1;
  if (r->closed) free(r);
}

static napi_value js_when_readable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "whenReadable(fd: number, cb: (errno) => void)");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, "uv loop", EINVAL);
  struct readable_wait *r = calloc(1, sizeof *r);
  if (!r) return throw_errno(env, "calloc", ENOMEM);
  int err = uv_poll_init(loop, &r->poll, fd);
  if (err != 0) {
    free(r);
    return throw_errno(env, "uv_poll_init", -err);
  }
  r->poll.data = r;
  r->env = env;
  napi_value name, cancel;
  napi_create_string_utf8(env, "vpcnet-when-readable", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->ctx);
  napi_create_reference(env, argv[1], 1, &r->cb);
  err = uv_poll_start(&r->poll, UV_READABLE | UV_DISCONNECT, rw_event);
  if (err != 0) {
    rw_stop(r);
    r->orphan = 1; /* freed by the close callback */
    return throw_errno(env, "uv_poll_start", -err);
  }
  napi_create_function(env, "cancel", NAPI_AUTO_LENGTH, js_rw_cancel, r, &cancel);
  napi_add_finalizer(env, cancel, r, rw_finalize, NULL, NULL);
  return cancel;
}

static napi_value js_rename_exchange(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char a[4096], b[4096];
  size_t la = 0, lb = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], a, sizeof a, &la) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], b, sizeof b, &lb) != napi_ok || la == 0 || lb == 0 ||
      la >= sizeof a - 1 || lb >= sizeof b - 1) {
    napi_throw_type_error(env, NULL, "renameExchange(a: string, b: string)");
    return NULL;
  }
  if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0) return throw_errno(env, "renameat2", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "setns", NAPI_AUTO_LENGTH, js_setns, NULL, &fn);
  napi_set_named_property(env, exports, "setns", fn);
  napi_create_function(env, "nsType", NAPI_AUTO_LENGTH, js_ns_type, NULL, &fn);
  napi_set_named_property(env, exports, "nsType", fn);
  napi_create_function(env, "recvFds", NAPI_AUTO_LENGTH, js_recv_fds, NULL, &fn);
  napi_set_named_property(env, exports, "recvFds", fn);
  napi_create_function(env, "rtnlSocket", NAPI_AUTO_LENGTH, js_rtnl_socket, NULL, &fn);
  napi_set_named_property(env, exports, "rtnlSocket", fn);
  napi_create_function(env, "delLink", NAPI_AUTO_LENGTH, js_del_link, NULL, &fn);
  napi_set_named_property(env, exports, "delLink", fn);
  napi_create_function(env, "whenReadable", NAPI_AUTO_LENGTH, js_when_readable, NULL, &fn);
  napi_set_named_property(env, exports, "whenReadable", fn);
  napi_create_function(env, "renameExchange", NAPI_AUTO_LENGTH, js_rename_exchange, NULL, &fn);
  napi_set_named_property(env, exports, "renameExchange", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
