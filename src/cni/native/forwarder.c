/*
 * vpcnet CNI forwarder: the executable a container runtime runs as /opt/cni/bin/vpcnet.
 * It does no networking itself. It reads the network config from stdin, collects the CNI_*
 * environment, sends both to the vpcnet agent over a unix socket and prints the agent's answer.
 * A Node.js process would cost ~100 ms per call; this costs about as much as /bin/true.
 *
 * Wire format (both directions): 4-byte big-endian length, then the payload.
 *   request payload:  {"v":2,"env":{"CNI_COMMAND":"ADD",...},"stdin":"<config>","netns":"fd"}
 *                     "netns":"fd": the first sendmsg() carries CNI_NETNS opened here (in the
 *                     runtime's mount namespace) as SCM_RIGHTS; "netnsError":"<why>" when it
 *                     could not be opened; neither when CNI_NETNS is unset.
 *   response payload: 1 byte exit status, then the bytes to print on stdout (a CNI result or
 *                     error object, or nothing)
 * The agent socket and the DEL spool directory come from the network config ("agentSocket",
 * "delSpoolDir"): the runtime passes the same config to ADD and to a later DEL, which it does
 * not do with its environment. A DEL the agent cannot take is spooled (atomic file) and answered
 * with success; the agent applies spooled DELs before it serves an ADD.
 * VERSION is answered here so that it works while the agent is down; the list must equal
 * SUPPORTED_VERSIONS in src/cni/versions.ts (a conformance test compares both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/vpcnet/cni.sock"
#define DEFAULT_SPOOL "/var/lib/vpcnet/del-spool"
#define NSFS_MAGIC 0x6e736673
#define MAX_PATH_VALUE 255
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

/* The string value of a top-level key of the config, when it is a plain absolute path (no
 * escapes; letters, digits, / . _ -; no ".." segment; shorter than outlen). Not a JSON parser:
 * one pass that tracks strings and nesting depth, so keys inside nested objects (args,
 * runtimeConfig, prevResult) never match. 1 found, 0 absent, -1 present but not acceptable. */
static int top_path(const struct buf *in, const char *key, char *out, size_t outlen) {
  if (!in->data) return 0;
  const char *p = in->data, *end = in->data + in->len;
  size_t klen = strlen(key);
  int depth = 0;
  while (p < end) {
    char c = *p;
    if (c == '{' || c == '[') depth++;
    else if (c == '}' || c == ']') depth--;
    if (c != '"') {
      p++;
      continue;
    }
    const char *start = ++p; /* a string: find its end, skipping escapes */
    while (p < end && *p != '"') p += (*p == '\\' && p + 1 < end) ? 2 : 1;
    if (p >= end) return 0;
    size_t n = (size_t)(p - start);
    p++;
    if (depth != 1 || n != klen || memcmp(start, key, klen) != 0) continue;
    const char *q = p;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++;
    if (q >= end || *q != ':') continue; /* a value equal to the key's name, not the key */
    q++;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++;
    if (q >= end || *q != '"') return -1;
    const char *v = ++q;
    while (q < end && *q != '"') {
      char d = *q;
      int ok = (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9') || d == '/' || d == '.' || d == '_' || d == '-';
      if (!ok) return -1;
      q++;
    }
    size_t vlen = (size_t)(q - v);
    if (q >= end || vlen == 0 || vlen >= outlen || v[0] != '/') return -1;
    memcpy(out, v, vlen);
    out[vlen] = 0;
    if (strstr(out, "/../") || (vlen >= 3 && strcmp(out + vlen - 3, "/..") == 0)) return -1;
    return 1;
  }
  return 0;
}

/* Opens CNI_NETNS without side effects on whatever the path names (a FIFO, a device): O_PATH
 * first, check it is an nsfs file, then reopen that very inode through /proc/self/fd. */
static int open_netns(const char *path, char *why, size_t whylen) {
  int pfd = open(path, O_PATH | O_CLOEXEC);
  if (pfd < 0) {
    snprintf(why, whylen, "open: %s", strerror(errno));
    return -1;
  }
  struct statfs sf;
  if (fstatfs(pfd, &sf) != 0 || sf.f_type != NSFS_MAGIC) {
    snprintf(why, whylen, "not a namespace file");
    close(pfd);
    return -1;
  }
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", pfd);
  int fd = open(self, O_RDONLY | O_CLOEXEC);
  if (fd < 0) snprintf(why, whylen, "reopen: %s", strerror(errno));
  close(pfd);
  return fd;
}

static void fsync_dir(const char *dir) {
  int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d >= 0) {
    fsync(d);
    close(d);
  }
}

