// List and aggregatedList envelopes: `maxResults` (0-500, default 500), `pageToken`, and for
// aggregated lists one entry per scope (`zones/Z`, `regions/R`, `global`), where a scope with
// nothing on the page carries GCE's NO_RESULTS_ON_PAGE warning instead of an empty list.
import { PageTokens, pageAfter } from '../../kit/emulator/keyset-pages.ts';
import { invalid } from './gce-error.ts';
import { API_BASE, type GceState } from './state.ts';

// Page tokens are opaque and name the last item returned (keyset paging, as GCE's tokens
// behave): a resource created or deleted meanwhile never shifts a later page.
const tokensOf = new WeakMap<GceState, PageTokens>();

function tokens(s: GceState): PageTokens {
  let t = tokensOf.get(s);
  if (!t) tokensOf.set(s, (t = new PageTokens()));
  return t;
}

function window<T>(s: GceState, scope: string, q: URLSearchParams, keyed: { key: string; item: T }[]): { onPage: T[]; next: string | undefined } {
  const max = q.has('maxResults') ? Number(q.get('maxResults')) : 500;
  if (!Number.isInteger(max) || max < 0 || max > 500) throw invalid('maxResults', q.get('maxResults') ?? '', 'Must be between 0 and 500.');
  const listScope = `${scope}?${q.get('filter') ?? ''}`;
  const token = q.get('pageToken');
  const after = token ? tokens(s).open(listScope, token) : undefined;
  if (token && after === undefined) throw invalid('pageToken', token, 'Invalid page token.');
  const { page: onPage, last } = pageAfter(keyed, (x) => x.key, after, max === 0 ? 500 : max);
  return { onPage: onPage.map((x) => x.item), next: last === undefined ? undefined : tokens(s).seal(listScope, last) };
}

const nameOf = (item: Record<string, unknown>): string => String(item['name'] ?? item['id'] ?? '');

export function page(s: GceState, kind: string, path: string, items: Record<string, unknown>[], q: URLSearchParams): Record<string, unknown> {
  // GCE lists in name order unless asked otherwise.
  const w = window(s, path, q, items.map((item) => ({ key: nameOf(item), item })));
  return {
    kind,
    id: `projects/${s.project}/${path}`,
    items: w.onPage,
    ...(w.next ? { nextPageToken: w.next } : {}),
    selfLink: `${API_BASE}/projects/${s.project}/${path}`,
  };
}

/** `scopes` in the order GCE lists them; `field` is the scoped list's key (instances, subnetworks, operations). */
export function aggregatedPage(
  s: GceState,
  kind: string,
  collection: string,
  field: string,
  scopes: { scope: string; items: Record<string, unknown>[] }[],
  q: URLSearchParams,
): Record<string, unknown> {
  // Scopes in the order given, names in order within each.
  const flat = scopes.flatMap(({ scope, items }, i) => items.map((item) => ({ key: `${String(i).padStart(6, '0')}/${nameOf(item)}`, item: { scope, item } })));
  const w = window(s, `aggregated/${collection}`, q, flat);
  const onPage = w.onPage;
  const items: Record<string, unknown> = {};
  for (const { scope } of scopes) {
    const mine = onPage.filter((x) => x.scope === scope).map((x) => x.item);
    items[scope] = mine.length
      ? { [field]: mine }
      : { warning: { code: 'NO_RESULTS_ON_PAGE', message: `There are no results for scope '${scope}' on this page.`, data: [{ key: 'scope', value: scope }] } };
  }
  return {
    kind,
    id: `projects/${s.project}/aggregated/${collection}`,
    items,
    ...(w.next ? { nextPageToken: w.next } : {}),
    selfLink: `${API_BASE}/projects/${s.project}/aggregated/${collection}`,
  };
}
