// Walks the config schema into a flat list of leaves (path, type, default, env names), which
// the loader (env overrides) and the reference generator share.
import type { z } from 'zod';
import { configSchema, fieldMeta, type FieldMeta } from './schema.ts';

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
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string>;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

export function configFields(): ConfigField[] {
  const out: ConfigField[] = [];
  walk(configSchema, [], out);
  return out;
}

function walk(schema: z.ZodType, path: string[], out: ConfigField[]): void {
  const meta = fieldMeta.get(schema);
  if (meta) {
    out.push(leaf(schema, path, meta));
    return;
  }
  let s = schema;
  while (defOf(s).type === 'prefault' || defOf(s).type === 'default' || defOf(s).type === 'optional') s = defOf(s).innerType as z.ZodType;
  const shape = defOf(s).shape;
  if (defOf(s).type !== 'object' || !shape) throw new Error(`config schema: ${path.join('.')} has no metadata`);
  for (const [k, child] of Object.entries(shape)) walk(child, [...path, k], out);
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
  const d = defOf(s);
  const kinds: Record<string, LeafKind> = { number: 'number', boolean: 'boolean', string: 'string', enum: 'enum', array: 'list', record: 'map' };
  const kind = kinds[d.type];
  if (!kind) throw new Error(`config schema: ${path.join('.')} has unsupported type ${d.type}`);
  const field: ConfigField = { path, key: path.join('.'), kind, optional, meta };
  if (dflt !== undefined) field.default = dflt;
  if (kind === 'enum' && d.entries) field.values = Object.values(d.entries);
  return field;
}
