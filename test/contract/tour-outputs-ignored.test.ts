/**
 * The commands README.md and docs/*.md show write their outputs (`--out deid/`, `--out reports/test`,
 * `--out models-local/…`) inside the checkout when run from it, as the tour is. `npm test` runs
 * `prettier --check .` and `eslint .` over the checkout: a reason file or a model manifest there must not make
 * it fail. So every such folder is ignored by both (and by git), checked here with the same ignore files the
 * two command lines read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/sample-data.js';

const documents = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).flatMap((n) => (n.endsWith('.md') ? [join('docs', n)] : []))];

/** `--out PATH` in the documents' code, for a relative PATH that is not a placeholder (DIR, REPORT_DIR, …). */
function documentedOutputs(): string[] {
  const found = new Set<string>();
  for (const document of documents) {
    const text = readFileSync(join(REPO_ROOT, document), 'utf8');
    for (const block of text.matchAll(/```[a-z]*\n([^]*?)```/g)) {
      for (const m of (block[1] ?? '').matchAll(/--out[ =](\S+)/g)) {
        const path = (m[1] ?? '').replace(/\/$/, '');
        if (/^[A-Z_]+$/.test(path) || path.startsWith('/') || path.startsWith('$') || path.startsWith('..')) continue;
        found.add(path);
      }
    }
  }
  return [...found].sort();
}

/** Written by the DICOMDIR recipe in docs/deidentification.md and the tour's `mkdir -p my-pngs` (not an --out). */
const RECIPE_OUTPUTS = ['deid-media', 'my-pngs'];

describe('outputs of the documented commands do not break npm test', () => {
  const outputs = [...documentedOutputs(), ...RECIPE_OUTPUTS];

  it('finds the tour outputs', () => {
    expect(outputs).toEqual(expect.arrayContaining(['deid', 'reports/test', 'models-local/recal-platt', 'deid-media']));
  });

  it('prettier --check ignores every file they write', async () => {
    const ignorePath = ['.gitignore', '.prettierignore'].map((n) => join(REPO_ROOT, n));
    const checked = [];
    for (const output of outputs) {
      for (const file of ['quarantine/x.reason.json', 'report.json', 'vigil-model.json', 'report.html', 'DICOMDIR']) {
        const info = await prettier.getFileInfo(join(REPO_ROOT, output, file), { ignorePath });
        if (!info.ignored) checked.push(join(output, file));
      }
    }
    expect(checked).toEqual([]);
  });

  it('eslint ignores them', async () => {
    const eslint = new ESLint({ cwd: REPO_ROOT });
    const linted = [];
    for (const output of outputs) {
      const file = join(REPO_ROOT, output, 'x.ts');
      if (!(await eslint.isPathIgnored(file))) linted.push(join(output, 'x.ts'));
    }
    expect(linted).toEqual([]);
  });
});
