// The vm tier's accelerator choice: KVM only when a short probe start works, TCG otherwise,
// and the probe itself read from QEMU's behaviour (stand-in qemu scripts, no real VM).
import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accelArgs, chooseAccelerator, probeKvm, type ProbeResult } from '../../vm/accel.ts';

const MSR = 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0';

describe('chooseAccelerator', () => {
  it('uses TCG without probing when /dev/kvm does not exist', async () => {
    let probed = false;
    const c = await chooseAccelerator({ kvmPresent: false, probeKvm: () => ((probed = true), Promise.resolve({ usable: true, detail: '' })) });
    expect(c.accel).toBe('tcg');
    expect(probed).toBe(false);
    expect(c.reason).toMatch(/does not exist/);
  });

  it('uses KVM when /dev/kvm exists and the probe start works', async () => {
    const c = await chooseAccelerator({ kvmPresent: true, probeKvm: () => Promise.resolve({ usable: true, detail: 'guest started and exited 0' }) });
    expect(c).toEqual({ accel: 'kvm', reason: 'KVM: probe start succeeded (guest started and exited 0)' });
  });

  it('falls back to TCG when /dev/kvm exists but cannot run a guest, and says why', async () => {
    const c = await chooseAccelerator({ kvmPresent: true, probeKvm: () => Promise.resolve({ usable: false, detail: MSR }) });
    expect(c.accel).toBe('tcg');
    expect(c.reason).toContain('failed to set MSR 0x10a');
  });

  it('falls back to TCG when the probe itself throws', async () => {
    const c = await chooseAccelerator({ kvmPresent: true, probeKvm: () => Promise.reject(new Error('spawn EACCES')) });
    expect(c.accel).toBe('tcg');
    expect(c.reason).toContain('spawn EACCES');
  });

  it('maps the choice to QEMU arguments', () => {
    expect(accelArgs('kvm')).toEqual(['-accel', 'kvm', '-cpu', 'max']);
    expect(accelArgs('tcg')).toEqual(['-accel', 'tcg,thread=multi', '-cpu', 'max']);
  });
});

describe('probeKvm (stand-in qemu)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vc8r-accel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fakeQemu = (name: string, body: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const probe = (qemu: string, timeoutMs = 2000): Promise<ProbeResult> => probeKvm({ qemu, vmlinux: join(dir, 'vmlinux'), timeoutMs });

  it('a QEMU that stops at once with the MSR error is not usable, with its first error line', async () => {
    const r = await probe(fakeQemu('msr', `echo '${MSR}' >&2; echo 'second line' >&2; exit 1`));
    expect(r).toEqual({ usable: false, detail: MSR });
  });

  it('a guest kernel that boots to its panic and exits 0 is usable', async () => {
    const r = await probe(fakeQemu('ok', 'echo "[    0.000000] Linux version 6.1.0-57-amd64"; echo "Kernel panic - not syncing"; exit 0'));
    expect(r).toEqual({ usable: true, detail: 'a guest kernel booted to its panic and QEMU exited 0' });
  });

  it('a QEMU stuck in "KVM internal error" is not usable, without waiting for the bound', async () => {
    const r = await probe(fakeQemu('internal', 'echo "KVM internal error. Suberror: 1" >&2; echo "emulation failure" >&2; exec sleep 30'), 20_000);
    expect(r).toEqual({ usable: false, detail: 'KVM internal error. Suberror: 1' });
  });

  it('a guest that never finishes within the bound is not usable (and is killed)', async () => {
    const r = await probe(fakeQemu('hang', 'exec sleep 30'), 300);
    expect(r).toEqual({ usable: false, detail: 'no guest boot within 300 ms' });
  });

  it('exit 0 without any guest output is not usable', async () => {
    expect((await probe(fakeQemu('silent', 'exit 0'))).usable).toBe(false);
  });

  it('a non-zero exit without output is not usable', async () => {
    expect(await probe(fakeQemu('quiet', 'exit 3'))).toEqual({ usable: false, detail: 'qemu exit 3' });
  });

  it('a missing binary is not usable', async () => {
    const r = await probe(join(dir, 'absent'));
    expect(r.usable).toBe(false);
    expect(r.detail).toMatch(/cannot start qemu/);
  });
});
