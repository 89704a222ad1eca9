/*
 * vpcnet CNI forwarder: the executable a container runtime runs as /opt/cni/bin/vpcnet.
 * It does no networking itself. It reads the network config from stdin, collects the CNI_*
 * environment, sends both to the vpcnet agent over a unix socket and prints the agent's answer.
 * A Node.js process would cost ~100 ms per call; this costs about as much as /bin/true.
 *
 * Wire format (both directions): 4-byte big-endian length, then the payload.
 *   request payload:  {"v":1,"env":{"CNI_COMMAND":"ADD",...},"stdin":"<config>"}
 *   response payload: 1 byte exit status, then the bytes to print on stdout (a CNI result or
 *                     error object, or nothing)
 * VERSION is answered here so that it works while the agent is down; the list must equal
 * SUPPORTED_VERSIONS in src/cni/versions.ts (a conformance test compares both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef VPCNET_SOCKET
#define VPCNET_SOCKET "/run/vpcnet/cni.sock"
#endif
#ifndef VPCNET_TIMEOUT_MS
#define VPCNET_TIMEOUT_MS 60000
#endif
#define MAX_STDIN (1024 * 1024)
#define MAX_REPLY (4 * 1024 * 1024)
#define LATEST_VERSION "1.1.0"
#define SUPPORTED_VERSIONS "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]"

static const char *const ENV_NAMES[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
                                        "CNI_IFNAME",  "CNI_ARGS",        "CNI_PATH"};

struct buf {
  char *data;
  size_t len, cap;
};

static void die_oom(void) {
  fputs("vpcnet: out of memory\n", stderr);
  exit(1);
}

static void buf_add(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (b->len + n + 1 > cap) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) die_oom();
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* JSON string escaping; bytes >= 0x80 pass through (the agent rejects invalid UTF-8). */
static void buf_json(struct buf *b, const char *s, size_t n) {
  buf_str(b, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      buf_add(b, esc, 2);
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      buf_add(b, esc, 6);
    } else {
      buf_add(b, (const char *)&c, 1);
    }
  }
  buf_str(b, "\"");
}

/* The cniVersion of the config, for error objects and VERSION; NULL when not found. Not a JSON
 * parser: it takes the first "cniVersion" key and accepts only digits and dots as its value. */
static const char *find_version(const struct buf *in, char *out, size_t outlen) {
  if (!in->data) return NULL;
  const char *p = strstr(in->data, "\"cniVersion\"");
  if (!p) return NULL;
  p += 12;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p++ != ':') return NULL;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  if (*p++ != '"') return NULL;
  size_t n = 0;
  int dots = 0;
  while (p[n] && ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')) {
    if (p[n] == '.') dots++;
    n++;
  }
  if (p[n] != '"' || n == 0 || n >= outlen || dots != 2) return NULL;
  memcpy(out, p, n);
  out[n] = 0;
  return out;
}

static int fail(const char *version, int code, const char *msg, const char *details) {
  struct buf o = {0};
  buf_str(&o, "{\"cniVersion\":");
  buf_json(&o, version, strlen(version));
  char num[32];
  snprintf(num, sizeof num, ",\"code\":%d,\"msg\":", code);
  buf_str(&o, num);
  buf_json(&o, msg, strlen(msg));
  if (details) {
    buf_str(&o, ",\"details\":");
    buf_json(&o, details, strlen(details));
  }
  buf_str(&o, "}\n");
  fwrite(o.data, 1, o.len, stdout);
  return 1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
    if (r > 0) return 1;
    if (r == 0) continue;
    if (errno != EINTR) return -1;
  }
}

