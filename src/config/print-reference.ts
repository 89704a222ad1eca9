// npm run docs:config: prints the config reference table.
import { renderConfigReference } from './reference.ts';

console.log(renderConfigReference());
