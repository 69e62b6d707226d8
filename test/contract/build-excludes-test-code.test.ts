import { readdirSync, readFileSync } from 'node:fs';
import { join, matchesGlob, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [relative(ROOT, join(dir, e.name))] : [],
  );
}

describe('dist/ holds no test-only code', () => {
  it('excludes from the build every source that imports a test library, and nothing the build needs imports them', () => {
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { exclude: string[] };
    const excluded = (path: string) => build.exclude.some((pattern) => matchesGlob(path, pattern));
    const all = sources(join(ROOT, 'src'));
    const testCode = all.filter((path) => /from '(vitest|@fast-check\/vitest)'/.test(readFileSync(join(ROOT, path), 'utf8')));
    expect(testCode.length).toBeGreaterThan(10);
    expect(testCode.filter((path) => !excluded(path))).toEqual([]);
    // Test helpers that import no test library (builders of synthetic files, a raw SCU) follow the naming rule too.
    expect(all.filter((path) => /\/internal\/test-[^/]+\.ts$/.test(path)).every(excluded)).toBe(true);
    const built = all.filter((path) => !excluded(path));
    const importsTestCode = built.filter((path) => /from '[^']*(\.contract|\/internal\/test-[^']*|\.test)\.js'/.test(readFileSync(join(ROOT, path), 'utf8')));
    expect(importsTestCode).toEqual([]);
  });
});
