#!/usr/bin/env node
// Entry point of the `vigil` command. The TypeScript is compiled to dist/ by `npm install` (the
// `prepare` script); everything else happens in src/main.ts, the composition root.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('vigil: dist/ is missing; run `npm install` (or `npm run build`) in the repository first.\n');
  process.exit(70);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
