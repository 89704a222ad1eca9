// Builds the VM's initramfs: busybox, iproute2's `ip` (busybox's ignores the ipvlan mode),
// nft, the Node binary, their shared libraries, the kernel modules the tests need and
// test/vm/init.sh as /init. The source tree is not copied: it is shared read-only over
// virtio-9p, so editing code never rebuilds the image. The image is cached under a name
// derived from the hash of every input, so a rerun only pays for the boot.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VmSetupError, type Kernel } from './kernel.ts';

/** Loaded in this order by /init; dependencies are added ahead of each module automatically. */
export const MODULES = [
  // virtio-9p for the shared source tree
  'virtio_pci', '9pnet_virtio', '9p',
  // the datapath under test
  'veth', 'ipvlan',
  // masquerade (nftables)
  // libcrc32c only soft-depends on crc32c, so its provider is listed first
  'crc32c_generic', 'nf_tables', 'nft_chain_nat', 'nft_masq', 'nft_nat', 'nft_ct', 'nf_conntrack', 'nf_nat',
];

const BINARIES = ['/usr/bin/ip', '/usr/sbin/nft'];

/** Every module file of the kernel by module name ("-" and "_" are the same to the kernel). */
function indexModules(modulesDir: string): Map<string, string> {
  const res = spawnSync('find', [join(modulesDir, 'kernel'), '-name', '*.ko*'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new VmSetupError(`cannot list modules under ${modulesDir}: ${res.stderr}`);
  const byName = new Map<string, string>();
  for (const path of res.stdout.split('\n').filter(Boolean)) {
    byName.set(path.slice(path.lastIndexOf('/') + 1).replace(/\.ko(\.\w+)?$/, '').replaceAll('-', '_'), path);
  }
  return byName;
}

/** Reads `depends=` from the module's .modinfo section. */
function moduleDepends(ko: string): string[] {
  const buf = readFileSync(ko);
  const key = Buffer.from('\0depends=');
  const at = buf.indexOf(key);
  if (at < 0) return [];
  const end = buf.indexOf(0, at + key.length);
  const list = buf.subarray(at + key.length, end).toString('latin1');
  return list ? list.split(',') : [];
}

/** Module files in load order (dependencies first). */
export function resolveModules(modulesDir: string, wanted: string[]): string[] {
  const index = indexModules(modulesDir);
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const ko = index.get(name.replaceAll('-', '_'));
    if (!ko) throw new VmSetupError(`kernel module ${name} not found under ${modulesDir}`);
    for (const dep of moduleDepends(ko)) visit(dep);
    order.push(ko);
  };
  for (const m of wanted) visit(m);
  return order;
}

function sharedLibs(binary: string): string[] {
  const res = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (res.status !== 0) throw new VmSetupError(`ldd ${binary} failed: ${res.stderr}`);
  const libs: string[] = [];
  for (const line of res.stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

export interface InitramfsInputs {
  kernel: Kernel;
  nodeBinary: string;
  busybox: string;
  initScript: string;
}

function hashInputs(inp: InitramfsInputs, files: string[]): string {
  const h = createHash('sha256');
  h.update(inp.kernel.version);
  for (const f of files) {
    h.update(`${f}\n`);
    h.update(readFileSync(f));
  }
  h.update(readFileSync(inp.initScript));
  h.update(MODULES.join(','));
  return h.digest('hex').slice(0, 16);
}

function copyInto(stage: string, src: string, dest = src): void {
  const to = join(stage, dest);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(realpathSync(src), to);
  chmodSync(to, statSync(realpathSync(src)).mode & 0o777);
}

/** Returns the path of a cached (or freshly built) initramfs for these inputs. */
export function ensureInitramfs(cacheDir: string, inp: InitramfsInputs, log: (msg: string) => void): string {
  const modules = resolveModules(inp.kernel.modulesDir, MODULES);
  const bins = [inp.nodeBinary, ...BINARIES];
  for (const b of [...bins, inp.busybox]) if (!existsSync(b)) throw new VmSetupError(`${b} is missing (see deploy/debian-packages.txt)`);
  const libs = [...new Set(bins.flatMap(sharedLibs))];
  const key = hashInputs(inp, [...bins, inp.busybox, ...libs, ...modules]);
  const out = join(cacheDir, `initramfs-${key}.cpio`);
  if (existsSync(out)) return out;

  log(`building initramfs ${key}`);
  const stage = join(cacheDir, `stage-${key}`);
  rmSync(stage, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'proc', 'sys', 'dev', 'run', 'tmp', 'etc', 'lib/modules', 'usr/bin', 'usr/sbin', 'var', 'mnt']) {
    mkdirSync(join(stage, d), { recursive: true });
  }
  copyInto(stage, inp.busybox, '/bin/busybox');
  copyInto(stage, inp.initScript, '/init');
  chmodSync(join(stage, 'init'), 0o755);
  copyInto(stage, inp.nodeBinary, '/usr/bin/node');
  for (const b of BINARIES) copyInto(stage, b);
  for (const l of libs) copyInto(stage, l);
  const names: string[] = [];
  for (const ko of modules) {
    const base = ko.slice(ko.lastIndexOf('/') + 1);
    copyFileSync(ko, join(stage, 'lib/modules', base));
    names.push(base);
  }
  writeFileSync(join(stage, 'lib/modules/load-order'), `${names.join('\n')}\n`);
  writeFileSync(join(stage, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(stage, 'etc/group'), 'root:x:0:\n');

  const res = spawnSync('sh', ['-c', `find . | LC_ALL=C sort | cpio -o -H newc --quiet > "${out}.tmp"`], { cwd: stage, encoding: 'utf8' });
  if (res.status !== 0) throw new VmSetupError(`cpio failed: ${res.stderr}`);
  renameSync(`${out}.tmp`, out);
  rmSync(stage, { recursive: true, force: true });
  // Older images (other inputs) are never used again.
  for (const f of readdirSync(cacheDir)) {
    if (/^initramfs-[0-9a-f]+\.cpio$/.test(f) && join(cacheDir, f) !== out) rmSync(join(cacheDir, f));
  }
  return out;
}
