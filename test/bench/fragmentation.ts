// npm run bench:fragmentation -- [--seed S] [--nodes N] [--steps N] [--cidr C] [--prefix-share F] [--tenants F] [--json]
// One subnet, one seeded churn of nodes mixing prefix and single-address demand, run once per
// placement (test/bench/fragmentation-run.ts). Prints a table, then one JSON line
// {"bench":"fragmentation","naive":{...},"aware":{...},...}. Not pass/fail: the bar (aware
// fallbacks at most half of naive's, at least as many free /28s at the end) is printed beside it.
import { parseArgs } from 'node:util';
import { DEFAULTS, PLACEMENTS, runFragmentation, type FragmentationOptions } from './fragmentation-run.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    nodes: { type: 'string' },
    steps: { type: 'string' },
    cidr: { type: 'string' },
    'prefix-share': { type: 'string' },
    tenants: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

function num(name: keyof typeof values, fallback: number): number {
  const v = values[name];
  if (typeof v !== 'string') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`bench:fragmentation: --${name} must be a number, got "${v}"`);
    process.exit(2);
  }
  return n;
}

const opts: FragmentationOptions = {
  seed: num('seed', DEFAULTS.seed),
  cidr: values.cidr ?? DEFAULTS.cidr,
  nodes: Math.max(1, Math.floor(num('nodes', DEFAULTS.nodes))),
  steps: Math.floor(num('steps', DEFAULTS.steps)),
  prefixShare: num('prefix-share', DEFAULTS.prefixShare),
  tenants: num('tenants', DEFAULTS.tenants),
};
const r = runFragmentation(opts);

if (!values.json || process.stdout.isTTY) {
  const cols = ['prefixRequests', 'prefixFallbacks', 'singlesPlaced', 'free28Start', 'free28Min', 'free28End', 'freeAddressesEnd', 'unmet', 'conflicts'] as const;
  console.log(`bench:fragmentation  ${opts.cidr}, ${opts.nodes} nodes, ${opts.steps} steps, ${opts.prefixShare * 100}% prefix nodes, ${opts.tenants * 100}% other tenants, seed ${opts.seed}`);
  console.log(['placement'.padEnd(12), ...cols.map((c) => c.padStart(c.length))].join(' '));
  for (const p of PLACEMENTS) console.log([p.padEnd(12), ...cols.map((c) => String(r[p][c]).padStart(c.length))].join(' '));
  const half = r.aware.prefixFallbacks <= r.naive.prefixFallbacks / 2;
  const kept = r.aware.free28End >= r.naive.free28End;
  console.log(`bar: aware fallbacks <= naive/2: ${r.aware.prefixFallbacks} vs ${r.naive.prefixFallbacks} ${half ? 'met' : 'NOT met'}; free /28s at the end >= naive: ${r.aware.free28End} vs ${r.naive.free28End} ${kept ? 'met' : 'NOT met'}`);
}
process.stdout.write(`${JSON.stringify({ bench: 'fragmentation', options: opts, naive: r.naive, aware: r.aware, naiveLowest: r.naiveLowest, awareOwn: r.awareOwn })}\n`);
