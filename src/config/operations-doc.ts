// Keeps the generated parts of docs/operations.md (config reference, metrics list) equal to
// the code: `npm run docs:config -- --write` rewrites them, a unit test fails when they drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { METRICS, type MetricName } from '../metrics/metrics.ts';
import { METRIC_LABELS } from '../metrics/prometheus.ts';
import { renderConfigReference } from './reference.ts';

export function renderMetricsReference(): string {
  const rows = (Object.keys(METRICS) as MetricName[]).map((name) => {
    const labels = METRIC_LABELS[name].map((l) => `\`${l}\``).join(', ') || '-';
    return `| \`${name}\` | ${METRICS[name].kind} | ${labels} | ${METRICS[name].help} |`;
  });
  return ['| Metric | Type | Labels | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

const BLOCKS: Record<string, () => string> = {
  'config-reference': renderConfigReference,
  'metrics-reference': renderMetricsReference,
};

/** The document with every generated block replaced by what the code says now. */
export function syncedOperationsDoc(text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(BLOCKS)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`docs/operations.md lacks the ${name} markers`);
    out = `${out.slice(0, i + start.length)}\n${render()}\n${out.slice(j)}`;
  }
  return out;
}

export function writeOperationsDoc(path: string): void {
  writeFileSync(path, syncedOperationsDoc(readFileSync(path, 'utf8')));
}
