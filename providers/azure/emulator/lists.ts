// ARM list answers: `{ value, nextLink }` pages in resource id order. The nextLink is absolute
// (the SDKs and az follow it as given) and carries an opaque `$skipToken` naming the last id
// returned, so concurrent changes never shift a page.
import { pageAfter, PageTokens } from '../../kit/emulator/keyset-pages.ts';
import { ArmError } from './arm-error.ts';

export interface ListPage {
  status: number;
  body: { value: unknown[]; nextLink?: string };
}

export class ArmLists {
  private readonly tokens = new PageTokens();
  pageSize: number;

  constructor(pageSize: number) {
    this.pageSize = pageSize;
  }

  /** One page of `items` (keyed by their ARM id, case-insensitively) for the request at `url`. */
  page<T>(endpoint: string, url: URL, items: readonly T[], idOf: (item: T) => string, render: (item: T) => unknown): ListPage {
    const scope = url.pathname.toLowerCase();
    const token = url.searchParams.get('$skipToken') ?? url.searchParams.get('$skiptoken');
    let after: string | undefined;
    if (token !== null) {
      after = this.tokens.open(scope, token);
      if (after === undefined) throw new ArmError(400, 'InvalidSkipToken', `The value '${token}' of the $skipToken query parameter is invalid.`);
    }
    const { page, last } = pageAfter(items, (x) => idOf(x).toLowerCase(), after, this.pageSize);
    const body: ListPage['body'] = { value: page.map(render) };
    if (last !== undefined) {
      const next = new URL(`${endpoint}${url.pathname}`);
      for (const [k, v] of url.searchParams) if (k.toLowerCase() !== '$skiptoken') next.searchParams.append(k, v);
      next.searchParams.set('$skipToken', this.tokens.seal(scope, last));
      body.nextLink = next.toString();
    }
    return { status: 200, body };
  }
}
