import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalBundleListing, shortVersionId } from '../../src/domain/registry/model-version.js';
import { DEMO_MODEL_DIR, REPO_ROOT } from '../helpers/sample-data.js';

describe('README', () => {
  it('quotes the registered version id the demo bundle has today (vigil model card …)', () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else files.push(join(d, e.name));
      }
    };
    walk(DEMO_MODEL_DIR);
    const listing = canonicalBundleListing(
      files.map((f) => {
        const bytes = readFileSync(f);
        return { path: relative(DEMO_MODEL_DIR, f), bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      }),
    );
    const versionId = createHash('sha256').update(listing).digest('hex');
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain(`npx vigil model card ${shortVersionId(versionId)} `);
  });
});
