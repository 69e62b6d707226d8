#!/usr/bin/env node
// Entry point of the `vigil` command. The TypeScript is compiled to dist/ by `npm install` (the
// `prepare` script); everything else happens in src/main.ts, the composition root.
import { existsSync } from 'node:fs';

// Vigil runs on Node.js 24 (package.json `engines`); its SQLite binding crashes on older releases
// instead of failing cleanly, so say so before anything loads.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `vigil: needs Node.js 24 or later (this is ${process.version}); \`. scripts/ensure-node.sh\` puts Node 24 on this shell's PATH (npm start and npm test do it themselves).\n`,
  );
  process.exit(70);
}
const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('vigil: dist/ is missing; run `npm install` (or `npm run build`) in the repository first.\n');
  process.exit(70);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
