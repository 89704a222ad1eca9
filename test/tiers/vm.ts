// The vm tier: boots Debian's kernel under QEMU (KVM when a short probe start works, else TCG) and runs the ipvlan
// connectivity matrix inside (the build machines' kernel has no ipvlan). Writes
// {passed, failed, skipped} to --results=<file>. When QEMU, the kernel package or the VM
// itself fails, it says why and counts a failure: this tier never turns green by not running.
//   node test/tiers/vm.ts --results=/tmp/vm.json [--timeout=240] [--verbose]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ensureInitramfs } from '../vm/initramfs.ts';
import { ensureKernel } from '../vm/kernel.ts';
import { chooseAccelerator, probeKvm } from '../vm/accel.ts';
import { QBOOT, runVm } from '../vm/qemu.ts';

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

const root = join(import.meta.dirname, '..', '..');
const cacheDir = join(root, 'build', 'vm', 'cache');
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const resultsFile = arg('results');
const timeoutMs = Number(arg('timeout') ?? 240) * 1000;
const verbose = process.argv.includes('--verbose');
const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
const log = (msg: string): void => console.log(`[vm] ${msg}`);

function finish(): never {
  if (resultsFile) {
    mkdirSync(dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(tally)}\n`);
  }
  log(`${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ''}`);
  process.exit(tally.failed === 0 && tally.passed > 0 ? 0 : 1);
}

function cannotRun(why: string): never {
  console.log(`\n!!!!! vm tier CANNOT RUN: ${why}`);
  console.log('!!!!! counted as 1 failed test (install the packages in deploy/debian-packages.txt)\n');
  tally.failed++;
  finish();
}

async function main(): Promise<void> {
  const tierStart = performance.now();
  if (spawnSync('qemu-system-x86_64', ['--version']).status !== 0) cannotRun('qemu-system-x86_64 not found (Debian package qemu-system-x86)');
  for (const tool of ['cpio', 'xz', 'apt-get', 'dpkg-deb']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) cannotRun(`${tool} not found`);
  }
  if (!existsSync('/bin/busybox')) cannotRun('/bin/busybox not found (Debian package busybox-static)');
  const addon = spawnSync('bash', [join(root, 'src/datapath/native/build.sh')], { stdio: 'inherit' });
  if (addon.status !== 0) cannotRun('the setns addon did not build (src/datapath/native/build.sh)');

  let vmlinux: string;
  let initramfs: string;
  const prepStart = performance.now();
  try {
    const kernel = ensureKernel(cacheDir, log);
    vmlinux = kernel.vmlinux;
    initramfs = ensureInitramfs(cacheDir, {
      kernel,
      nodeBinary: realpathSync(process.execPath),
      busybox: '/bin/busybox',
      initScript: join(root, 'test/vm/init.sh'),
    }, log);
    log(`kernel ${kernel.version}, initramfs ${relative(root, initramfs)} (prepared in ${Math.round(performance.now() - prepStart)} ms)`);
  } catch (err) {
    cannotRun(`kernel or initramfs: ${err instanceof Error ? err.message : String(err)}`);
  }

  const choice = await chooseAccelerator({
    kvmPresent: existsSync('/dev/kvm'),
    probeKvm: () => probeKvm({ vmlinux, bios: QBOOT, timeoutMs: 10_000 }),
  });
  log(`accelerator ${choice.reason}`);

  const modules = realpathSync(join(root, 'node_modules'));
  const realRoot = realpathSync(root);
  let bootedMs: number | undefined;
  let sawExit = false;
  let figures: Record<string, unknown> = {};
  const vmStart = performance.now();
  const outcome = await runVm({
    vmlinux,
    initramfs,
    srcDir: realRoot,
    ...(modules.startsWith(`${realRoot}/`) ? {} : { modulesDir: modules }),
    script: 'test/vm/in-vm/matrix.ts',
    timeoutMs,
    cpus: 2,
    memoryMb: 1024,
    accel: choice.accel,
    onLine: (line) => {
      const m = /^VPCNET-(\w+) ?(.*)$/.exec(line);
      if (!m) {
        if (verbose || /error|panic|oops|Call Trace/i.test(line)) console.log(`  | ${line}`);
        return;
      }
      const [, kind, rest = ''] = m;
      if (kind === 'BOOTED') bootedMs = performance.now() - vmStart;
      else if (kind === 'RESULT') {
        const r = JSON.parse(rest) as { name: string; ok: boolean; detail?: unknown };
        if (r.ok) tally.passed++;
        else tally.failed++;
        console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok ? '' : `\n       ${JSON.stringify(r.detail)}`}`);
      } else if (kind === 'FIGURES') figures = JSON.parse(rest) as Record<string, unknown>;
      else if (kind === 'EXIT') sawExit = true;
      else if (kind === 'ERROR') console.log(`  VM error: ${rest}`);
    },
  }).catch((err: unknown) => cannotRun(`qemu failed to start: ${String(err)}`));

  if (outcome.timedOut) {
    console.log(`\n!!!!! vm tier: the VM did not finish within ${timeoutMs / 1000} s and was killed (counted as 1 failure)`);
    tally.failed++;
  } else if (!sawExit) {
    console.log(`\n!!!!! vm tier: the test script never reported its exit (qemu exit ${outcome.exitCode}); last console lines:`);
    for (const l of outcome.lines.slice(-15)) console.log(`  | ${l}`);
    tally.failed++;
  }
  if (tally.passed + tally.failed === 0) {
    console.log('!!!!! vm tier: no test results came out of the VM');
    tally.failed++;
  }
  const measured = {
    bootToInitMs: bootedMs === undefined ? null : Math.round(bootedMs),
    vmWallMs: Math.round(outcome.wallMs),
    tierWallMs: Math.round(performance.now() - tierStart),
    accel: choice.accel,
    ...figures,
  };
  log(`figures ${JSON.stringify(measured)}`);
  finish();
}

await main();
