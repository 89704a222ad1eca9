// List and aggregatedList envelopes: `maxResults` (0-500, default 500), `pageToken`, and for
// aggregated lists one entry per scope (`zones/Z`, `regions/R`, `global`), where a scope with
// nothing on the page carries GCE's NO_RESULTS_ON_PAGE warning instead of an empty list.
import { invalid } from './gce-error.ts';
import { API_BASE, type GceState } from './state.ts';

function window(q: URLSearchParams, total: number): { start: number; end: number; next: string | undefined } {
  const max = q.has('maxResults') ? Number(q.get('maxResults')) : 500;
  if (!Number.isInteger(max) || max < 0 || max > 500) throw invalid('maxResults', q.get('maxResults') ?? '', 'Must be between 0 and 500.');
  const start = q.get('pageToken') ? Number(Buffer.from(q.get('pageToken') as string, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalid('pageToken', q.get('pageToken') ?? '', 'Invalid page token.');
  const size = max === 0 ? 500 : max;
  const end = Math.min(total, start + size);
  return { start, end, next: start + size < total ? Buffer.from(String(start + size)).toString('base64url') : undefined };
}

export function page(s: GceState, kind: string, path: string, items: Record<string, unknown>[], q: URLSearchParams): Record<string, unknown> {
  const w = window(q, items.length);
  return {
    kind,
    id: `projects/${s.project}/${path}`,
    items: items.slice(w.start, w.end),
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
  const flat = scopes.flatMap(({ scope, items }) => items.map((item) => ({ scope, item })));
  const w = window(q, flat.length);
  const onPage = flat.slice(w.start, w.end);
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
