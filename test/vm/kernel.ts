// Fetches Debian's kernel package (never installed: only unpacked into build/vm/cache) and
// extracts an uncompressed vmlinux from its bzImage; QEMU boots that ELF through its PVH
// entry with qboot, which is the fastest boot measured under TCG.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Kernel {
  version: string;
  /** Unpacked package root (lib/modules/<version>/ lives below it). */
  root: string;
  vmlinux: string;
  modulesDir: string;
}

export class VmSetupError extends Error {}

function run(cmd: string, args: string[], cwd?: string): string {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.error) throw new VmSetupError(`${cmd} could not start: ${res.error.message}`);
  if (res.status !== 0) throw new VmSetupError(`${cmd} ${args.join(' ')} failed (${res.status}): ${res.stderr.trim()}`);
  return res.stdout;
}

/** The ABI version the distribution's linux-image-amd64 metapackage points at, e.g. 6.1.0-56-amd64. */
export function currentKernelVersion(): string {
  const out = run('apt-cache', ['depends', 'linux-image-amd64']);
  const m = /Depends: linux-image-(\S+-amd64)\b/.exec(out);
  if (!m?.[1]) throw new VmSetupError('apt-cache depends linux-image-amd64 names no kernel package');
  return m[1];
}

/** Finds the xz stream inside a bzImage and decompresses it (xz reports trailing garbage: ignored). */
function extractVmlinux(bzImage: string, out: string): void {
  const buf = readFileSync(bzImage);
  const magic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  for (let at = buf.indexOf(magic); at >= 0; at = buf.indexOf(magic, at + 1)) {
    const res = spawnSync('xz', ['-dc', '--single-stream'], { input: buf.subarray(at), maxBuffer: 512 << 20 });
    const elf = res.stdout;
    if (elf.length > 4 && elf.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
      writeFileSync(`${out}.tmp`, elf);
      renameSync(`${out}.tmp`, out);
      return;
    }
  }
  throw new VmSetupError(`no xz-compressed ELF found in ${bzImage}`);
}

export function ensureKernel(cacheDir: string, log: (msg: string) => void): Kernel {
  mkdirSync(cacheDir, { recursive: true });
  const version = currentKernelVersion();
  const root = join(cacheDir, `linux-${version}`);
  const vmlinux = join(cacheDir, `vmlinux-${version}`);
  const modulesDir = join(root, 'lib', 'modules', version);
  if (!existsSync(modulesDir)) {
    const pkg = `linux-image-${version}`;
    let deb = readdirSync(cacheDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) {
      log(`downloading ${pkg} with apt-get download`);
      run('apt-get', ['download', pkg], cacheDir);
      deb = readdirSync(cacheDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (!deb) throw new VmSetupError(`apt-get download ${pkg} left no .deb in ${cacheDir}`);
    }
    rmSync(`${root}.tmp`, { recursive: true, force: true });
    run('dpkg-deb', ['-x', join(cacheDir, deb), `${root}.tmp`]);
    renameSync(`${root}.tmp`, root);
  }
  if (!existsSync(vmlinux)) {
    log('extracting uncompressed vmlinux');
    extractVmlinux(join(root, 'boot', `vmlinuz-${version}`), vmlinux);
  }
  return { version, root, vmlinux, modulesDir };
}
