// Every relative link in README.md, docs/ and deploy/ resolves: markdown links relative to
// their page, and repository paths written out (`docs/operations.md`, `src/cni/handler.ts`)
// relative to the repository root. A page that points at a file that does not exist sends a
// new user nowhere.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const pages = [join(ROOT, 'README.md'), ...filesUnder(join(ROOT, 'docs')), ...filesUnder(join(ROOT, 'deploy'))].filter((f) =>
  /\.(md|ya?ml|sh|ts|json|conf|txt)$|Dockerfile$/.test(f),
);

/** Markdown links with a relative target, resolved from the page's own folder. */
function markdownLinks(page: string, text: string): string[] {
  if (!page.endsWith('.md')) return [];
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z+.-]*:/i.test(target) || target.startsWith('#')) continue;
    out.push(join(dirname(page), decodeURIComponent(target.split('#')[0]!)));
  }
  return out;
}

/** Repository paths written out in prose or comments, resolved from the repository root. */
function repositoryPaths(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?<![\w/.-])(?<!\]\()((?:docs|deploy|src|test|providers)\/[\w./-]*\w)(.?)/g)) {
    // Patterns and placeholders (`providers/<cloud>/`, `test/contract/azure*.test.ts`) are not paths.
    if (['*', '<', '{'].includes(m[2]!)) continue;
    out.push(join(ROOT, m[1]!));
  }
  return out;
}

describe('relative links in README.md, docs/ and deploy/', () => {
  it('finds the pages it checks', () => {
    expect(pages.map((p) => relative(ROOT, p))).toEqual(expect.arrayContaining(['README.md', 'docs/install.md', 'deploy/base/configmap.yaml']));
  });

  it.each(pages.map((p) => [relative(ROOT, p), p] as const))('%s: every link resolves', (_name, page) => {
    const text = readFileSync(page, 'utf8');
    const missing = [...markdownLinks(page, text), ...repositoryPaths(text)].filter((p) => !existsSync(p)).map((p) => relative(ROOT, p));
    expect(missing).toEqual([]);
  });
});
