// Loads the one validated config: defaults < JSON file < AWS VPC CNI alias variables < VPCNET_*
// variables. The only module that reads process.env. Every problem is reported at once.
import { readFileSync } from 'node:fs';
import { VpcnetError } from '../errors.ts';
import { configSchema, type VpcnetConfig } from './schema.ts';
import { configFields, type ConfigField } from './fields.ts';

export interface LoadOptions {
  /** Config file; default $VPCNET_CONFIG; none = defaults and environment only. */
  file?: string;
  /** Default: process.env. */
  env?: Record<string, string | undefined>;
}

export interface ConfigProblem {
  path: string;
  source: string;
  message: string;
}

export interface LoadedConfig {
  config: VpcnetConfig;
  /** Where each key's value came from: default, file, or env:NAME. */
  sources: Record<string, string>;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.VPCNET_CONFIG;
  const problems: ConfigProblem[] = [];
  const sources: Record<string, string> = {};
  const raw: Record<string, unknown> = file ? readFile(file, problems) : {};
  const fields = configFields();
  for (const f of fields) if (getPath(raw, f.path) !== undefined) sources[f.key] = 'file';

  // Shared keys first (provider.name among them), then the keys of the chosen provider's section.
  for (const f of fields) if (!f.providers) applyField(raw, f, env, sources, problems);
  const provider = String(getPath(raw, ['provider', 'name']) ?? 'aws');
  for (const f of fields) {
    if (!f.providers) continue;
    if (f.providers.includes(provider)) applyField(raw, f, env, sources, problems);
    // Another cloud's variable: an alias (AWS_REGION on an Azure node) is not ours to judge; ours is a mistake.
    else if (env[f.meta.env]) {
      problems.push({ path: f.key, source: `env:${f.meta.env}`, message: `applies to provider ${f.providers.join('/')} only; provider.name is ${provider}` });
    }
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.join('.');
      problems.push({ path, source: sources[path] ?? (file ? 'file' : 'default'), message: issue.message });
    }
  }
  if (problems.length > 0 || !parsed.success) {
    const text = problems.map((p) => `${p.path || '(root)'} [${p.source}]: ${p.message}`).join('; ');
    throw new VpcnetError('CONFIG_INVALID', `invalid config: ${text}`, { details: { problems } });
  }
  for (const f of fields) sources[f.key] ??= 'default';
  const config = parsed.data;
  if (config.kubernetes.enabled === undefined) {
    // In a pod the kubelet sets KUBERNETES_SERVICE_HOST; a kubeconfig also says where the API is.
    const inCluster = Boolean(env.KUBERNETES_SERVICE_HOST);
    config.kubernetes.enabled = inCluster || config.kubernetes.kubeconfig !== undefined;
    sources['kubernetes.enabled'] = inCluster ? 'auto:env:KUBERNETES_SERVICE_HOST' : config.kubernetes.kubeconfig ? 'auto:kubernetes.kubeconfig' : 'auto';
  }
  return { config, sources };
}

function applyField(
  raw: Record<string, unknown>,
  f: ConfigField,
  env: Record<string, string | undefined>,
  sources: Record<string, string>,
  problems: ConfigProblem[],
): void {
  // aliases first so that the VPCNET_ name wins
  for (const alias of f.meta.aliases ?? []) {
    const v = env[alias.name];
    if (v === undefined || v === '') continue;
    const mapped = alias.map ? alias.map(v) : v;
    if (mapped === undefined) continue;
    applyEnv(raw, f, alias.name, mapped, sources, problems);
  }
  const v = env[f.meta.env];
  if (v !== undefined && v !== '') applyEnv(raw, f, f.meta.env, v, sources, problems);
}

function readFile(file: string, problems: ConfigProblem[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ path: '', source: file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    return {};
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    problems.push({ path: '', source: file, message: 'must hold a JSON object' });
  } catch (err) {
    problems.push({ path: '', source: file, message: `not valid JSON: ${(err as Error).message}` });
  }
  return {};
}

function applyEnv(raw: Record<string, unknown>, f: ConfigField, name: string, value: unknown, sources: Record<string, string>, problems: ConfigProblem[]): void {
  const converted = typeof value === 'string' ? convert(f, value) : { ok: true as const, value };
  if (!converted.ok) {
    problems.push({ path: f.key, source: `env:${name}`, message: converted.message });
    return;
  }
  setPath(raw, f.path, converted.value);
  sources[f.key] = `env:${name}`;
}

type Converted = { ok: true; value: unknown } | { ok: false; message: string };

function convert(f: ConfigField, v: string): Converted {
  const s = v.trim();
  switch (f.kind) {
    case 'number':
      return /^-?\d+$/.test(s) ? { ok: true, value: Number(s) } : { ok: false, message: `expected an integer, got "${v}"` };
    case 'boolean': {
      const b = s.toLowerCase();
      if (['true', '1', 'yes'].includes(b)) return { ok: true, value: true };
      if (['false', '0', 'no'].includes(b)) return { ok: true, value: false };
      return { ok: false, message: `expected true or false, got "${v}"` };
    }
    case 'list':
      return { ok: true, value: s.split(',').map((x) => x.trim()).filter(Boolean) };
    case 'map': {
      const out: Record<string, string> = {};
      for (const pair of s.split(',').map((x) => x.trim()).filter(Boolean)) {
        const eq = pair.indexOf('=');
        if (eq <= 0) return { ok: false, message: `expected k=v pairs, got "${pair}"` };
        out[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return { ok: true, value: out };
    }
    default:
      return { ok: true, value: s };
  }
}

function getPath(obj: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1] as string] = value;
}

/** The effective config, one key per line with its source, for `vpcnet config` and logs. */
export function renderEffectiveConfig(loaded: LoadedConfig): string {
  const provider = loaded.config.provider.name;
  return configFields()
    .filter((f) => !f.providers || f.providers.includes(provider))
    .map((f) => {
      const v = getPath(loaded.config as unknown as Record<string, unknown>, f.path);
      return `${f.key} = ${v === undefined ? '(unset)' : JSON.stringify(v)}  # ${loaded.sources[f.key] ?? 'default'}`;
    })
    .join('\n');
}
