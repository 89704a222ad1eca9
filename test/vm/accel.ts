// Which QEMU accelerator the vm tier uses. /dev/kvm existing is not enough: on some machines
// of this kind QEMU with -accel kvm stops at once ("failed to set MSR 0x10a", with -cpu max and
// -cpu host alike). So KVM is tried with a short, bounded start first and TCG is the fallback.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export type Accel = 'kvm' | 'tcg';

export interface ProbeResult {
  usable: boolean;
  /** Why (QEMU's first error line, "exit 0", "still running after N ms", ...). */
  detail: string;
}

export interface AccelChoice {
  accel: Accel;
  /** One line for the tier's log: which accelerator and why. */
  reason: string;
}

export interface ChooseOptions {
  kvmPresent: boolean;
  probeKvm: () => Promise<ProbeResult>;
}

/** Pure choice logic; the probe is injected so a unit test can drive every outcome. */
export async function chooseAccelerator(o: ChooseOptions): Promise<AccelChoice> {
  if (!o.kvmPresent) return { accel: 'tcg', reason: 'TCG: /dev/kvm does not exist' };
  let probe: ProbeResult;
  try {
    probe = await o.probeKvm();
  } catch (err) {
    probe = { usable: false, detail: `probe failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (probe.usable) return { accel: 'kvm', reason: `KVM: probe start succeeded (${probe.detail})` };
  return { accel: 'tcg', reason: `TCG: /dev/kvm exists but cannot run a guest (${probe.detail})` };
}

/** QEMU's -accel/-cpu arguments for a choice. */
export function accelArgs(accel: Accel): string[] {
  return accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'max'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max'];
}

export interface KvmProbeOptions {
  /** Kernel to boot; without an initrd it panics at once and -no-reboot makes QEMU exit 0. */
  vmlinux: string;
  bios?: string;
  /** Hard bound of the probe (the process is SIGKILLed then). A working KVM needs about 1 s. */
  timeoutMs?: number;
  qemu?: string;
}

const ALIVE = /Linux version/;

/**
 * Boots the kernel with no initrd under KVM. Only a positive sign counts: the kernel printed
 * its banner on the serial console and QEMU exited 0 (the "no root" panic with -no-reboot),
 * all within the bound. Broken KVM either stops at once ("failed to set MSR 0x10a") or hangs
 * in "KVM internal error" with QEMU still running: both mean TCG.
 */
export function probeKvm(o: KvmProbeOptions): Promise<ProbeResult> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const args = ['-nodefaults', '-display', 'none', '-no-reboot', '-monitor', 'none', '-serial', 'stdio', ...accelArgs('kvm'), '-m', '256', '-smp', '1'];
  if (o.bios && existsSync(o.bios)) args.push('-bios', o.bios);
  args.push('-kernel', o.vmlinux, '-append', 'panic=-1 console=ttyS0 rdinit=/vpcnet-no-init root=/dev/vpcnet-none');
  return new Promise((resolve) => {
    const child = spawn(o.qemu ?? 'qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(r);
    };
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      if (/KVM internal error/.test(stderr)) finish({ usable: false, detail: firstLine(stderr.slice(stderr.indexOf('KVM internal error'))) });
    });
    const timer = setTimeout(() => {
      finish({ usable: false, detail: stderr.trim() ? firstLine(stderr) : `no guest boot within ${timeoutMs} ms${ALIVE.test(stdout) ? ' (kernel started, did not finish)' : ''}` });
    }, timeoutMs);
    child.on('error', (err) => finish({ usable: false, detail: `cannot start qemu: ${err.message}` }));
    child.on('close', (code, signal) => {
      if (code === 0 && ALIVE.test(stdout)) finish({ usable: true, detail: 'a guest kernel booted to its panic and QEMU exited 0' });
      else if (code === 0) finish({ usable: false, detail: 'qemu exited 0 but the guest printed nothing' });
      else finish({ usable: false, detail: stderr.trim() ? firstLine(stderr) : `qemu exit ${code ?? signal}` });
    });
  });
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0]!.slice(0, 200);
}
