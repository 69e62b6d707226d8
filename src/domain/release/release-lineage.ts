import type { ChangeType } from './release-protocol.js';

/** What lineage needs of a version: its parent and its model's identity. */
export interface LineageFacts {
  readonly versionId: string;
  readonly parentVersionId: string | null;
  readonly model: { readonly id: string };
}

/**
 * Whether a candidate is the kind of change its request says it is, by its registered lineage
 * (docs/releases.md, "Change types"), as the words of a refusal; undefined when it is. A change type's
 * protocol was written for that kind of change, so a candidate of another kind must not be judged by it:
 *
 * - `recalibration` and `threshold` change only the calibration or the policy of the version the site
 *   runs: the candidate must be registered as its child (`vigil calibrate`/`vigil policy` register it
 *   so), which also means the site runs something.
 * - `retraining` trains the same model again: the candidate must be another version of the production
 *   model (the same model id); its parent may be anything (it was trained, not derived).
 * - `new_site` brings a version in use elsewhere to another site, and its protocol asks less (the site's
 *   own criteria and a shorter shadow) because the version's evidence is in production at another site:
 *   the candidate must be in production at another site now (`productionElsewhere`: those sites).
 * - `new_model` (another model) asks no lineage.
 */
export function lineageProblem(
  changeType: ChangeType,
  candidate: LineageFacts,
  production: LineageFacts | null,
  productionElsewhere: readonly string[],
): string | undefined {
  switch (changeType) {
    case 'recalibration':
    case 'threshold':
      if (production === null) return `A ${changeType} changes the version a site runs, and the site runs none: request a new_model or new_site change`;
      if (candidate.parentVersionId !== production.versionId) {
        return `A ${changeType} candidate must be registered as a child of the site's production version (vigil calibrate or vigil policy register it so; or vigil model register --parent): this one is not`;
      }
      return undefined;
    case 'retraining':
      if (production !== null && candidate.model.id !== production.model.id) {
        return 'A retraining candidate must be another version of the production model (the same model id): for another model, request new_model';
      }
      return undefined;
    case 'new_site':
      if (productionElsewhere.length === 0) {
        return 'A new_site candidate must be in production at another site (its protocol relies on that): this version is in production at no other site; request new_model or retraining';
      }
      return undefined;
    case 'new_model':
      return undefined;
  }
}
