// A node's boot as its DaemonSet runs it in the scale benchmarks: a failed boot restarts the
// agent after a pause; a node that still fails after MAX_BOOT_RESTARTS restarts is given up
// (CrashLoopBackOff on a real cluster) and reported as a failed node, and the run goes on with
// the others. Throwing out of the whole run would lose every other node's figures.
import type { Clock } from '../../src/util/clock.ts';

export const MAX_BOOT_RESTARTS = 20;
export const BOOT_RESTART_PAUSE_MS = 10_000;

export type BootOutcome = { booted: true } | { booted: false; error: unknown };

export async function bootWithRestarts(
  boot: () => Promise<void>,
  opts: { clock: Clock; onRestart: (err: unknown) => void; maxRestarts?: number; pauseMs?: number },
): Promise<BootOutcome> {
  const max = opts.maxRestarts ?? MAX_BOOT_RESTARTS;
  for (let restarts = 0; ; restarts++) {
    try {
      await boot();
      return { booted: true };
    } catch (err) {
      if (restarts >= max) return { booted: false, error: err };
      opts.onRestart(err);
      await opts.clock.sleep(opts.pauseMs ?? BOOT_RESTART_PAUSE_MS);
    }
  }
}
