// Field and label selectors as the API server parses them (the subset clients send).

type Obj = Record<string, unknown>;

function fieldValue(obj: Obj, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    cur = typeof cur === 'object' && cur !== null ? (cur as Obj)[part] : undefined;
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export type Matcher = (obj: Obj) => boolean;

export class SelectorError extends Error {}

const FIELDS = new Set(['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'involvedObject.name']);

export function parseFieldSelector(sel: string | null): Matcher {
  if (!sel) return () => true;
  const terms = sel.split(',').map((t) => {
    const m = /^([\w.]+)\s*(==|!=|=)\s*(.*)$/.exec(t.trim());
    if (!m || !m[1] || !FIELDS.has(m[1])) throw new SelectorError(`field label not supported: ${t}`);
    const [, path, op, value] = m as unknown as [string, string, string, string];
    return (o: Obj): boolean => (op === '!=' ? fieldValue(o, path) !== value : fieldValue(o, path) === value);
  });
  return (o) => terms.every((t) => t(o));
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(sel: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of sel) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((t) => t.trim());
}

export function parseLabelSelector(sel: string | null): Matcher {
  if (!sel) return () => true;
  const terms = splitTerms(sel).map((t): ((l: Record<string, string>) => boolean) => {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t);
    if (m) {
      const key = m[1] as string;
      const values = (m[3] as string).split(',').map((v) => v.trim());
      return m[2] === 'in' ? (l) => values.includes(l[key] ?? '\0') : (l) => !values.includes(l[key] ?? '\0');
    }
    m = /^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$/.exec(t);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    m = /^(!?)([\w./-]+)$/.exec(t);
    if (m) {
      const key = m[2] as string;
      return m[1] ? (l) => !(key in l) : (l) => key in l;
    }
    throw new SelectorError(`unable to parse requirement: ${t}`);
  });
  return (o) => {
    const labels = ((o['metadata'] as Obj | undefined)?.['labels'] ?? {}) as Record<string, string>;
    return terms.every((t) => t(labels));
  };
}
