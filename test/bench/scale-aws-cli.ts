// `npm run bench:scale [-- --cloud aws] [--nodes 1000] ...`: the EC2 run (scale-run.ts), its
// table and a final JSON line; exits non-zero only on pod-visible failures, nodes given up at
// boot or leaks (a correctness result, never a timing one).
import { parseArgs } from 'node:util';
import { MAX_BOOT_RESTARTS } from './boot-restarts.ts';
import { runScale, type ScaleResult } from './scale-run.ts';

export async function runAwsScaleCli(argv: string[]): Promise<never> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '1000' },
      'pods-per-node': { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string', default: '1' },
      cycles: { type: 'string' },
      'window-s': { type: 'string' },
      'steady-s': { type: 'string' },
      prefix: { type: 'boolean', default: false },
      'secondary-ips': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });

  const num = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      process.stderr.write(`--${name} must be a positive number\n`);
      process.exit(2);
    }
    return n;
  };

  const result = await runScale({
    nodes: Math.floor(num('nodes', values.nodes)),
    ...(values['pods-per-node'] ? { podsPerNode: Math.floor(num('pods-per-node', values['pods-per-node'])) } : {}),
    ...(values.speed ? { time: 'scaled' as const, speed: num('speed', values.speed) } : { time: 'virtual' as const }),
    seed: Math.floor(num('seed', values.seed)),
    // Prefix delegation is the default (Nitro types); --prefix says so explicitly.
    prefixDelegation: values.prefix || !values['secondary-ips'],
    ...(values.cycles !== undefined ? { churnCycles: Math.floor(Number(values.cycles)) } : {}),
    ...(values['window-s'] ? { phaseWindowMs: num('window-s', values['window-s']) * 1000 } : {}),
    ...(values['steady-s'] ? { steadyMs: num('steady-s', values['steady-s']) * 1000 } : {}),
    progress: (line) => process.stderr.write(`${line}\n`),
  });

  if (!values.json) process.stdout.write(render(result));
  process.stdout.write(`${JSON.stringify({ bench: 'scale', ...result })}\n`);
  process.exit(result.failures > 0 || result.bootFailures > 0 || result.leakTotal > 0 ? 1 : 0);
}

function render(r: ScaleResult): string {
  const rows = r.actions.map((a) => [
    a.action + (a.mutating ? ' *' : ''),
    String(a.total),
    a.perNodeMean.toFixed(2),
    String(a.perNodeP99),
    a.bootPerNodeMean.toFixed(2),
    a.churnPerNodeMean.toFixed(2),
    String(a.throttled),
  ]);
  const head = ['action (* mutating)', 'total', 'per node', 'p99', 'boot', 'churn', 'throttled'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  const m = r.mutatingPerNode;
  const l = r.leaks;
  return [
    `scale: ${r.nodes} nodes (${Object.entries(r.instanceTypes).map(([t, n]) => `${n} ${t}`).join(', ')}), ${r.prefixDelegation ? 'prefix delegation' : 'secondary IPs'}, ${r.time === 'virtual' ? 'virtual time' : `speed ${r.speed}x`}, seed ${r.seed}`,
    '',
    line(head),
    line(head.map((_, i) => '-'.repeat(widths[i] as number))),
    ...rows.map(line),
    '',
    `mutating calls per node     boot ${m.boot.mean} (p99 ${m.boot.p99}, max ${m.boot.max}), churn ${m.churn.mean} (p99 ${m.churn.p99}), all ${m.total.mean}`,
    `cloud calls per node        ${r.callsPerNode.mean} (p99 ${r.callsPerNode.p99}), whole run`,
    `boot + churn, per node      ${r.bootAndChurn.attemptsPerNode.mean} attempts (p99 ${r.bootAndChurn.attemptsPerNode.p99}, max ${r.bootAndChurn.attemptsPerNode.max}), ${r.bootAndChurn.acceptedPerNode} accepted ${JSON.stringify(r.bootAndChurn.acceptedByAction)} (bar: 15 / 10)`,
    `steady state, per node/h    ${r.steady.describesPerNodeHour} describes (max ${r.steady.describesPerNodeHourMax}), ${r.steady.callsPerNodeHour} calls, over ${r.steady.hours} h (bar: 2 describes)`,
    `throttled responses         ${r.throttled} (${r.throttledAtBoot} during boot)`,
    `time to warm pool           p50 ${r.warm.p50} s, p99 ${r.warm.p99} s, max ${r.warm.max} s (emulated)${r.warm.notWarm ? `, ${r.warm.notWarm} never warm` : ''}`,
    `agent restarts at boot      ${r.bootRestarts}${r.bootRestarts ? ` ${JSON.stringify(r.bootRestartCodes)}` : ""}`,
    `nodes given up at boot      ${r.bootFailures}${r.bootFailures ? ` ${JSON.stringify(r.bootFailureCodes)}` : ''} (failed boots after ${MAX_BOOT_RESTARTS} restarts; counted as failures)`,
    `pods                        ${r.pods.allocations} ADDs, ${r.pods.releases} DELs, peak ${r.pods.peakPerNode} per node`,
    `ADDs retried (CNI 11)       ${r.addRetries}${r.addRetries ? ` ${JSON.stringify(r.addRetryCodes)}; those pods started after p50 ${r.retriedPodStart.p50} s, p99 ${r.retriedPodStart.p99} s (emulated)` : ''}`,
    `pod-visible failures        ${r.failures}${r.failures ? ` ${JSON.stringify(r.failureCodes)}` : ''} (pods with no address ${'after'} kubelet-style retries)`,
    `leaked NICs swept           ${r.leakedNicsCleaned} (the agents' reconciler: unattached past the grace period)`,
    `leaks                       ${r.leakTotal}: unattached NICs ${l.unattachedNics}, unknown NICs ${l.unknownNics}, unknown addresses ${l.unknownAddresses}, phantom addresses ${l.phantomAddresses}, lost pods ${l.lostPods}, double-assigned ${l.doubleAssigned}, after termination ${l.afterTermination} (leak finder ${l.leakFinderFound})`,
    `time                        ${r.wallSeconds} s wall (boot ${r.bootWallSeconds} s), ${r.emulatedSeconds} s emulated`,
    `memory                      peak RSS ${r.rssPeakMb} MB, heap ${r.heapUsedMb} MB`,
    '',
  ].join('\n');
}
