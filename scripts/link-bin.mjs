// Links this checkout's own `vigil` command into node_modules/.bin, so that `npx vigil …` in the
// checkout (as the README's tour runs it) finds it at once. Without the link npx does not know the
// project's own bin: it installs the checkout as a package into its cache and builds it again there
// (≈ 45 s, and a second copy of dist/). Run by `npm install` (scripts/prepare.mjs).
import { chmodSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
const target = join(root, 'bin', 'vigil.js');
const link = join(binDir, 'vigil');
mkdirSync(binDir, { recursive: true });
try {
  lstatSync(link);
  rmSync(link);
} catch {
  // no link yet
}
symlinkSync(relative(binDir, target), link);
chmodSync(target, 0o755);
