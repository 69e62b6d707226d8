import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import and re-export of a file, type-only ones included (a type-only cycle is still a cycle). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)\.js'/g)].map((m) => resolve(dirname(file), `${m[1] as string}.ts`));
}

/** The import cycles among `files` that pass through `within` (each cycle once, as the files it visits). */
function cyclesThrough(files: readonly string[], within: (file: string) => boolean, edges: (file: string) => string[] = importsOf): string[][] {
  const graph = new Map(files.map((f) => [f, edges(f).filter((to) => files.includes(to))]));
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        if (cycle.some(within)) cycles.push(cycle.map((f) => relative(ROOT, f)));
      } else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (state.get(file) === undefined) visit(file);
  return cycles;
}

describe('HTTP route plugins', () => {
  const files = sources(SRC);
  const routes = files.filter((f) => relative(SRC, f).startsWith('http/routes/'));

  it('no route plugin imports create-http-app.ts (it takes what it uses as options)', () => {
    expect(routes.length).toBeGreaterThan(10);
    const offenders = routes.filter((f) => importsOf(f).some((to) => to === join(SRC, 'http', 'create-http-app.ts')));
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('no route spells out a response shape: each is a schema of src/http/contract.ts, which the dashboard imports', () => {
    const inline = routes.filter((f) => /response: \{[^}]*\b\d{3}: z\./.test(readFileSync(f, 'utf8')));
    expect(inline.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('finds no cycle through src/http, type-only imports included', () => {
    expect(cyclesThrough(files, (f) => relative(SRC, f).startsWith('http/'))).toEqual([]);
  });

  it('would report the cycle a route importing the app makes (the check can fail)', () => {
    const app = join(SRC, 'http', 'create-http-app.ts');
    const route = join(SRC, 'http', 'routes', 'job-routes.ts');
    const withBackEdge = (file: string) => (file === route ? [...importsOf(file), app] : importsOf(file));
    expect(cyclesThrough(files, (f) => relative(SRC, f).startsWith('http/'), withBackEdge)).toEqual([
      ['src/http/create-http-app.ts', 'src/http/routes/job-routes.ts'],
    ]);
  });
});
