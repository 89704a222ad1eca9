// Keyset paging with opaque page tokens, as the clouds page their lists: a token names the last
// key returned (not an offset), so items added or removed meanwhile never shift a later page,
// and it is sealed (AES-GCM with a key of this emulator), so a client can neither read nor
// forge one: a changed or foreign token fails to open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV = 12;
const TAG = 16;

export class PageTokens {
  private readonly key = randomBytes(32);

  /** A token for the page after `lastKey` of the list `scope` (e.g. the action and its filters). */
  seal(scope: string, lastKey: string): string {
    const iv = randomBytes(IV);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify([scope, lastKey]), 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
  }

  /** The last key a token of `scope` names; undefined when it was not made here for that list. */
  open(scope: string, token: string): string | undefined {
    try {
      const raw = Buffer.from(token, 'base64url');
      if (raw.length <= IV + TAG || raw.toString('base64url') !== token) return undefined;
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV));
      d.setAuthTag(raw.subarray(IV, IV + TAG));
      const text = Buffer.concat([d.update(raw.subarray(IV + TAG)), d.final()]).toString('utf8');
      const [s, k] = JSON.parse(text) as [unknown, unknown];
      return s === scope && typeof k === 'string' ? k : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * One page of `items` in key order, starting after `after`: the page and, when more follow,
 * the key of its last item (what the next token names).
 */
export function pageAfter<T>(items: readonly T[], keyOf: (item: T) => string, after: string | undefined, size: number): { page: T[]; last?: string } {
  const keyed = items.map((item) => ({ item, key: keyOf(item) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rest = after === undefined ? keyed : keyed.filter((x) => x.key > after);
  const page = rest.slice(0, size);
  const tail = page[page.length - 1];
  return rest.length > size && tail ? { page: page.map((x) => x.item), last: tail.key } : { page: page.map((x) => x.item) };
}
