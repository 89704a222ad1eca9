// `npm run bench:scale -- --cloud gcp [--nodes 1000] [--mode alias-ip|route] [--speed 20]
//  [--pods-per-node N] [--cycles C] [--seed S] [--json]`: prints the figures and a JSON line;
// exits non-zero only on pod-visible failures, nodes given up at boot, double assignments or leaks.
import { parseArgs } from 'node:util';
import { MAX_BOOT_RESTARTS } from './boot-restarts.ts';
import { runScaleGcp } from './scale-gcp.ts';

export async function runGcpScaleCli(argv: string[]): Promise<never> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '1000' },
      mode: { type: 'string', default: 'alias-ip' },
      speed: { type: 'string', default: '20' },
      'pods-per-node': { type: 'string' },
      cycles: { type: 'string' },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  });
  const mode = values.mode;
  if (mode !== 'alias-ip' && mode !== 'route') {
    process.stderr.write('--mode must be alias-ip or route\n');
    process.exit(2);
  }
  const r = await runScaleGcp({
    nodes: Number(values.nodes),
    mode,
    speed: Number(values.speed),
    seed: Number(values.seed),
    ...(values['pods-per-node'] ? { podsPerNode: Number(values['pods-per-node']) } : {}),
    ...(values.cycles ? { cycles: Number(values.cycles) } : {}),
    progress: (l) => process.stderr.write(`${l}\n`),
  });
  if (!values.json) {
    const lines = [
      `GCE scale: ${r.nodes} nodes, ${r.mode}, emulated time ${r.speed}x, ${r.wallSeconds} s wall`,
      `Compute calls per node at boot  ${r.callsPerNode.bootTotalMean} (max ${r.callsPerNode.bootTotalMax}): ${Object.entries(r.callsPerNode.boot).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `writes per node                 ${r.writesPerNodeMean}`,
      `Compute calls during pod churn  ${r.callsPerNode.churnTotal} in total (${Object.entries(r.callsPerNode.churn).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'} per node)`,
      `time to a usable range          p50 ${r.timeToRangeS.p50} s, p99 ${r.timeToRangeS.p99} s, max ${r.timeToRangeS.max} s (emulated)`,
      `throttled (403 rateLimitExceeded) ${JSON.stringify(r.throttled)}; boot restarts ${r.bootRestarts}`,
      `nodes given up at boot          ${r.bootFailures}${r.bootFailures ? ` ${JSON.stringify(r.bootFailureCodes)}` : ''} (failed after ${MAX_BOOT_RESTARTS} restarts; counted as failures)`,
      `pods                            ${r.pods.allocations} ADDs, ${r.pods.releases} DELs, ${r.pods.retried} retried, ${r.pods.failures} failed ${JSON.stringify(r.pods.failureCodes)}`,
      `double-assigned addresses       ${r.doubleAssigned}`,
      `leaks                           ${r.leaks.aliasRangesLeft} alias ranges and ${r.leaks.routesLeft} routes left after release; ${r.leaks.rangesNotHeldByAPool} ranges no pool held`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.stdout.write(`${JSON.stringify({ bench: 'scale', ...r })}\n`);
  const leaks = r.leaks.aliasRangesLeft + r.leaks.routesLeft + r.leaks.rangesNotHeldByAPool;
  process.exit(r.pods.failures > 0 || r.bootFailures > 0 || r.doubleAssigned > 0 || leaks > 0 ? 1 : 0);
}
