// npm run docs:config: prints the config reference table; with --write, refreshes the
// generated blocks of docs/operations.md.
import { fileURLToPath } from 'node:url';
import { writeOperationsDoc } from './operations-doc.ts';
import { renderConfigReference } from './reference.ts';

if (process.argv.includes('--write')) {
  const doc = fileURLToPath(new URL('../../docs/operations.md', import.meta.url));
  writeOperationsDoc(doc);
  console.log(`updated ${doc}`);
} else {
  console.log(renderConfigReference());
}
