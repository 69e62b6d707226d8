import { z } from 'zod';
import { ROLES } from '../access/roles.js';

/**
 * What kind of change a release request makes, as a Predetermined Change Control Plan names them:
 * each has a protocol, written before the change, that says what evidence allows it.
 */
export const CHANGE_TYPES = ['recalibration', 'threshold', 'retraining', 'new_site', 'new_model'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** What a signature means; shown with the signer's name and time wherever it appears (21 CFR 11.50). */
export const SIGNATURE_MEANINGS = ['reviewed', 'approved for release'] as const;
export type SignatureMeaning = (typeof SIGNATURE_MEANINGS)[number];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A change type's pre-specified protocol, as data. Its SHA-256 (of its canonical JSON) is pinned in
 * every request made under it, so the protocol a change was judged by cannot be edited afterwards.
 */
export const releaseProtocolSchema = z.strictObject({
  changeType: z.enum(CHANGE_TYPES),
  /** Plain language, for the QA/regulatory reader. */
  description: z.string().min(1),
  /** The validation data, by SHA-256, per site (`*` for any site without its own). */
  validationData: z.record(z.string().min(1), sha256),
  /** Acceptance criteria lines (as `vigil evaluate --criteria` reads them), checked on the candidate. */
  criteria: z.array(z.string().min(1)).min(1),
  /**
   * Whether the candidate must be non-inferior to the site's production version on the same cases, and
   * by what margin: the lower 95% bound of (candidate AUROC − production AUROC), paired DeLong on the
   * same cases, must be above −margin (`auroc noninferior to reference margin M`, as `vigil evaluate`
   * checks it). Null when the change type needs no comparison.
   */
  nonInferiority: z.strictObject({ margin: z.number().positive().max(0.5) }).nullable(),
  /** Shadow agreement required before canary or production, or null when the change type needs none. */
  shadow: z.strictObject({ minCases: z.number().int().positive(), minAgreement: z.number().min(0).max(1) }).nullable(),
  /** Signatures required: each a distinct person of the role, none the requester. */
  approvals: z
    .array(z.strictObject({ role: z.enum(ROLES), meaning: z.enum(SIGNATURE_MEANINGS) }))
    .min(1)
    .refine((a) => a.some((x) => x.meaning === 'approved for release'), { message: 'at least one approval must mean "approved for release"' }),
});
export type ReleaseProtocol = z.infer<typeof releaseProtocolSchema>;

/** The validation data's SHA-256 the protocol pins for a site. */
export function validationDataFor(protocol: ReleaseProtocol, site: string): string | undefined {
  return protocol.validationData[site] ?? protocol.validationData['*'];
}