static int send_all(int fd, const char *p, size_t n, long long deadline) {
  while (n > 0) {
    int w = wait_fd(fd, POLLOUT, deadline);
    if (w <= 0) return w == 0 ? -2 : -1;
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* 0 ok, -1 error, -2 timeout, -3 peer closed early. */
static int recv_all(int fd, char *p, size_t n, long long deadline) {
  while (n > 0) {
    int w = wait_fd(fd, POLLIN, deadline);
    if (w <= 0) return w == 0 ? -2 : -1;
    ssize_t k = recv(fd, p, n, MSG_DONTWAIT);
    if (k == 0) return -3;
    if (k < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  struct buf in = {0};
  char chunk[65536];
  int oversized = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(LATEST_VERSION, 5, "failed to read the network config from stdin", strerror(errno));
    if (n == 0) break;
    if (in.len + (size_t)n > MAX_STDIN) {
      oversized = 1;
      break;
    }
    buf_add(&in, chunk, (size_t)n);
  }
  char vbuf[17];
  const char *found = find_version(&in, vbuf, sizeof vbuf);
  const char *version = found ? found : LATEST_VERSION;
  const char *command = getenv("CNI_COMMAND");

  if (command && strcmp(command, "VERSION") == 0) {
    printf("{\"cniVersion\":\"%s\",\"supportedVersions\":%s}\n", version, SUPPORTED_VERSIONS);
    return 0;
  }
  /* 5 = I/O failure: the config could not be read whole, so nothing of it is looked at. */
  if (oversized) return fail(version, 5, "network config on stdin is too large", "limit is 1048576 bytes");

  struct buf req = {0};
  buf_add(&req, "\0\0\0\0", 4);
  buf_str(&req, "{\"v\":1,\"env\":{");
  int first = 1;
  for (size_t i = 0; i < sizeof ENV_NAMES / sizeof ENV_NAMES[0]; i++) {
    const char *v = getenv(ENV_NAMES[i]);
    if (!v) continue;
    if (!first) buf_str(&req, ",");
    first = 0;
    buf_json(&req, ENV_NAMES[i], strlen(ENV_NAMES[i]));
    buf_str(&req, ":");
    buf_json(&req, v, strlen(v));
  }
  buf_str(&req, "},\"stdin\":");
  buf_json(&req, in.data ? in.data : "", in.len);
  buf_str(&req, "}");
  uint32_t plen = (uint32_t)(req.len - 4);
  req.data[0] = (char)(plen >> 24);
  req.data[1] = (char)(plen >> 16);
  req.data[2] = (char)(plen >> 8);
  req.data[3] = (char)plen;

  /* The runtime controls the environment; the override exists for tests and benchmarks. */
  const char *path = getenv("VPCNET_AGENT_SOCKET");
  if (!path || !*path) path = VPCNET_SOCKET;
  long timeout = VPCNET_TIMEOUT_MS;
  const char *t = getenv("VPCNET_CNI_TIMEOUT_MS");
  if (t && atol(t) > 0) timeout = atol(t);
  long long deadline = now_ms() + timeout;

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return fail(version, 11, "vpcnet agent is not reachable", "socket path too long");
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char details[512];
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    snprintf(details, sizeof details, "connect %s: %s", path, strerror(errno));
    return fail(version, 11, "vpcnet agent is not reachable", details);
  }
  int r = send_all(fd, req.data, req.len, deadline);
  unsigned char hdr[4];
  if (r == 0) r = recv_all(fd, (char *)hdr, 4, deadline);
  if (r != 0) {
    snprintf(details, sizeof details, "%s %s", r == -2 ? "no answer within the timeout from" : "connection lost to", path);
    return fail(version, 11, "vpcnet agent is not reachable", details);
  }
  uint32_t rlen = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) | hdr[3];
  if (rlen < 1 || rlen > MAX_REPLY) return fail(version, 999, "vpcnet agent sent a malformed reply", "bad frame length");
  char *reply = malloc(rlen);
  if (!reply) die_oom();
  r = recv_all(fd, reply, rlen, deadline);
  if (r != 0) {
    snprintf(details, sizeof details, "%s %s", r == -2 ? "no answer within the timeout from" : "connection lost to", path);
    return fail(version, 11, "vpcnet agent is not reachable", details);
  }
  close(fd);
  if (rlen > 1 && fwrite(reply + 1, 1, rlen - 1, stdout) != rlen - 1) return 1;
  if (fflush(stdout) != 0) return 1;
  return (unsigned char)reply[0];
}
