// npm's prepare step: build dist/ (server and dashboard) unless it is newer than every source it is
// built from, then link the checkout's own `vigil` into node_modules/.bin.
//
// Why the check: `npx vigil` in the checkout makes npm link the checkout into its npx cache and run
// prepare again on first use; an unconditional build there took 18-46 s and rewrote dist/ under a
// running server. A change to any source (a pull, an edit) still rebuilds.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['src', 'dashboard', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
const OUTPUTS = ['dist/main.js', 'dist/dashboard/index.html'];

function newest(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = info.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

const built = OUTPUTS.every((p) => existsSync(join(root, p)));
const sourcesAt = Math.max(...SOURCES.filter((p) => existsSync(join(root, p))).map((p) => newest(join(root, p))));
const builtAt = built ? Math.min(...OUTPUTS.map((p) => statSync(join(root, p)).mtimeMs)) : 0;
if (!built || sourcesAt > builtAt) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
else process.stderr.write('dist/ is up to date with its sources: not rebuilt\n');
execFileSync(process.execPath, [join(root, 'scripts', 'link-bin.mjs')], { stdio: 'inherit' });
