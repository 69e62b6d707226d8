import { describe, expect, it } from 'vitest';
import { CHANGE_TYPES } from './release-protocol.js';
import { lineageProblem, type LineageFacts } from './release-lineage.js';

const v = (n: number, parent: number | null, model = 'pneumonia'): LineageFacts => ({
  versionId: String(n).repeat(64).slice(0, 64),
  parentVersionId: parent === null ? null : String(parent).repeat(64).slice(0, 64),
  model: { id: model },
});
const production = v(1, null);

describe('lineageProblem', () => {
  it('asks a recalibration or a threshold candidate to be a child of the production version', () => {
    for (const type of ['recalibration', 'threshold'] as const) {
      expect(lineageProblem(type, v(2, 1), production, [])).toBeUndefined();
      // A sibling (derived from an older version), a grandchild, an unrelated version: refused.
      expect(lineageProblem(type, v(3, 9), production, [])).toMatch(/child of the site's production version/);
      expect(lineageProblem(type, v(4, 2), production, [])).toMatch(/child of the site's production version/);
      expect(lineageProblem(type, v(5, null), production, [])).toMatch(/child of the site's production version/);
      expect(lineageProblem(type, v(2, 1), null, [])).toMatch(/the site runs none/);
    }
  });

  it('asks a retraining candidate to be another version of the production model, of any parent', () => {
    expect(lineageProblem('retraining', v(2, null), production, [])).toBeUndefined();
    expect(lineageProblem('retraining', v(2, 1), production, [])).toBeUndefined();
    expect(lineageProblem('retraining', v(2, 1, 'another-model'), production, [])).toMatch(/same model id/);
  });

  it('asks a new-site candidate to be in production at another site, whatever its lineage', () => {
    expect(lineageProblem('new_site', v(5, null, 'another-model'), production, ['north'])).toBeUndefined();
    expect(lineageProblem('new_site', v(5, null), null, ['north', 'south'])).toBeUndefined();
    expect(lineageProblem('new_site', v(5, null), null, [])).toMatch(/in production at no other site; request new_model or retraining/);
    expect(lineageProblem('new_site', v(2, 1), production, [])).toMatch(/in production at no other site/);
  });

  it('asks no lineage of a new model', () => {
    expect(lineageProblem('new_model', v(5, null, 'another-model'), production, [])).toBeUndefined();
    expect(lineageProblem('new_model', v(5, null), null, [])).toBeUndefined();
    expect(CHANGE_TYPES).toEqual(['recalibration', 'threshold', 'retraining', 'new_site', 'new_model']);
  });
});
