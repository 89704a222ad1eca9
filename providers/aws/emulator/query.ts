// The EC2 Query protocol's request encoding: a flat form of `Name=value` pairs where lists are
// numbered from 1 (`PrivateIpAddress.1`, `Filter.1.Name`, `Filter.1.Value.1`,
// `TagSpecification.1.Tag.1.Key`).
import { ec2Error } from './ec2-error.ts';
import type { Filter } from './filters.ts';

export class QueryParams {
  private readonly map: Map<string, string>;

  constructor(body: string) {
    this.map = new Map(new URLSearchParams(body));
  }

  get action(): string | undefined {
    return this.map.get('Action');
  }

  /** Every parameter but the named ones, in a canonical order (idempotency checks). */
  canonical(except: readonly string[]): string {
    return [...this.map]
      .filter(([k]) => !except.includes(k))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
  }

  str(name: string): string | undefined {
    return this.map.get(name);
  }

  required(name: string): string {
    const v = this.map.get(name);
    if (v === undefined || v === '') throw ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
    return v;
  }

  int(name: string): number | undefined {
    const v = this.map.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw ec2Error('InvalidParameterValue', `Invalid value '${v}' for ${name}`);
    return n;
  }

  bool(name: string): boolean | undefined {
    const v = this.map.get(name);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw ec2Error('InvalidParameterValue', `Invalid value '${v}' for ${name}`);
    return v === 'true';
  }

  /** `Name.1`, `Name.2`, ... (or `Name.1.Suffix`, ...) in index order. */
  list(name: string, suffix = ''): string[] {
    const out: string[] = [];
    for (let i = 1; ; i++) {
      const v = this.map.get(`${name}.${i}${suffix ? `.${suffix}` : ''}`);
      if (v === undefined) break;
      out.push(v);
    }
    return out;
  }

  /** Number of list members `Prefix.N.*` present. */
  count(prefix: string): number {
    let n = 0;
    while ([...this.map.keys()].some((k) => k.startsWith(`${prefix}.${n + 1}.`))) n++;
    return n;
  }

  filters(): Filter[] {
    const out: Filter[] = [];
    for (let i = 1; ; i++) {
      const name = this.map.get(`Filter.${i}.Name`);
      if (name === undefined) break;
      out.push({ name, values: this.list(`Filter.${i}.Value`) });
    }
    return out;
  }

  /** Tags of a `Tag.N.Key`/`Tag.N.Value` list under `prefix` ('' for top level). */
  tags(prefix = ''): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 1; ; i++) {
      const key = this.map.get(`${prefix}Tag.${i}.Key`);
      if (key === undefined) break;
      out[key] = this.map.get(`${prefix}Tag.${i}.Value`) ?? '';
    }
    return out;
  }

  /** Tags from `TagSpecification.N` entries whose ResourceType is `resourceType`. */
  tagSpecifications(resourceType: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 1; ; i++) {
      const type = this.map.get(`TagSpecification.${i}.ResourceType`);
      if (type === undefined) break;
      if (type !== resourceType) {
        throw ec2Error('InvalidParameterValue', `'${type}' is not a valid taggable resource type for this operation.`);
      }
      Object.assign(out, this.tags(`TagSpecification.${i}.`));
    }
    return out;
  }
}
