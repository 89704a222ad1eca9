// EC2 describe filters: an object matches when, for every filter, one of its values for that
// filter name equals one of the filter's values (`*` and `?` wildcards allowed).
import { ec2Error } from './ec2-error.ts';
import type { Tags } from './model.ts';

export interface Filter {
  name: string;
  values: string[];
}

/** Values an object has for one filter name; undefined means "filter not supported". */
export type FilterExtractor<T> = (obj: T, name: string) => string[] | undefined;

function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function tagFilterValues(tags: Tags, name: string): string[] | undefined {
  if (name === 'tag-key') return [...tags.keys()];
  if (name === 'tag-value') return [...tags.values()];
  if (name.startsWith('tag:')) {
    const v = tags.get(name.slice(4));
    return v === undefined ? [] : [v];
  }
  return undefined;
}

export function applyFilters<T>(items: T[], filters: Filter[], extract: FilterExtractor<T>): T[] {
  const compiled = filters.map((f) => ({
    name: f.name,
    literals: new Set(f.values.filter((v) => !/[*?]/.test(v))),
    patterns: f.values.filter((v) => /[*?]/.test(v)).map(wildcard),
  }));
  // Reject unknown filter names even when there is nothing to filter, as EC2 does.
  for (const f of compiled) {
    if (items.length > 0 && extract(items[0] as T, f.name) === undefined) {
      throw ec2Error('InvalidParameterValue', `The filter '${f.name}' is invalid`);
    }
  }
  return items.filter((item) =>
    compiled.every((f) => {
      const have = extract(item, f.name) ?? [];
      return have.some((v) => f.literals.has(v) || f.patterns.some((p) => p.test(v)));
    }),
  );
}
