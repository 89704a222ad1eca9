// DELs the forwarder recorded while the agent could not be reached (src/cni/native/forwarder.c
// writes each as an atomic file: temp + fsync + rename in the spool directory). The agent applies
// them all before it serves its first ADD, and again on a timer for records written during a
// restart. A record never undoes a newer ADD of the same attachment: it is applied only to an
// attachment allocated before the record's time.
import { lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VpcnetError } from '../errors.ts';
import { noopMetrics, type Metrics } from '../metrics/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { Repeater } from '../util/repeater.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import type { PodKey } from '../ipam/types.ts';
import { checkContainerId, checkIfname } from './env.ts';

export interface SpooledDel {
  file: string;
  key: PodKey;
  /** Wall-clock ms when the forwarder wrote it. */
  spooledAt: number;
}

export interface DelSpoolOptions {
  dir: string;
  /** DEL of `key` unless it was allocated after `spooledAt`; true when applied or nothing was there. */
  apply: (key: PodKey, spooledAt: number) => Promise<boolean>;
  /** Period of the pass after the first; 0 = only at start. */
  intervalMs: number;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
}

/** A temp file older than this belongs to a forwarder that died before it answered. */
const TEMP_MAX_AGE_MS = 60_000;
const MAX_RECORD_BYTES = 8 * 1024 * 1024;

export class DelSpool {
  private readonly o: DelSpoolOptions;
  private readonly clock: Clock;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly repeater: Repeater;

  constructor(opts: DelSpoolOptions) {
    this.o = opts;
    this.clock = opts.clock ?? systemClock;
    this.metrics = opts.metrics ?? noopMetrics;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'del-spool' });
    this.repeater = new Repeater(opts.intervalMs, () => this.applyAll(), (err) => this.log.error({ err }, 'del spool pass failed'));
  }

  /** Creates the directory root-only, applies every record, then keeps sweeping. */
  async start(): Promise<void> {
    await prepareSpoolDir(this.o.dir);
    await this.applyAll();
    this.repeater.start();
  }

  stop(): Promise<void> {
    return this.repeater.stop();
  }

  /** One pass: every record applied is removed; a failed one stays for the next pass. */
  async applyAll(): Promise<{ applied: number; skipped: number; failed: number }> {
    const out = { applied: 0, skipped: 0, failed: 0 };
    const names = (await readdir(this.o.dir).catch(() => [] as string[])).sort();
    for (const name of names) {
      const file = join(this.o.dir, name);
      if (name.startsWith('.tmp-')) {
        await this.dropStaleTemp(file);
        continue;
      }
      if (!name.startsWith('del-') || !name.endsWith('.json')) continue;
      const rec = await readRecord(file).catch((err: unknown) => {
        this.log.warn({ file, err }, 'unreadable spooled DEL dropped');
        return null;
      });
      if (!rec) {
        await rm(file, { force: true });
        this.metrics.inc('vpcnet_reconcile_total', { kind: 'del-spool', outcome: 'invalid' });
        continue;
      }
      try {
        const applied = await this.o.apply(rec.key, rec.spooledAt);
        await rm(file, { force: true });
        if (applied) out.applied++;
        else out.skipped++;
        this.metrics.inc('vpcnet_reconcile_total', { kind: 'del-spool', outcome: applied ? 'applied' : 'superseded' });
        this.log.info({ containerId: rec.key.containerId, ifname: rec.key.ifname, spooledAt: rec.spooledAt, applied }, 'spooled DEL processed');
      } catch (err) {
        out.failed++;
        this.metrics.inc('vpcnet_reconcile_total', { kind: 'del-spool', outcome: 'failed' });
        this.log.warn({ containerId: rec.key.containerId, ifname: rec.key.ifname, err }, 'spooled DEL failed; kept for the next pass');
      }
    }
    return out;
  }

  private async dropStaleTemp(file: string): Promise<void> {
    const st = await lstat(file).catch(() => undefined);
    if (st && this.clock.now() - st.mtimeMs > TEMP_MAX_AGE_MS) await rm(file, { force: true });
  }
}

/** Parses one record; null for a record that names no valid attachment (its DEL would be a no-op). */
export async function readRecord(file: string): Promise<SpooledDel | null> {
  const st = await lstat(file);
  // Only regular files of our own user: the directory is root-only, this is a second fence.
  if (!st.isFile() || st.uid !== process.getuid?.() || st.size > MAX_RECORD_BYTES) return null;
  const raw = JSON.parse(await readFile(file, 'utf8')) as { spooledAt?: unknown; env?: Record<string, unknown> } | null;
  const env = raw?.env;
  if (!raw || typeof raw.spooledAt !== 'number' || !env || env.CNI_COMMAND !== 'DEL') return null;
  if (typeof env.CNI_CONTAINERID !== 'string' || typeof env.CNI_IFNAME !== 'string') return null;
  try {
    return { file, spooledAt: raw.spooledAt, key: { containerId: checkContainerId(env.CNI_CONTAINERID), ifname: checkIfname(env.CNI_IFNAME) } };
  } catch {
    return null;
  }
}

/** The spool directory holds requests: created 0700, refused when group or others may write. */
export async function prepareSpoolDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await stat(dir);
  if ((st.mode & 0o022) !== 0) {
    throw new VpcnetError('CONFIG_INVALID', 'DEL spool directory is writable by group or others', { details: { dir, mode: (st.mode & 0o777).toString(8) } });
  }
}
