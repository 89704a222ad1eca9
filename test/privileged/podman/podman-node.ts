// Debian's podman 4.3 (CNI backend, runc, vfs storage) isolated from the host, one instance per
// lab node. A holder process sits in the node's netns and in a private mount namespace with its
// own /run (netns bind mounts, runc state, xtables lock), /var/lib (libcni's cache) and /dev/shm
// (podman's lock segment); every podman command, and the `podman container cleanup` conmon runs
// later, joins both. Storage, run root, tmp dir and config live under a temp dir; the CNI config
// dir is the one the node's agent writes its conflist into. So nothing of podman touches the host's
// root netns or its /run, /var/lib, /etc/cni, /var/lib/containers.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, rmdirSync, symlinkSync, copyFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const IMAGE = 'localhost/vc8r-busybox:latest';
const SYS_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** Fails loudly (one line naming the package) when something podman needs is missing. */
export function requirePodman(): void {
  const need: Array<[string, string]> = [
    ['podman', 'podman'],
    ['runc', 'runc'],
    ['conmon', 'conmon (dependency of podman)'],
    ['nsenter', 'util-linux'],
    ['unshare', 'util-linux'],
  ];
  for (const [tool, pkg] of need) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: SYS_PATH } }).status !== 0) {
      throw new Error(`podman tier cannot run: ${tool} not found (Debian package ${pkg}; deploy/bootstrap.sh installs deploy/debian-packages.txt)`);
    }
  }
  if (!existsSync('/bin/busybox')) throw new Error('podman tier cannot run: /bin/busybox not found (Debian package busybox-static)');
  if (!existsSync('/usr/lib/cni/portmap')) throw new Error('podman tier cannot run: /usr/lib/cni/portmap not found (Debian package containernetworking-plugins)');
  const v = spawnSync('podman', ['--version'], { encoding: 'utf8', env: { PATH: SYS_PATH } }).stdout.trim();
  if (!/^podman version [45]\./.test(v)) throw new Error(`podman tier cannot run: expected podman 4.x/5.x with a CNI backend, found "${v}"`);
}

