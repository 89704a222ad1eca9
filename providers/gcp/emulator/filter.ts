// The `filter` of Compute list calls, the subset clients use: `field = "v"`, `field != "v"`,
// `field eq regex`, `field ne regex` (whole-value match), several joined by AND or written as
// `(a) (b)`; dotted fields reach nested values. Anything else is a 400, never ignored.
import { GceApiError } from './gce-error.ts';

interface Clause {
  path: string[];
  op: '=' | '!=' | 'eq' | 'ne';
  value: string;
}

const CLAUSE = /^\(?\s*([a-zA-Z][a-zA-Z0-9_.]*)\s*(=|!=|\beq\b|\bne\b)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s()]+)\s*\)?$/;

export function parseFilter(text: string): Clause[] {
  const parts = text
    .replace(/\)\s*\(/g, ') AND (')
    .split(/\s+AND\s+/i)
    .map((p) => p.trim())
    .filter(Boolean);
  return parts.map((p) => {
    const m = CLAUSE.exec(p);
    if (!m) throw new GceApiError(400, 'invalid', `Invalid list filter expression '${text}'.`);
    let value = m[3] as string;
    if (/^["']/.test(value)) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    return { path: (m[1] as string).split('.'), op: m[2] as Clause['op'], value };
  });
}

function valueAt(item: unknown, path: string[]): string | undefined {
  let cur: unknown = item;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur === undefined || cur === null ? undefined : typeof cur === 'object' ? JSON.stringify(cur) : String(cur as string | number | boolean);
}

export function listFilter<T>(items: T[], filter: string | null): T[] {
  if (!filter || !filter.trim()) return items;
  const clauses = parseFilter(filter);
  const tests = clauses.map((c) => {
    if (c.op === '=' || c.op === '!=') return { c, test: (v: string | undefined) => v === c.value };
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${c.value})$`);
    } catch {
      throw new GceApiError(400, 'invalid', `Invalid regular expression '${c.value}' in list filter.`);
    }
    return { c, test: (v: string | undefined) => v !== undefined && re.test(v) };
  });
  return items.filter((item) =>
    tests.every(({ c, test }) => {
      const hit = test(valueAt(item, c.path));
      return c.op === '=' || c.op === 'eq' ? hit : !hit;
    }),
  );
}
