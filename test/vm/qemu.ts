// Boots the test VM under QEMU (the accelerator chosen by test/vm/accel.ts), with no network device at all:
// all test traffic flows between namespaces inside the guest. The repository and the real
// node_modules directory are shared read-only over virtio-9p at their host paths, so the
// node_modules symlink of a worktree resolves inside the guest too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Accel, accelArgs } from './accel.ts';

export interface VmRun {
  vmlinux: string;
  initramfs: string;
  /** Host directory shared as the guest's working tree (mounted at the same path). */
  srcDir: string;
  /** Real path of node_modules when it lives outside srcDir (a worktree symlink). */
  modulesDir?: string;
  /** Script to run inside, relative to srcDir. */
  script: string;
  timeoutMs: number;
  cpus: number;
  memoryMb: number;
  accel: Accel;
  /** Each console line, as it arrives. */
  onLine: (line: string) => void;
}

export interface VmOutcome {
  exitCode: number | null;
  timedOut: boolean;
  wallMs: number;
  lines: string[];
}

export const QBOOT = '/usr/share/qemu/qboot.rom';

export function qemuArgs(r: VmRun): string[] {
  const args = [
    '-nographic', '-no-reboot', '-monitor', 'none', '-serial', 'stdio',
    ...accelArgs(r.accel), '-smp', String(r.cpus), '-m', String(r.memoryMb),
    '-nic', 'none',
    '-kernel', r.vmlinux, '-initrd', r.initramfs,
    '-append', [
      'console=ttyS0', 'quiet', 'panic=-1', 'rdinit=/init', 'mitigations=off', 'tsc=reliable',
      `vpcnet.src=${r.srcDir}`, `vpcnet.run=${r.script}`,
      ...(r.modulesDir ? [`vpcnet.mods=${r.modulesDir}`] : []),
    ].join(' '),
    '-fsdev', `local,id=src,path=${r.srcDir},security_model=none,readonly=on`,
    '-device', 'virtio-9p-pci,fsdev=src,mount_tag=vpcsrc',
  ];
  if (r.modulesDir) {
    args.push('-fsdev', `local,id=mods,path=${r.modulesDir},security_model=none,readonly=on`);
    args.push('-device', 'virtio-9p-pci,fsdev=mods,mount_tag=vpcmods');
  }
  if (existsSync(QBOOT)) args.push('-bios', QBOOT);
  return args;
}

export function runVm(r: VmRun): Promise<VmOutcome> {
  const started = performance.now();
  const child = spawn('qemu-system-x86_64', qemuArgs(r), { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let timedOut = false;
  const take = (chunk: Buffer): void => {
    partial += chunk.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl).replace(/\r$/, '');
      partial = partial.slice(nl + 1);
      lines.push(line);
      r.onLine(line);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, r.timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (partial) lines.push(partial);
      resolve({ exitCode: code, timedOut, wallMs: performance.now() - started, lines });
    });
  });
}