/** A busybox rootfs tarball (static busybox + one symlink per applet); no registry involved. */
export function buildBusyboxTar(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['etc', 'tmp', 'proc', 'sys', 'dev', 'www', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
  const tar = join(dir, 'busybox.tar');
  const res = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.'], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`tar failed: ${res.stderr}`);
  return tar;
}

export interface PodmanNodeOptions {
  /** Work dir of this podman instance (created). */
  dir: string;
  /** The lab node's netns path (/var/run/netns/<prefix>-<node>). */
  netnsPath: string;
  /** Where the node's agent writes its conflist. */
  cniConfDir: string;
  /** Where the node's agent installs the forwarder; searched before Debian's plugins. */
  cniBinDir: string;
  /** Extra environment for podman (and so for the CNI plugins it runs). */
  env?: Record<string, string>;
  /** cgroup parent of this run's containers (removed in destroy). */
  cgroupParent: string;
}

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The holder's script: private mounts, then wait. */
const HOLDER = [
  'set -e',
  'mount -t tmpfs -o mode=0755 vc8r-run /run',
  'mkdir -p /run/netns /run/lock',
  'mount -t tmpfs -o mode=0755 vc8r-varlib /var/lib',
  'mount -t tmpfs -o mode=1777 vc8r-shm /dev/shm',
  'echo ready',
  'exec sleep 2147483647',
].join('\n');

export class PodmanNode {
  readonly dir: string;
  private readonly o: PodmanNodeOptions;
  private holder: ChildProcess | undefined;
  private readonly env: Record<string, string>;

  constructor(o: PodmanNodeOptions) {
    this.o = o;
    this.dir = o.dir;
    for (const d of ['storage', 'runroot', 'tmp', 'static', 'volumes', 'home']) mkdirSync(join(o.dir, d), { recursive: true });
    writeFileSync(
      join(o.dir, 'containers.conf'),
      [
        '[containers]',
        // The build machines' hard limits are below podman's defaults (runc: "setting rlimit").
        'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
        '[network]',
        'network_backend = "cni"',
        `cni_plugin_dirs = ["${o.cniBinDir}", "/usr/lib/cni"]`,
        `network_config_dir = "${o.cniConfDir}"`,
        'default_network = "vpcnet"',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "none"',
        'runtime = "runc"',
        `tmp_dir = "${join(o.dir, 'tmp')}"`,
        `static_dir = "${join(o.dir, 'static')}"`,
        `volume_path = "${join(o.dir, 'volumes')}"`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(o.dir, 'storage.conf'), `[storage]\ndriver = "vfs"\nrunroot = "${join(o.dir, 'runroot')}"\ngraphroot = "${join(o.dir, 'storage')}"\n`);
    writeFileSync(join(o.dir, 'registries.conf'), 'unqualified-search-registries = []\n');
    writeFileSync(join(o.dir, 'policy.json'), '{"default":[{"type":"insecureAcceptAnything"}]}\n');
    this.env = {
      PATH: SYS_PATH,
      HOME: join(o.dir, 'home'),
      TMPDIR: join(o.dir, 'tmp'),
      CONTAINERS_CONF: join(o.dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: join(o.dir, 'storage.conf'),
      CONTAINERS_REGISTRIES_CONF: join(o.dir, 'registries.conf'),
      ...o.env,
    };
  }

  /** Starts the holder (node netns + private mount namespace). */
  async start(): Promise<void> {
    const child = spawn('nsenter', [`--net=${this.o.netnsPath}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', HOLDER], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: SYS_PATH },
    });
    this.holder = child;
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`podman holder did not start: ${err}`)), 10_000);
      createInterface({ input: child.stdout! }).once('line', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`podman holder exited ${code}: ${err}`));
      });
    });
  }

  private globalArgs(): string[] {
    return [
      '--root', join(this.dir, 'storage'),
      '--runroot', join(this.dir, 'runroot'),
      '--storage-driver', 'vfs',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'none',
      '--network-backend', 'cni',
      '--network-config-dir', this.o.cniConfDir,
      '--tmpdir', join(this.dir, 'tmp'),
      '--runtime', 'runc',
    ];
  }

  /** Runs a command inside the holder's namespaces (net + mount). */
  inside(cmd: string, args: string[], timeoutMs = 120_000): Promise<PodmanResult> {
    const pid = this.holder?.pid;
    if (!pid || this.holder?.exitCode !== null) return Promise.reject(new Error('podman holder not running'));
    return new Promise((resolve) => {
      execFile(
        'nsenter',
        ['-t', String(pid), '-m', '-n', '--', cmd, ...args],
        { env: this.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 << 20, encoding: 'utf8' },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}\n${error.message}` : stderr });
        },
      );
    });
  }

  podman(args: string[], timeoutMs?: number): Promise<PodmanResult> {
    return this.inside('podman', [...this.globalArgs(), ...args], timeoutMs);
  }

  /** `podman ARGS` that must succeed; returns stdout trimmed. */
  async ok(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.podman(args, timeoutMs);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().slice(-2000)}`);
    return r.stdout.trim();
  }

  /** Arguments of `podman run` common to every container here. */
  runArgs(): string[] {
    return ['--cgroup-parent', this.o.cgroupParent, '--network', 'vpcnet'];
  }

  /** Names in the holder's private /run/netns (podman's netns bind mounts). */
  async netnsFiles(): Promise<string[]> {
    const r = await this.inside('ls', ['-A', '/run/netns']);
    return r.stdout.split('\n').filter(Boolean);
  }

  /** libcni's cached results (/var/lib/cni/results in the holder). */
  async cniCache(): Promise<string[]> {
    const r = await this.inside('sh', ['-c', 'ls -A /var/lib/cni/results 2>/dev/null || true']);
    return r.stdout.split('\n').filter(Boolean);
  }

  /** Removes every container, stops the holder (its mounts go with it), removes the work dir. */
  async destroy(): Promise<void> {
    if (this.holder && this.holder.exitCode === null) {
      await this.podman(['rm', '--all', '--force', '--time', '0'], 60_000).catch(() => undefined);
      const exited = new Promise<void>((r) => this.holder!.once('exit', () => r()));
      if (this.holder.pid) process.kill(this.holder.pid, 'SIGKILL');
      await exited;
    }
    removeCgroupParent(this.o.cgroupParent);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** cgroup v1 or v2: remove <controller>/<parent> (empty once the containers are gone). */
function removeCgroupParent(parent: string): void {
  const base = '/sys/fs/cgroup';
  const rel = parent.replace(/^\/+/, '');
  const dirs = existsSync(join(base, 'cgroup.controllers')) ? [join(base, rel)] : readdirSync(base).map((c) => join(base, c, rel));
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    // children first (libpod-<id> cgroups left by a killed run)
    for (const child of readdirSync(d, { withFileTypes: true })) {
      if (child.isDirectory()) rmdirSafe(join(d, child.name));
    }
    rmdirSafe(d);
  }
}

function rmdirSafe(d: string): void {
  try {
    rmdirSync(d);
  } catch {
    /* busy or gone: nothing to do */
  }
}
