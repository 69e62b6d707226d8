import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shortVersionId } from '../../src/domain/registry/model-version.js';
import { bundleVersionId } from '../helpers/bundle-version.js';
import { DEMO_MODEL_DIR, REPO_ROOT } from '../helpers/sample-data.js';

describe('README', () => {
  it('quotes the registered version id the demo bundle has today (vigil model card …)', () => {
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain(`npx vigil model card ${shortVersionId(bundleVersionId(DEMO_MODEL_DIR))} `);
  });
});