/* mkdir -p with 0700 for each missing component (the spool holds requests: root only). */
static int make_dirs(const char *dir) {
  char tmp[MAX_PATH_VALUE + 1];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *s = tmp + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return -1;
    *s = '/';
  }
  if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return -1;
  struct stat st;
  if (lstat(tmp, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077) != 0) {
    errno = EPERM;
    return -1;
  }
  return 0;
}

/* Records a DEL durably: temp file (O_EXCL, 0600), fsync, rename, fsync of the directory. The
 * record is the request payload plus the wall-clock time, so the agent can tell it from a later
 * ADD of the same attachment. 0 ok, -1 error (errno). */
static int spool_del(const char *dir, const struct buf *req) {
  if (make_dirs(dir) != 0) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  char tmp[MAX_PATH_VALUE + 96], dst[MAX_PATH_VALUE + 96];
  snprintf(tmp, sizeof tmp, "%s/.tmp-%lld-%d", dir, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, (int)getpid());
  snprintf(dst, sizeof dst, "%s/del-%lld-%09ld-%d.json", dir, (long long)ts.tv_sec, ts.tv_nsec, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  char head[64];
  /* the payload starts with {"v":2, after the 4-byte length: splice spooledAt in front */
  int hn = snprintf(head, sizeof head, "{\"spooledAt\":%lld,", ms);
  const char *body = req->data + 5;
  size_t blen = req->len - 5;
  int ok = write(fd, head, (size_t)hn) == hn;
  while (ok && blen > 0) {
    ssize_t w = write(fd, body, blen);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ok = 0;
    else {
      body += w;
      blen -= (size_t)w;
    }
  }
  int saved = errno;
  if (!ok || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, dst) != 0) {
    if (ok) saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
  }
  fsync_dir(dir);
  return 0;
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

/* The first chunk carries pass_fd (when >= 0) as SCM_RIGHTS. */
static int send_all(int fd, const char *p, size_t n, long long deadline, int pass_fd) {
  while (n > 0) {
    int w = wait_fd(fd, POLLOUT, deadline);
    if (w <= 0) return w == 0 ? -2 : -1;
    ssize_t k;
    if (pass_fd >= 0) {
      union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
      } ctl;
      memset(&ctl, 0, sizeof ctl);
      struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
      struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
      k = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) pass_fd = -1;
    } else {
      k = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
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

/* The agent could not take the request. A DEL is spooled and answered with success (the agent
 * applies it before its next ADD); anything else is "try again later". */
static int unreachable(const char *version, const char *command, const char *spool, const struct buf *req, const char *details) {
  if (command && strcmp(command, "DEL") == 0) {
    if (spool_del(spool, req) == 0) return 0;
    char more[768];
    snprintf(more, sizeof more, "%s; spooling the DEL in %s failed: %s", details, spool, strerror(errno));
    return fail(version, 11, "vpcnet agent is not reachable", more);
  }
  return fail(version, 11, "vpcnet agent is not reachable", details);
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

  /* 6 = decode failure, answered here: with no JSON object on stdin there is no agentSocket to
   * ask, and "agent not reachable" (11) would send the runtime into retries. Only the first
   * character is looked at; the agent decodes the rest (same messages as src/cni/netconf.ts). */
  size_t at = 0;
  while (at < in.len && (in.data[at] == ' ' || in.data[at] == '\t' || in.data[at] == '\n' || in.data[at] == '\r')) at++;
  if (at == in.len) return fail(version, 6, "network config is not valid JSON", "stdin is empty");
  if (in.data[at] != '{') return fail(version, 6, "network config must be a JSON object", "stdin does not start with {");

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  char path[sizeof addr.sun_path];
  char spool[MAX_PATH_VALUE + 1];
  int has = top_path(&in, "agentSocket", path, sizeof path);
  if (has < 0) return fail(version, 7, "invalid agentSocket in the network config", "must be an absolute path of letters, digits, / . _ - below 108 bytes");
  if (has == 0) {
    /* Only for tests that send configs without the key (e.g. undecodable stdin); documented. */
    const char *e = getenv("VPCNET_AGENT_SOCKET");
    snprintf(path, sizeof path, "%s", e && *e == '/' && strlen(e) < sizeof path ? e : DEFAULT_SOCKET);
  }
  has = top_path(&in, "delSpoolDir", spool, sizeof spool);
  if (has < 0) return fail(version, 7, "invalid delSpoolDir in the network config", "must be an absolute path of letters, digits, / . _ - below 256 bytes");
  if (has == 0) snprintf(spool, sizeof spool, "%s", DEFAULT_SPOOL);

  /* The pod netns is opened here, in the runtime's mount namespace, and handed over as a
   * descriptor: the agent never resolves a caller's path. */
  int nsfd = -1;
  char nserr[128] = "";
  const char *netns = getenv("CNI_NETNS");
  int wants_ns = command && (strcmp(command, "ADD") == 0 || strcmp(command, "CHECK") == 0);
  if (wants_ns && netns && *netns) nsfd = open_netns(netns, nserr, sizeof nserr);

  struct buf req = {0};
  buf_add(&req, "\0\0\0\0", 4);
  buf_str(&req, "{\"v\":2,\"env\":{");
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
  if (nsfd >= 0) buf_str(&req, ",\"netns\":\"fd\"");
  else if (nserr[0]) {
    buf_str(&req, ",\"netnsError\":");
    buf_json(&req, nserr, strlen(nserr));
  }
  buf_str(&req, "}");
  uint32_t plen = (uint32_t)(req.len - 4);
  req.data[0] = (char)(plen >> 24);
  req.data[1] = (char)(plen >> 16);
  req.data[2] = (char)(plen >> 8);
  req.data[3] = (char)plen;

  long timeout = VPCNET_TIMEOUT_MS;
  const char *t = getenv("VPCNET_CNI_TIMEOUT_MS");
  if (t && atol(t) > 0) timeout = atol(t);
  long long deadline = now_ms() + timeout;

  memcpy(addr.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  char details[512];
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    snprintf(details, sizeof details, "connect %s: %s", path, strerror(errno));
    return unreachable(version, command, spool, &req, details);
  }
  int r = send_all(fd, req.data, req.len, deadline, nsfd);
  unsigned char hdr[4];
  if (r == 0) r = recv_all(fd, (char *)hdr, 4, deadline);
  if (r != 0) {
    snprintf(details, sizeof details, "%s %s", r == -2 ? "no answer within the timeout from" : "connection lost to", path);
    return unreachable(version, command, spool, &req, details);
  }
  uint32_t rlen = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) | hdr[3];
  if (rlen < 1 || rlen > MAX_REPLY) return fail(version, 999, "vpcnet agent sent a malformed reply", "bad frame length");
  char *reply = malloc(rlen);
  if (!reply) die_oom();
  r = recv_all(fd, reply, rlen, deadline);
  if (r != 0) {
    snprintf(details, sizeof details, "%s %s", r == -2 ? "no answer within the timeout from" : "connection lost to", path);
    return unreachable(version, command, spool, &req, details);
  }
  close(fd);
  if (rlen > 1 && fwrite(reply + 1, 1, rlen - 1, stdout) != rlen - 1) return 1;
  if (fflush(stdout) != 0) return 1;
  return (unsigned char)reply[0];
}
