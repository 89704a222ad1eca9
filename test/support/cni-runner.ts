// Starts CNI plugin processes the way a container runtime does, from a small C program (no
// Node.js process start and no shell in between): fork/exec with CNI_* env and the config on
// stdin, wall time per call and the plugin's own CPU from wait4() rusage.
//   seq: one call after the other (latency per call)
//   par: all calls started at once, as kubelet does when many pods land on a node
// Call i uses container id <idPrefix><i> and netns <netnsPrefix><i>; with an output directory
// its stdout goes to <dir>/<i>.out.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RUNNER_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* runner seq|par <count> <plugin> <command> <conf> <netns-prefix|-> <id-prefix> <outdir|->
   one line per call: index wall_us user_us sys_us exit_status; then "total <wall_us>" */
static long us(struct timespec a, struct timespec b) {
  return (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
}
static pid_t start(char **argv, int i) {
  char id[256], ns[512], out[512];
  snprintf(id, sizeof id, "%s%d", argv[7], i);
  snprintf(ns, sizeof ns, "%s%d", argv[6], i);
  if (argv[8][0] != '-') snprintf(out, sizeof out, "%s/%d.out", argv[8], i);
  else snprintf(out, sizeof out, "/dev/null");
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(argv[5], O_RDONLY);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || o < 0) _exit(120);
    dup2(in, 0);
    dup2(o, 1);
    setenv("CNI_COMMAND", argv[4], 1);
    setenv("CNI_CONTAINERID", id, 1);
    setenv("CNI_IFNAME", "eth0", 1);
    if (argv[6][0] != '-') setenv("CNI_NETNS", ns, 1);
    execl(argv[3], argv[3], (char *)0);
    _exit(127);
  }
  return pid;
}
static void report(int i, long wall, int status, struct rusage *ru) {
  long user = ru->ru_utime.tv_sec * 1000000L + ru->ru_utime.tv_usec;
  long sys = ru->ru_stime.tv_sec * 1000000L + ru->ru_stime.tv_usec;
  printf("%d %ld %ld %ld %d\n", i, wall, user, sys, WIFEXITED(status) ? WEXITSTATUS(status) : 128);
}
int main(int argc, char **argv) {
  if (argc != 9) return 2;
  int par = strcmp(argv[1], "par") == 0;
  int count = atoi(argv[2]);
  struct timespec t0, t1, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (!par) {
    for (int i = 0; i < count; i++) {
      struct timespec a;
      clock_gettime(CLOCK_MONOTONIC, &a);
      pid_t pid = start(argv, i);
      int status = 0;
      struct rusage ru;
      wait4(pid, &status, 0, &ru);
      clock_gettime(CLOCK_MONOTONIC, &now);
      report(i, us(a, now), status, &ru);
    }
  } else {
    pid_t *pids = calloc(count, sizeof *pids);
    struct timespec *began = calloc(count, sizeof *began);
    for (int i = 0; i < count; i++) {
      clock_gettime(CLOCK_MONOTONIC, &began[i]);
      pids[i] = start(argv, i);
    }
    for (int left = count; left > 0; left--) {
      int status = 0;
      struct rusage ru;
      pid_t pid = wait4(-1, &status, 0, &ru);
      clock_gettime(CLOCK_MONOTONIC, &now);
      for (int i = 0; i < count; i++)
        if (pids[i] == pid) report(i, us(began[i], now), status, &ru);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("total %ld\n", us(t0, t1));
  return 0;
}
`;

export interface Call {
  index: number;
  wallUs: number;
  /** The plugin process's own user + system CPU. */
  cpuUs: number;
  status: number;
}

export interface Batch {
  calls: Call[];
  /** Wall time of the whole batch. */
  totalUs: number;
}

export interface BatchSpec {
  runner: string;
  mode: 'seq' | 'par';
  count: number;
  plugin: string;
  command: string;
  /** File holding the network config (stdin of each call). */
  conf: string;
  /** Netns path prefix (the index is appended), or undefined for none. */
  netnsPrefix?: string;
  idPrefix: string;
  outDir?: string;
  /** Environment of the plugin besides CNI_COMMAND/CONTAINERID/IFNAME/NETNS. */
  env?: Record<string, string>;
  /** Runs the runner through this command, e.g. ['ip', 'netns', 'exec', NS]. */
  wrap?: string[];
}

/** Compiles the runner with cc into `dir`; returns its path. */
export function buildRunner(dir: string): string {
  const src = join(dir, 'cni-runner.c');
  const bin = join(dir, 'cni-runner');
  writeFileSync(src, RUNNER_C);
  const r = spawnSync('cc', ['-O2', '-o', bin, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cni runner build failed: ${r.stderr}`);
  return bin;
}

/** Runs one batch without blocking this process's event loop (the agent may live here). */
export function runBatch(s: BatchSpec): Promise<Batch> {
  const argv = [
    ...(s.wrap ?? []),
    s.runner,
    s.mode,
    String(s.count),
    s.plugin,
    s.command,
    s.conf,
    s.netnsPrefix ?? '-',
    s.idPrefix,
    s.outDir ?? '-',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...s.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`cni runner exited ${code}`));
      resolve(parse(out));
    });
  });
}

function parse(out: string): Batch {
  const calls: Call[] = [];
  let totalUs = 0;
  for (const line of out.trim().split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'total') {
      totalUs = Number(f[1]);
      continue;
    }
    const [index, wall, user, sys, status] = f.map(Number);
    calls.push({ index: index ?? -1, wallUs: wall ?? 0, cpuUs: (user ?? 0) + (sys ?? 0), status: status ?? -1 });
  }
  calls.sort((a, b) => a.index - b.index);
  return { calls, totalUs };
}
