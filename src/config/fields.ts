// Walks the config schema into a flat list of leaves (path, type, default, env names), which
// the loader (env overrides) and the reference generator share.
import type { z } from 'zod';
import { PROVIDER_NAMES, configSchema, fieldMeta, type FieldMeta } from './schema.ts';

export type LeafKind = 'number' | 'boolean' | 'string' | 'enum' | 'list' | 'map';

export interface ConfigField {
  path: string[];
  key: string;
  kind: LeafKind;
  /** Enum values, for docs. */
  values?: string[];
  optional: boolean;
  default?: unknown;
  meta: FieldMeta;
  /** Set for keys of the provider sections: the providers whose section has this key. */
  providers?: string[];
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string>;
  values?: unknown[];
  out?: z.ZodType;
  options?: z.ZodType[];
}

const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

export function configFields(): ConfigField[] {
  const out: ConfigField[] = [];
  walk(configSchema, [], out);
  // A key every provider section has is not provider-specific.
  for (const f of out) if (f.providers && PROVIDER_NAMES.every((p) => f.providers?.includes(p))) delete f.providers;
  return out;
}

function walk(schema: z.ZodType, path: string[], out: ConfigField[], provider?: string): void {
  const meta = fieldMeta.get(schema);
  if (meta) {
    add(out, leaf(schema, path, meta), provider);
    return;
  }
  let s = schema;
  while (defOf(s).type === 'prefault' || defOf(s).type === 'default' || defOf(s).type === 'optional') s = defOf(s).innerType as z.ZodType;
  // The provider sections: a preprocess pipe into a discriminated union on `name`.
  if (defOf(s).type === 'pipe' && defOf(s).out) return walk(defOf(s).out as z.ZodType, path, out, provider);
  if (defOf(s).type === 'union') {
    for (const option of defOf(s).options ?? []) {
      const name = defOf(defOf(option).shape?.name as z.ZodType).values?.[0];
      walk(option, path, out, String(name));
    }
    return;
  }
  const shape = defOf(s).shape;
  if (defOf(s).type !== 'object' || !shape) throw new Error(`config schema: ${path.join('.')} has no metadata`);
  for (const [k, child] of Object.entries(shape)) walk(child, [...path, k], out, provider);
}

/** One leaf per key: a key several provider sections share is listed once, with every provider. */
function add(out: ConfigField[], field: ConfigField, provider: string | undefined): void {
  const seen = out.find((f) => f.key === field.key);
  if (!seen) {
    out.push(provider === undefined ? field : { ...field, providers: [provider] });
    return;
  }
  if (provider !== undefined) seen.providers = [...(seen.providers ?? []), provider];
  if (field.values) seen.values = [...new Set([...(seen.values ?? []), ...field.values])];
}

function leaf(schema: z.ZodType, path: string[], meta: FieldMeta): ConfigField {
  let s = schema;
  let optional = false;
  let dflt: unknown;
  for (;;) {
    const d = defOf(s);
    if (d.type === 'default') dflt = d.defaultValue;
    else if (d.type === 'optional') optional = true;
    else break;
    s = d.innerType as z.ZodType;
  }
  if (dflt === undefined && meta.default !== undefined) dflt = meta.default;
  const d = defOf(s);
  const kinds: Record<string, LeafKind> = { number: 'number', boolean: 'boolean', string: 'string', enum: 'enum', literal: 'enum', array: 'list', record: 'map' };
  const kind = kinds[d.type];
  if (!kind) throw new Error(`config schema: ${path.join('.')} has unsupported type ${d.type}`);
  const field: ConfigField = { path, key: path.join('.'), kind, optional, meta };
  if (dflt !== undefined) field.default = dflt;
  if (kind === 'enum' && d.entries) field.values = Object.values(d.entries);
  if (d.type === 'literal' && d.values) field.values = d.values.map(String);
  return field;
}
