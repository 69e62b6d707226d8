/**
 * The API's response shapes, as zod schemas (used by the routes for validation and OpenAPI) and the
 * TypeScript types inferred from them. The dashboard (web/) imports only `import type` from here.
 */
import { z } from 'zod';
import {
  ACCOUNT_NAME_PATTERN,
  ACCOUNT_NAME_RULE,
  MAX_ROTATION_OVERLAP_SECONDS,
  MAX_TOKEN_LIFETIME_DAYS,
  TOKEN_STATES,
} from '../domain/access/account-rules.js';
import { ROLES } from '../domain/access/roles.js';
import {
  INCIDENT_NOTE,
  INCIDENT_OWNER,
  INCIDENT_PAUSE_REASON,
  INCIDENT_REASON,
  PAUSE_REASON,
  POSTMORTEM,
  REVIEW_COMMENT,
  TOKEN_LABEL,
} from '../domain/human-text.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import type { IntendedUse, ModelManifest } from '../domain/model/model-manifest.js';
import { GATE_CHECKS } from '../domain/quality/gate.js';
import { WORKLIST_PRIORITIES, WORKLIST_REASONS } from '../domain/review/worklist.js';

/** `image` of a case result: what a reader is told about the image, as kept after de-identification. */
export type { ImageSummary } from '../domain/image/image-summary.js';
import type { ImageSummary } from '../domain/image/image-summary.js';
import { STUDY_STATES } from '../domain/study/study-state.js';
import { CHANGE_TYPES, releaseProtocolSchema, SIGNATURE_MEANINGS } from '../domain/release/release-protocol.js';
import { GATES, RELEASE_STATES } from '../domain/release/release-request.js';
import { CANARY_FRACTION_MAX, CANARY_FRACTION_MIN } from '../domain/deployment/deployment.js';

/** `?limit=` on list routes: 1 to 500, default 100. */
export const listQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

/**
 * A query's range in order: its start (`from`, `since`; a seq cursor `after`) not after its end (`to`,
 * `until`; `through`). A range the wrong way round matches nothing, which reads as "there is nothing", so
 * it is refused instead: 400 REQUEST_INVALID naming the end, `to: not before from`. Every route with a range uses it.
 */
export function orderedRange<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>, start: keyof Shape & string, end: keyof Shape & string) {
  return schema.refine(
    (query) => {
      const values = query as Record<string, unknown>;
      const [from, to] = [values[start], values[end]];
      if (typeof from === 'number' && typeof to === 'number') return from <= to; // a seq cursor and its bound
      return typeof from !== 'string' || typeof to !== 'string' || Date.parse(from) <= Date.parse(to);
    },
    { path: [end], message: `not before ${start}` },
  );
}

/**
 * `GET /api/studies`: a list, or a lookup by what the sender sent. Values up to 64 characters (a UID's
 * limit; an Accession Number is at most 16); a message about them never quotes them.
 */
export const studyListQuerySchema = listQuerySchema.extend({
  studyInstanceUid: z.string().trim().min(1).max(64).optional(),
  accessionNumber: z.string().min(1).max(64).optional(),
});

export const errorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  statusCode: z.number().int(),
  requestId: z.string(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const healthSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  time: z.string(),
});
export type Health = z.infer<typeof healthSchema>;

export const auditVerificationSchema = z.union([
  z.object({ ok: z.literal(true), treeSize: z.number().int(), rootHash: z.string(), checkedTreeHeads: z.number().int() }),
  z.object({
    ok: z.literal(false),
    treeSize: z.number().int(),
    firstBadIndex: z.number().int(),
    firstBadAuditId: z.string(),
    reason: z.enum(['leaf_hash_mismatch', 'tree_head_mismatch', 'tree_head_signature_invalid', 'missing_entry', 'unsigned_entry']),
  }),
]);

export type AuditVerificationBody = z.infer<typeof auditVerificationSchema>;

/**
 * An audit event as the log holds it (src/domain/audit/audit-event.ts): `type` names its kind, the
 * other fields are the kind's. Typed as the domain's union, so the dashboard reads each kind's fields;
 * OpenAPI shows an object with a `type`.
 */
export const auditEventSchema = z
  .custom<AuditEvent>((value) => typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string')
  .meta({
    type: 'object',
    description: 'An audit event: `type` names its kind, the other fields are the kind’s (src/domain/audit/audit-event.ts).',
    required: ['type'],
    properties: { type: { type: 'string' } },
  });

export const auditEntrySchema = z.object({
  auditId: z.string(),
  index: z.number().int(),
  time: z.string(),
  event: auditEventSchema,
});
export type AuditEntryBody = z.infer<typeof auditEntrySchema>;

export const signedTreeHeadSchema = z.object({
  treeSize: z.number().int(),
  rootHash: z.string(),
  time: z.string(),
  signature: z.string(),
  publicKey: z.string(),
});

export const inclusionProofSchema = z.object({
  auditId: z.string(),
  leafIndex: z.number().int(),
  treeSize: z.number().int(),
  leafHash: z.string(),
  auditPath: z.array(z.string()),
  rootHash: z.string(),
  treeHead: signedTreeHeadSchema,
  entry: auditEntrySchema,
  verified: z.boolean(),
});
export type InclusionProofBody = z.infer<typeof inclusionProofSchema>;

/** `GET /api/audit/entries`: newest first, paged by audit id. */
const auditInstant = z.iso.datetime({ offset: true }).transform((text) => new Date(text).toISOString());
export const auditEntriesQuerySchema = orderedRange(
  z.object({
    type: z
      .string()
      .regex(/^[a-z_]{1,40}$/, 'an event type such as decision or case_read')
      .optional(),
    since: auditInstant.optional(),
    until: auditInstant.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    /** The `next` of the previous page. */
    before: z
      .string()
      .regex(/^a-\d{1,15}$/, 'an audit id such as a-42')
      .optional(),
  }),
  'since',
  'until',
);

export const auditEntriesPageSchema = z.object({ entries: z.array(auditEntrySchema), next: z.string().optional() });
export type AuditEntriesPageBody = z.infer<typeof auditEntriesPageSchema>;

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);
/** The model's manifest (docs/model-bundle.md), as validated when the model was loaded; typed as the domain's. */
export const manifestSchema = z
  .custom<ModelManifest>(isObject)
  .meta({ type: 'object', description: 'The model manifest (docs/model-bundle.md), as validated when the model was loaded.' });
/** A finding's decision policy in the manifest (`decisionPolicy.<finding>`). */
export type FindingPolicyBody = ModelManifest['decisionPolicy'][string];

export const modelSummarySchema = z.object({
  hashVerified: z.literal(true),
  modelBytes: z.number().int(),
  manifest: manifestSchema,
});
export type ModelSummaryBody = z.infer<typeof modelSummarySchema>;

export const roleSchema = z.enum(ROLES);

export const userSchema = z.object({
  userId: z.string(),
  name: z.string(),
  role: roleSchema,
  createdAt: z.string(),
  disabled: z.boolean(),
});
export type UserBody = z.infer<typeof userSchema>;
/** `GET /api/users`. */
export const userListSchema = z.object({ users: z.array(userSchema) });
export type UserListBody = z.infer<typeof userListSchema>;
/** `PATCH /api/users/{userId}`. */
export const updatedUserSchema = z.object({ user: userSchema });
export type UpdatedUserBody = z.infer<typeof updatedUserSchema>;

export const createUserRequestSchema = z.strictObject({
  /** domain/access/account-rules.ts: the same rule for every way an account is created. */
  name: z.string().regex(ACCOUNT_NAME_PATTERN, ACCOUNT_NAME_RULE),
  role: roleSchema,
  /** Optional: lets the user sign in to the dashboard with name and password (12 to 1024 characters). */
  password: z.string().min(12).max(1024).optional(),
});

export const issuedTokenSchema = z.object({ user: userSchema, tokenId: z.string(), token: z.string(), expiresAt: z.string().nullable() });
export type IssuedTokenBody = z.infer<typeof issuedTokenSchema>;

/** A token as listed: never its secret. It acts with its user's current role. */
export const tokenSchema = z.object({
  tokenId: z.string(),
  label: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  /** `live` authenticates now; `expired` and `revoked` never will again. */
  state: z.enum(TOKEN_STATES),
});
export type TokenBody = z.infer<typeof tokenSchema>;
export const userTokensSchema = z.object({ user: userSchema, tokens: z.array(tokenSchema) });
export type UserTokensBody = z.infer<typeof userTokensSchema>;

const tokenLabelSchema = TOKEN_LABEL;

export const issueTokenRequestSchema = z.strictObject({
  label: tokenLabelSchema,
  /** Whole days until it stops working (1 to 366); absent: until revoked. */
  expiresInDays: z.number().int().min(1).max(MAX_TOKEN_LIFETIME_DAYS).optional(),
});

export const rotateTokenRequestSchema = z.strictObject({
  /** The successor's label (default: the old token's). */
  label: tokenLabelSchema.optional(),
  /** Seconds the old token keeps working beside the new one (0 to 3600; default 0: it stops at once). */
  overlapSeconds: z.number().int().min(0).max(MAX_ROTATION_OVERLAP_SECONDS).default(0),
});

export const newTokenSchema = z.object({
  tokenId: z.string(),
  /** The bearer secret, shown this once. */
  token: z.string(),
  expiresAt: z.string().nullable(),
});
export type NewTokenBody = z.infer<typeof newTokenSchema>;
export const rotatedTokenSchema = newTokenSchema.extend({ previousTokenId: z.string(), previousEndsAt: z.string() });
export type RotatedTokenBody = z.infer<typeof rotatedTokenSchema>;

export const updateUserRequestSchema = z
  .strictObject({ role: roleSchema.optional(), disabled: z.boolean().optional() })
  .refine((body) => body.role !== undefined || body.disabled !== undefined, 'give role, disabled, or both');

export const studySchema = z.object({
  studyKey: z.string(),
  studyUid: z.string(),
  instances: z.number().int(),
  firstReceivedAt: z.string(),
  lastReceivedAt: z.string(),
  /** receiving → queued → judging → judged (or failed: dead-lettered); a new instance sends it back to receiving. */
  state: z.enum(STUDY_STATES),
  /** The de-identified Study Date (YYYYMMDD; shifted unless dates are kept), null when unknown. */
  studyDate: z.string().nullable(),
  /** The modalities of its instances (declared, for an upload). */
  modalities: z.array(z.string()),
  /** The configured site it came from (VIGIL_SITES_FILE; `default` without one), null for studies received before sites were recorded. */
  site: z.string().nullable(),
});
export type StudyBody = z.infer<typeof studySchema>;
/** `GET /api/studies`. */
export const studyListSchema = z.object({ studies: z.array(studySchema) });
export type StudyListBody = z.infer<typeof studyListSchema>;

const gateValue = z.union([z.number(), z.string()]);

/**
 * One check of the intended-use and quality gate (src/domain/quality/gate.ts): `passed`, `failed`, or
 * `unchecked` with `why` (`value_unknown`: the image does not tell the value; `not_required`: the
 * model's manifest does not restrict it; `not_computable`: the measure could not be made).
 */
export const gateCheckSchema = z.object({
  check: z.enum(GATE_CHECKS),
  outcome: z.enum(['passed', 'failed', 'unchecked']),
  why: z.enum(['value_unknown', 'not_required', 'not_computable']).optional(),
  measured: gateValue.optional(),
  threshold: gateValue.optional(),
});
export type GateCheckBody = z.infer<typeof gateCheckSchema>;

/** A reason behind a `warn` or `reject`: a check that failed, or a restricted one that could not be made. */
export const gateReasonSchema = z.object({
  code: z.string(),
  verdict: z.enum(['warn', 'reject']),
  message: z.string(),
  measured: gateValue.optional(),
  threshold: gateValue.optional(),
  /** Absent in results judged before the gate reported its checks. */
  check: z.enum(GATE_CHECKS).optional(),
  outcome: z.enum(['failed', 'unchecked']).optional(),
  why: z.enum(['value_unknown', 'not_computable']).optional(),
});
export type GateReasonBody = z.infer<typeof gateReasonSchema>;

/**
 * `quality` of a case result: the gate's verdict (`pass` only when every check the model's intended
 * use restricts was made and passed), its reasons, and every check with its outcome.
 */
export const caseGateSchema = z.object({
  verdict: z.enum(['pass', 'warn', 'reject']),
  reasons: z.array(gateReasonSchema),
  /** Absent in results judged before the gate reported its checks: which checks were made is then not known. */
  checks: z.array(gateCheckSchema).optional(),
});
export type CaseGateBody = z.infer<typeof caseGateSchema>;

/**
 * One judged image or frame of a case, as the case holds it (src/workflows/predict-images.ts,
 * PredictResult, written when the case was judged; older cases lack the fields marked absent). The
 * case routes pass `results` through as stored, unvalidated (`caseSchema`), so this schema documents
 * and types them; it is not applied to the answer.
 */
export const caseResultSchema = z.object({
  input: z.object({ file: z.string(), frame: z.number().int().nullable() }),
  studyKey: z.string().nullable(),
  status: z.enum(['decided', 'rejected', 'error']),
  quality: caseGateSchema.nullable(),
  outputs: z.array(z.object({ finding: z.string(), probability: z.number(), decision: z.enum(['positive', 'negative', 'refer']) })),
  /** `judged: false`: no model judged it (sent to review unjudged); the identity names the site's deployment then. */
  model: z.object({ id: z.string(), version: z.string(), sha256: z.string(), judged: z.literal(false).optional() }),
  auditId: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** What a reader is told about the image; absent in results judged before Vigil recorded it. */
  image: z.custom<ImageSummary>().optional(),
});
export type CaseResultBody = z.infer<typeof caseResultSchema>;

export const caseSchema = z.object({
  caseId: z.string(),
  studyKey: z.string(),
  /** `judged: false`: no model judged it (sent to review unjudged); the identity names the site's deployment then. */
  model: z.object({ id: z.string(), version: z.string(), sha256: z.string(), judged: z.literal(false).optional() }),
  /** How many instances the study had when this case judged it (0: a case from before this was recorded). */
  instances: z.number().int(),
  createdAt: z.string(),
  /** Each a `CaseResultBody` (caseResultSchema), as stored. */
  results: z.array(z.unknown()),
  /** The earlier case of the study this one replaced. */
  supersedes: z.string().nullable(),
  /** The later case of the study that replaced this one (instances arrived after it was judged); null while it is current. */
  supersededBy: z.string().nullable(),
});
export type CaseBody = z.infer<typeof caseSchema>;

/** `GET /api/studies/{studyKey}`: the study with its cases, oldest first. */
export const studyWithCasesSchema = studySchema.extend({ cases: z.array(caseSchema) });
export type StudyWithCasesBody = z.infer<typeof studyWithCasesSchema>;

/**
 * One item of the review worklist: a judged study (one item per study, not per image or frame), with
 * what a reader needs to choose it, as kept after de-identification; never an identifier.
 */
export const worklistItemSchema = z.object({
  itemId: z.string(),
  caseId: z.string(),
  studyKey: z.string(),
  /** The image shown first (an index into the case's `results`): the first of the most urgent. */
  resultIndex: z.number().int(),
  /** How many of the case's images the item covers (a cine's frames, a series' instances). */
  imageCount: z.number().int(),
  /** Most urgent first. */
  reasons: z.array(z.enum(WORKLIST_REASONS)),
  /** referred → warned → rejected → sampled: the order the worklist is read in. */
  priority: z.enum(WORKLIST_PRIORITIES),
  /** `superseded`: closed unread, because a later case of the study replaced its case. */
  state: z.enum(['open', 'reviewed', 'superseded']),
  createdAt: z.string(),
  modalities: z.array(z.string()),
  bodyPart: z.string().nullable(),
  /** Whole years (`64`, 90 meaning 90 or over) or a declared range (`1-5`). */
  patientAgeYears: z.string().nullable(),
  site: z.string().nullable(),
  device: z.string().nullable(),
  /** The highest calibrated probability among the covered images; show it only at the precision the model's calibration supports. */
  probability: z.number().nullable(),
});
export type WorklistItemBody = z.infer<typeof worklistItemSchema>;

/** `GET /api/worklist/{itemId}`: the item with every image it covers. */
export const worklistItemDetailSchema = worklistItemSchema.extend({ resultIndexes: z.array(z.number().int()) });
export type WorklistItemDetailBody = z.infer<typeof worklistItemDetailSchema>;

const filterLabel = z
  .string()
  .min(1)
  .max(128)
  .regex(/^\P{Cc}+$/u, 'no control characters');

/** `GET /api/worklist`: filters (all together) and paging. */
export const worklistQuerySchema = orderedRange(
  z.object({
    /** 1 to 100, default 50. */
    limit: z.coerce.number().int().min(1).max(100).default(50),
    /** The previous page's `next`. */
    cursor: z
      .string()
      .max(400)
      .regex(/^[A-Za-z0-9_-]+$/, 'a cursor as returned in next')
      .optional(),
    state: z.enum(['open', 'reviewed', 'superseded']).default('open'),
    priority: z.enum(WORKLIST_PRIORITIES).optional(),
    reason: z.enum(WORKLIST_REASONS).optional(),
    modality: z
      .string()
      .regex(/^[A-Z]{2,16}$/, 'a DICOM modality such as CR or CT')
      .optional(),
    site: filterLabel.optional(),
    device: filterLabel.optional(),
    /** Created at or after (ISO 8601 date-time with offset). */
    from: z.iso.datetime({ offset: true }).optional(),
    /** Created before. */
    to: z.iso.datetime({ offset: true }).optional(),
  }),
  'from',
  'to',
);

export const worklistPageSchema = z.object({
  items: z.array(worklistItemSchema),
  /** Items per priority under the same filters (the priority filter aside): what each tab would hold. */
  counts: z.object(Object.fromEntries(WORKLIST_PRIORITIES.map((p) => [p, z.number().int()])) as Record<(typeof WORKLIST_PRIORITIES)[number], z.ZodNumber>),
  /** Pass as `cursor` for the next page; null on the last page. */
  next: z.string().nullable(),
});
export type WorklistPageBody = z.infer<typeof worklistPageSchema>;

export const reviewRequestSchema = z.strictObject({
  findingPresent: z.boolean().nullable(),
  imageQualityAdequate: z.boolean(),
  agreesWithModel: z.boolean().nullable(),
  /** Free text without identifiers (≤ 2000 characters, several lines, no control, bidi or invisible formatting characters); kept in the store, never logged or audited. */
  comment: REVIEW_COMMENT,
});

export const reviewSchema = z.object({
  reviewId: z.string(),
  itemId: z.string(),
  caseId: z.string(),
  studyKey: z.string(),
  reviewerId: z.string(),
  // As stored (a read recorded before the comment rule is still answered).
  read: reviewRequestSchema.extend({ comment: z.string() }),
  createdAt: z.string(),
});
export type ReviewBody = z.infer<typeof reviewSchema>;
/** `GET /api/reviews`. */
export const reviewListSchema = z.object({ reviews: z.array(reviewSchema) });
export type ReviewListBody = z.infer<typeof reviewListSchema>;

const label = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9 ._-]+$/, 'letters, digits, space, ".", "_" or "-"');

/** One file of an upload, by its position among the files (from 0): stored under a pseudonymous SOP Instance UID in a study, or refused with a code. */
export const uploadPartSchema = z.object({
  index: z.number().int(),
  kind: z.enum(['image', 'dicom']),
  status: z.enum(['stored', 'duplicate', 'refused', 'failed']),
  studyKey: z.string().optional(),
  sopInstanceUid: z.string().optional(),
  code: z.string().optional(),
  /** For a refused DICOM file: `cannot_understand` or `out_of_resources` (as STOW-RS's Failure Reason). */
  reason: z.string().optional(),
});
export type UploadPartOutcome = z.infer<typeof uploadPartSchema>;

/** Where a sender finds a study it sent (src/http/internal/study-links.ts). */
export const studyLinksSchema = z.object({
  studyKey: z.string(),
  study: z.string(),
  dicomweb: z.string().optional(),
  currentCase: z.object({ caseId: z.string(), case: z.string(), fhir: z.string() }).optional(),
});

/** `POST /api/images` → 201. */
export const uploadResponseSchema = z.object({
  studyKey: z.string(),
  stored: z.number().int(),
  duplicates: z.number().int(),
  failed: z.array(z.object({ index: z.number().int(), code: z.string() })),
  parts: z.array(uploadPartSchema),
  studies: z.array(studyLinksSchema),
});
export type UploadResponse = z.infer<typeof uploadResponseSchema>;

/** What a device upload declares about its images (POST /api/images, first part). */
/** A patient's age in whole years, or `{min, max}` when only a range is known (never a date of birth). */
const patientAgeYearsSchema = z.union([
  z.number().int().min(0).max(130),
  z
    .strictObject({ min: z.number().int().min(0).max(130), max: z.number().int().min(0).max(130) })
    .refine((r) => r.min <= r.max, { message: 'min must be <= max', path: ['min'] }),
]);

export const uploadDeclarationSchema = z.strictObject({
  site: label.optional(),
  device: label.optional(),
  modality: z
    .string()
    .regex(/^[A-Z]{2,16}$/, 'a DICOM modality such as CR or DX')
    .optional(),
  bodyPart: z
    .string()
    .regex(/^[A-Z ]{2,64}$/, 'a DICOM body part such as CHEST')
    .optional(),
  view: z
    .string()
    .regex(/^[A-Z]{1,16}$/, 'a DICOM view position such as PA')
    .optional(),
  /**
   * The patient's age in whole years, for a model's intended age range: a number, or `{min, max}` when
   * only a range is known (a source that knows its population's ages); never a date of birth.
   */
  patientAgeYears: patientAgeYearsSchema.optional(),
});

/** POST /api/session: a user name and password, or an API token (the bootstrap admin has only a token). */
export const signInRequestSchema = z.union([
  z.strictObject({ userName: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
  z.strictObject({ token: z.string().min(1).max(100) }),
]);

/** The dashboard's session (POST and GET /api/session). */
export const sessionSchema = z.object({
  user: z.object({ userId: z.string(), name: z.string(), role: roleSchema }),
  /** Send as `x-csrf-token` on every POST, PUT, PATCH and DELETE made with the session cookie. */
  csrfToken: z.string(),
  /** When the session ends if left idle from now (ISO 8601); each request pushes it back, up to `absoluteExpiresAt`. */
  expiresAt: z.string(),
  absoluteExpiresAt: z.string(),
  method: z.enum(['password', 'token']),
});
export type SessionBody = z.infer<typeof sessionSchema>;

/** PUT /api/users/{userId}/password. `currentPassword` is required to change one's own password once one is set. */
export const setPasswordRequestSchema = z.strictObject({
  password: z.string().min(12).max(1024),
  currentPassword: z.string().min(1).max(1024).optional(),
});

// Releases and deployments (docs/releases.md).

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

/** A registered model version (GET /api/models/versions/{versionId}): its id is the bundle's content hash. */
export const modelVersionSchema = z.object({
  versionId: sha256Schema,
  model: z.object({ id: z.string(), version: z.string(), sha256: sha256Schema }),
  name: z.string(),
  parentVersionId: sha256Schema.nullable(),
  lineage: z.object({
    trainingDataSha256: z.string().nullable(),
    validationDataSha256: z.string().nullable(),
    codeReference: z.string().nullable(),
    derivedBy: z.string().nullable(),
  }),
  files: z.number().int(),
  bytes: z.number().int(),
  registeredAt: z.string(),
  registeredBy: z.string(),
});
export type ModelVersionBody = z.infer<typeof modelVersionSchema>;
/** `GET /api/models/versions`. */
export const modelVersionListSchema = z.object({ versions: z.array(modelVersionSchema) });
export type ModelVersionListBody = z.infer<typeof modelVersionListSchema>;
/** `GET /api/models/versions/{versionId}/card`: the version's generated model card (Markdown). */
export const modelVersionCardSchema = z.object({ versionId: modelVersionSchema.shape.versionId, card: z.string() });
export type ModelVersionCardBody = z.infer<typeof modelVersionCardSchema>;
const personSchema = z.object({ userId: z.string(), userName: z.string(), role: roleSchema });
const signatureMeaningSchema = z.enum(SIGNATURE_MEANINGS);
const gateNameSchema = z.enum(GATES);

/** A release request with the protocol it pinned, what it still needs, and its signatures with name, role, meaning and time. */
export const releaseViewSchema = z.object({
  request: z.object({
    requestId: z.string(),
    changeType: z.enum(CHANGE_TYPES),
    site: z.string(),
    candidateVersionId: sha256Schema,
    baselineVersionId: sha256Schema.nullable(),
    protocolSha256: sha256Schema,
    requestedBy: personSchema,
    state: z.enum(RELEASE_STATES),
    gates: z.array(z.object({ gate: gateNameSchema, passed: z.boolean(), evidenceSha256: sha256Schema, summary: z.string(), at: z.string() })).readonly(),
    signatures: z.array(z.object({ signer: personSchema, meaning: signatureMeaningSchema, at: z.string() })).readonly(),
    canaryFraction: z.number().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  }),
  protocol: releaseProtocolSchema,
  missingApprovals: z.array(z.object({ role: z.string(), meaning: signatureMeaningSchema })).readonly(),
  pendingGates: z.array(gateNameSchema).readonly(),
  validationDataSha256: sha256Schema.nullable(),
});
export type ReleaseViewBody = z.infer<typeof releaseViewSchema>;
/** `GET /api/releases`. */
export const releaseListSchema = z.object({ releases: z.array(releaseViewSchema).readonly() });
export type ReleaseListBody = z.infer<typeof releaseListSchema>;

/** POST /api/releases: the requester is the caller. `candidate`: a registered version id or a unique prefix (8+ hex digits). */
export const createReleaseRequestSchema = z.strictObject({
  changeType: z.enum(CHANGE_TYPES),
  site: z.string().min(1).max(64),
  candidate: z.string().regex(/^[0-9a-fA-F]{8,64}$/, 'a version id: 8 to 64 hex digits'),
});

/** POST /api/releases/{id}/gates: the validation dataset (a `vigil evaluate` spec on the server) for the criteria and non-inferiority gates. */
export const runGatesRequestSchema = z.strictObject({
  dataset: z.string().min(1).max(1024).optional(),
  declared: z
    .strictObject({
      modality: z.string().min(1).max(16).optional(),
      bodyPartExamined: z.string().min(1).max(64).optional(),
      viewPosition: z.string().min(1).max(16).optional(),
      patientAgeYears: patientAgeYearsSchema.optional(),
    })
    .optional(),
});

export const gateRunSchema = z.object({
  release: releaseViewSchema,
  ran: z.array(z.object({ gate: gateNameSchema, passed: z.boolean(), evidenceSha256: sha256Schema, summary: z.string() })).readonly(),
  /** The shadow gate's wait: how many studies were compared so far, of how many the protocol asks. */
  waiting: z.string().nullable(),
});
export type GateRunBody = z.infer<typeof gateRunSchema>;

/** POST /api/releases/{id}/sign: the caller signs, authenticating again with their password, or (token-only users) a token issued in the last 5 minutes. */
export const signReleaseRequestSchema = z.union([
  z.strictObject({ meaning: signatureMeaningSchema, password: z.string().min(1).max(1024) }),
  z.strictObject({ meaning: signatureMeaningSchema, token: z.string().min(1).max(100) }),
]);

export const canaryRequestSchema = z.strictObject({ fraction: z.number().min(CANARY_FRACTION_MIN).max(CANARY_FRACTION_MAX) });

/** What judges a site: production, history (rollback restores the last), the candidate beside it, and a pause. */
export const siteDeploymentSchema = z.object({
  site: z.string(),
  production: sha256Schema.nullable(),
  productionRequestId: z.string().nullable(),
  history: z.array(sha256Schema).readonly(),
  /** Beside `history`, entry for entry: the request that had put each earlier version in production (null: none). */
  historyRequestIds: z.array(z.string().nullable()).readonly(),
  candidate: z
    .object({ versionId: sha256Schema, mode: z.enum(['shadow', 'canary']), fraction: z.number().nullable(), requestId: z.string().nullable() })
    .nullable(),
  paused: z.object({ reason: z.string(), by: z.string(), at: z.string() }).nullable(),
  generation: z.number().int(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type SiteDeploymentBody = z.infer<typeof siteDeploymentSchema>;
/** `GET /api/deployments`. */
export const deploymentListSchema = z.object({ deployments: z.array(siteDeploymentSchema).readonly() });
export type DeploymentListBody = z.infer<typeof deploymentListSchema>;

const citationSchema = z.object({ auditId: z.string(), time: z.string() });
const ledgerReleaseSchema = z.object({
  requestId: z.string(),
  changeType: z.string(),
  requestedBy: z.string(),
  requesterRole: z.string(),
  citation: citationSchema,
});
const ledgerApprovalSchema = z.object({
  signerName: z.string(),
  role: z.string(),
  meaning: z.string(),
  reauthenticatedBy: z.string(),
  citation: citationSchema,
});
/** Which version judged a site's studies at a time, and who approved it (workflows/deployment-ledger.ts), each part citing its audit entry. */
export const ledgerAnswerSchema = z.object({
  site: z.string(),
  at: z.string(),
  deployment: z
    .object({
      change: z.string(),
      changedBy: z.string(),
      generation: z.number().int(),
      production: sha256Schema.nullable(),
      candidate: z
        .object({ versionId: sha256Schema, mode: z.enum(['shadow', 'canary']), fraction: z.number().nullable(), requestId: z.string().nullable() })
        .nullable(),
      pausedReason: z.string().nullable(),
      citation: citationSchema,
    })
    .nullable(),
  model: z.object({ id: z.string(), version: z.string(), sha256: sha256Schema, versionId: sha256Schema.optional() }).nullable(),
  release: ledgerReleaseSchema.nullable(),
  approvals: z.array(ledgerApprovalSchema).readonly(),
  /** The candidate's request (a canary judges a share of the studies) and its signatures. */
  candidateRelease: ledgerReleaseSchema.nullable(),
  candidateApprovals: z.array(ledgerApprovalSchema).readonly(),
});
export type LedgerAnswerBody = z.infer<typeof ledgerAnswerSchema>;
export const ledgerQuerySchema = z.strictObject({ at: z.iso.datetime({ offset: true }).optional() });

/** The reason: one line, ≤ 500 characters, no control, bidi or invisible formatting characters (domain/human-text.ts, the same rule as `vigil deploy pause --reason`). */
export const pauseRequestSchema = z.strictObject({ reason: PAUSE_REASON });

/** `POST /api/jobs/{jobId}/retry`: the dead-lettered job is ready again. */
export const jobRetriedSchema = z.object({ jobId: z.number(), state: z.literal('ready') });
export type JobRetriedBody = z.infer<typeof jobRetriedSchema>;

/** A point estimate with its confidence interval (null where the report has none). */
const estimate = z.object({ value: z.number().nullable(), ciLow: z.number().nullable(), ciHigh: z.number().nullable() }).nullable();
const reportListing = z.object({
  name: z.string(),
  createdAt: z.string().nullable(),
  summary: z.object({
    schema: z.string().nullable(),
    model: z.object({ id: z.string().nullable(), version: z.string().nullable(), finding: z.string().nullable() }).nullable(),
    dataset: z.string().nullable(),
    n: z.number().nullable(),
    auroc: estimate,
    sensitivity: estimate,
    specificity: estimate,
    ece: estimate,
    referRate: estimate,
    criteriaPassed: z.boolean().nullable(),
  }),
});
const unknownGrade = z.enum(['warn', 'reject']);
/** `GET /api/models/current/card`: the model page (manifest, intended use, model card, evaluation reports). */
export const modelCardSchema = z.object({
  manifest: manifestSchema,
  intendedUse: z.custom<IntendedUse>(isObject).meta({ type: 'object', description: "The manifest's intended use." }),
  /** What the gate says when a value this model restricts is unknown, per check, as the manifest's defaults resolve. */
  whenUnknown: z.object({ modality: unknownGrade, bodyPart: unknownGrade, view: unknownGrade, patientAge: unknownGrade }),
  modelCard: z.string().nullable(),
  reports: z.array(reportListing),
});

export type ModelCardBody = z.infer<typeof modelCardSchema>;
export type ReportListingBody = ModelCardBody['reports'][number];

const counts = z.record(z.string(), z.number());
/** `GET /api/system/summary`: the health page (the same numbers /api/metrics exposes, and more). */
export const systemSummarySchema = z.object({
  time: z.string(),
  version: z.string(),
  uptimeSeconds: z.number(),
  dicomAddress: z.string().nullable(),
  freeDiskBytes: z.number(),
  queue: z.object({
    byState: counts,
    byKind: z.array(z.object({ kind: z.string(), state: z.string(), count: z.number() })),
    deadLetters: z.array(
      z.object({
        jobId: z.number(),
        kind: z.string(),
        attempts: z.number(),
        errorCode: z.string().nullable(),
        errorMessage: z.string().nullable(),
        updatedAt: z.string(),
      }),
    ),
  }),
  last24h: z.object({
    images: z.number(),
    /** Images `vigil predict` judged on the same store; not in the other counts. */
    commandLineImages: z.number(),
    gateRejected: z.number(),
    byGateVerdict: counts,
    byDecision: counts,
    referRate: z.number().nullable(),
    resultLatencyMs: z.object({ count: z.number(), p50: z.number().nullable(), p95: z.number().nullable() }),
  }),
});
export type SystemSummaryBody = z.infer<typeof systemSummarySchema>;

/** Request bodies as a client sends them (before defaults and coercion). */
export type CreateUserRequest = z.input<typeof createUserRequestSchema>;
export type UpdateUserRequest = z.input<typeof updateUserRequestSchema>;
export type IssueTokenRequest = z.input<typeof issueTokenRequestSchema>;
export type RotateTokenRequest = z.input<typeof rotateTokenRequestSchema>;
export type ReviewRequest = z.input<typeof reviewRequestSchema>;
export type SignInRequest = z.input<typeof signInRequestSchema>;
export type SetPasswordRequest = z.input<typeof setPasswordRequestSchema>;
export type CreateReleaseRequest = z.input<typeof createReleaseRequestSchema>;
export type RunGatesRequest = z.input<typeof runGatesRequestSchema>;
export type SignReleaseRequest = z.input<typeof signReleaseRequestSchema>;
export type CanaryRequest = z.input<typeof canaryRequestSchema>;
export type PauseRequest = z.input<typeof pauseRequestSchema>;
/** A query string as a client writes it: a field the route coerces to a number (its input type `unknown`) is sent as a number. */
type ClientQuery<Query> = { [K in keyof Query]: unknown extends Query[K] ? number | undefined : Query[K] };
export type WorklistQuery = ClientQuery<z.input<typeof worklistQuerySchema>>;
export type AuditEntriesQueryInput = ClientQuery<z.input<typeof auditEntriesQuerySchema>>;
export type StudyListQuery = ClientQuery<z.input<typeof studyListQuerySchema>>;

// ── Monitoring and incidents (docs/monitoring.md, "In the server") ──────────────────────────────────

/** A site id in a path or query. */
export const siteIdSchema = z.string().min(1).max(64);
/** An incident's note: trimmed, 1 to 2,000 characters, line breaks allowed, no control, bidi or invisible formatting characters (domain/human-text.ts; never logged). */
export const incidentTextSchema = INCIDENT_NOTE;
/** A postmortem: what happened, why, what was done. Up to 20,000 characters, by the same human-text rule. */
export const postmortemSchema = POSTMORTEM;

const deviceSchema = z.object({ manufacturer: z.string().nullable(), model: z.string().nullable() });

/** A deployment's monitors now: collecting its baseline, or watching with the worst detector's progress towards its threshold. */
export const monitorStatusSchema = z.object({
  site: z.string(),
  versionId: sha256Schema.nullable(),
  /** `production` or `canary` (a canary candidate is monitored under its own key). */
  role: z.enum(['production', 'canary']),
  state: z.enum(['not_deployed', 'collecting_baseline', 'monitoring']),
  /** "collecting baseline n/N" while a production baseline window fills; null once designed (or with a version reference). */
  baseline: z.object({ collected: z.number().int(), needed: z.number().int() }).nullable(),
  reference: z.object({ kind: z.enum(['version', 'baseline']), cases: z.number().int() }).nullable(),
  cases: z.number().int(),
  /** Cases consumed by the detectors (≤ cases: the rest are consumed by the next update). */
  consumed: z.number().int(),
  lastCaseAt: z.string().nullable(),
  /** The detector nearest its threshold: statistic / h (≥ 1 means it alarmed on its last case). */
  nearest: z.object({ detector: z.string(), label: z.string(), fractionOfThreshold: z.number() }).nullable(),
  alerts: z.number().int(),
  lastAlertAt: z.string().nullable(),
  openIncident: z.object({ incidentId: z.string(), severity: z.enum(['medium', 'high']), state: z.enum(['open', 'acknowledged', 'resolved']) }).nullable(),
  pausedReason: z.string().nullable(),
});
export type MonitorStatusBody = z.infer<typeof monitorStatusSchema>;

/** Operations beside the monitors (workflows/system-summary.ts): time to result, errors, queue depth, dead letters. */
export const operationsSignalsSchema = z.object({
  last24h: z.object({
    images: z.number().int(),
    gateRejected: z.number().int(),
    resultLatencyMs: z.object({ count: z.number().int(), p50: z.number().nullable(), p95: z.number().nullable() }),
  }),
  queueDepth: z.number().int(),
  deadLetters: z.number().int(),
});

/** GET /api/monitoring */
export const monitoringOverviewSchema = z.object({
  time: z.string(),
  design: z.object({ falseAlarmDays: z.number(), casesPerDay: z.number(), baselineCases: z.number().int() }),
  deployments: z.array(monitorStatusSchema).readonly(),
  operations: operationsSignalsSchema,
});
export type MonitoringOverviewBody = z.infer<typeof monitoringOverviewSchema>;

/** One detector of a plan: its threshold h and in-control ARL, and its statistic now. */
export const monitorDetectorSchema = z.object({
  id: z.string(),
  signal: z.string(),
  label: z.string(),
  direction: z.enum(['up', 'down']),
  /** `embedding-mmd`: the online MMD on the embedding summary; its `h` is the threshold at its current step, `arl0` its ERT. */
  kind: z.enum(['continuous', 'indicator', 'embedding-mmd']),
  h: z.number(),
  arl0: z.number().nullable(),
  statistic: z.number(),
  /** Indicators: the reference rate. */
  p0: z.number().nullable(),
});
export type MonitorDetectorBody = z.infer<typeof monitorDetectorSchema>;

const alertEffectSchema = z.union([
  z.object({ kind: z.literal('mean-normal-score'), value: z.number(), cases: z.number().int() }),
  z.object({ kind: z.literal('rate'), observed: z.number(), reference: z.number(), cases: z.number().int() }),
  /** The embedding detector: MMD² between the window's summaries (`cases` of them, at most `windowSize`) and the reference's. */
  z.object({ kind: z.literal('embedding-mmd'), value: z.number(), cases: z.number().int(), windowSize: z.number().int() }),
]);

/** An alert (§2): the statistic, the effect size, the window, the run length and ARL, what else moved, the site and devices, example cases. */
export const monitorAlertSchema = z.object({
  alertId: z.string(),
  site: z.string(),
  versionId: sha256Schema,
  detector: z.string(),
  signal: z.string(),
  label: z.string(),
  direction: z.enum(['up', 'down']),
  statistic: z.number(),
  threshold: z.number(),
  arl0: z.number().nullable(),
  runLength: z.number().int(),
  effect: alertEffectSchema,
  /** The alert in one sentence (e.g. "confident positives reviewed wrong: 5 of 29 reviews in the window, reference 2.0%"). */
  summary: z.string(),
  /** `startCase`/`alarmCase`: the detector's own case count; `alarmSeq`: the alarm case's seq (as a series bucket's firstSeq..lastSeq and …/cases?after=). */
  window: z.object({
    startCase: z.number().int(),
    alarmCase: z.number().int(),
    alarmSeq: z.number().int(),
    startAt: z.string().nullable(),
    alarmAt: z.string().nullable(),
  }),
  contributors: z.array(z.object({ detector: z.string(), label: z.string(), fractionOfThreshold: z.number() })).readonly(),
  devices: z.array(deviceSchema.extend({ cases: z.number().int() })).readonly(),
  exampleCaseIds: z.array(z.string()).readonly(),
  incidentId: z.string().nullable(),
  createdAt: z.string(),
});
export type MonitorAlertBody = z.infer<typeof monitorAlertSchema>;
/** GET /api/monitoring/alerts */
export const monitorAlertListSchema = z.object({ alerts: z.array(monitorAlertSchema).readonly() });

/**
 * One bucket of a signal's time series: the mean normal score (continuous) or the rate (indicator) of its
 * n cases that have the signal; `firstSeq`..`lastSeq` are the bucket's cases (GET …/cases?after=firstSeq−1).
 */
export const signalBucketSchema = z.object({
  start: z.string(),
  n: z.number().int(),
  value: z.number().nullable(),
  firstSeq: z.number().int(),
  lastSeq: z.number().int(),
});
export const signalSeriesSchema = z.object({
  signal: z.string(),
  label: z.string(),
  kind: z.enum(['continuous', 'indicator']),
  /** What `value` is: `mean-normal-score` (0 in control, in reference SDs) or `rate`. */
  measure: z.enum(['mean-normal-score', 'rate']),
  /** Indicators: the reference rate, for the chart's line. */
  reference: z.number().nullable(),
  buckets: z.array(signalBucketSchema).readonly(),
});
export type SignalSeriesBody = z.infer<typeof signalSeriesSchema>;

/**
 * Time series buckets: by `hour` or `day`, or by 50 cases (`cases50`: a dense stream — hundreds of cases in
 * minutes — still draws one point per 50 cases; every bucket is listed, `value` null when none of its cases has the signal).
 */
export const seriesBucketSchema = z.enum(['hour', 'day', 'cases50']);
/** GET /api/monitoring/{site}?bucket=hour|day|cases50 */
export const monitoringDetailQuerySchema = z.strictObject({ bucket: seriesBucketSchema.default('hour') });
/** A rate estimated from weighted reviews: estimate with its Wilson interval at the effective n (null: no case in its denominator). */
export const weightedRateSchema = z.object({
  estimate: z.number().nullable(),
  low: z.number().nullable(),
  high: z.number().nullable(),
  standardError: z.number().nullable(),
  effectiveN: z.number().nullable(),
  /** Reviewed images in the denominator (unweighted). */
  reviewed: z.number().int(),
});
/** A rate estimated without labels: the interval is the labels' sampling given the scores (null: no case in its denominator). */
export const estimatedRateSchema = z.object({
  estimate: z.number().nullable(),
  low: z.number().nullable(),
  high: z.number().nullable(),
  standardError: z.number().nullable(),
  /** Images in the denominator. */
  cases: z.number().int(),
});
/** Confidence-based performance estimation (CBPE) from the calibrated probabilities of the decided images. */
export const labelFreePerformanceSchema = z.object({
  /** Images decided positive or negative. */
  decided: z.number().int(),
  rates: z.object({
    sensitivity: estimatedRateSchema,
    specificity: estimatedRateSchema,
    ppv: estimatedRateSchema,
    npv: estimatedRateSchema,
    prevalence: estimatedRateSchema,
  }),
  /** What the estimate assumes and where it fails. */
  assumption: z.string(),
});
/**
 * Performance from reviews over the deployment's newest cases (docs/monitoring.md, "Performance from
 * reviews"): each reviewed image weighted by 1 / the probability it was reviewed.
 */
export const reviewedPerformanceSchema = z.object({
  /** Reads used (worklist items with a finding present or absent). */
  reviews: z.number().int(),
  /** Reviewed images (a study's read covers its monitored images). */
  reviewed: z.number().int(),
  sampleRate: z.number(),
  rates: z
    .object({
      sensitivity: weightedRateSchema,
      specificity: weightedRateSchema,
      ppv: weightedRateSchema,
      npv: weightedRateSchema,
      prevalence: weightedRateSchema,
      referRate: weightedRateSchema,
    })
    .nullable(),
  calibration: z
    .object({
      /** Weighted mean probability − weighted observed rate, with a normal interval. */
      inTheLarge: z.object({ estimate: z.number().nullable(), low: z.number().nullable(), high: z.number().nullable() }),
      ece: z.number().nullable(),
      reviewed: z.number().int(),
    })
    .nullable(),
  /** Review-based CUSUMs in the plan: not without reference error rates (labels), and why. */
  reviewMonitors: z.object({ included: z.boolean(), reason: z.string() }),
  /** The label-free estimate (CBPE) over the same cases, with what it assumes (docs/monitoring.md, "Performance without labels"). */
  labelFree: labelFreePerformanceSchema,
});

export const monitoringDetailSchema = z.object({
  status: monitorStatusSchema,
  plan: z
    .object({
      planHash: z.string(),
      falseAlarmDays: z.number(),
      casesPerDay: z.number(),
      familyArl0: z.number(),
      detectorArl0: z.number(),
      /** Why the plan watches no acquisition metadata (null when it does: its `acquisition.*` detectors). */
      acquisitionNote: z.string().nullable(),
      /** Why the plan has no embedding detector (online MMD), when it has none. */
      embeddingNote: z.string().nullable(),
      /** Why the plan has no review detectors (null when it has them: its `reviewWrong:*` detectors). */
      reviewNote: z.string().nullable(),
      detectors: z.array(monitorDetectorSchema).readonly(),
    })
    .nullable(),
  alerts: z.array(monitorAlertSchema).readonly(),
  performance: reviewedPerformanceSchema,
  bucket: seriesBucketSchema,
  /** Over the deployment's newest cases (at most `seriesCases`). */
  seriesCases: z.number().int(),
  series: z.array(signalSeriesSchema).readonly(),
});
export type MonitoringDetailBody = z.infer<typeof monitoringDetailSchema>;

/** GET /api/monitoring/{site}/cases?signal=&from=&to=&after=&limit= : the cases behind a chart's point. */
export const monitorCasesQuerySchema = orderedRange(
  orderedRange(
    z.strictObject({
      signal: z.string().min(1).max(64).optional(),
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }).optional(),
      /** The `next` of the previous page (a cursor: the last seq it held), or a chart point's `firstSeq` − 1. */
      after: z.coerce.number().int().min(0).optional(),
      /** Only cases up to this seq: a chart point's `lastSeq`, so paging stops at the point's last case. */
      through: z.coerce.number().int().min(0).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    'from',
    'to',
  ),
  'after',
  'through',
);
export const monitorCaseSchema = z.object({
  seq: z.number().int(),
  caseId: z.string(),
  studyKey: z.string(),
  imageRef: z.string(),
  origin: z.enum(['production', 'canary']),
  at: z.string(),
  device: deviceSchema.nullable(),
  /** Per signal: the value (null: none). With `signal`, only that one. */
  values: z.record(z.string(), z.number().nullable()),
});
/** A page of cases; `next` is the cursor of the following page (pass it as `after`), null when no case follows. */
export const monitorCasesPageSchema = z.object({ cases: z.array(monitorCaseSchema).readonly(), next: z.number().int().nullable() });
export type MonitorCasesPageBody = z.infer<typeof monitorCasesPageSchema>;

export const incidentSchema = z.object({
  incidentId: z.string(),
  site: z.string(),
  versionId: sha256Schema,
  state: z.enum(['open', 'acknowledged', 'resolved']),
  severity: z.enum(['medium', 'high']),
  /** The owner's user id (null: nobody yet), and that account's login name (null when no account has the id any more). */
  owner: z.string().nullable(),
  ownerName: z.string().nullable(),
  title: z.string(),
  alertIds: z.array(z.string()).readonly(),
  alertCount: z.number().int(),
  timeline: z
    .array(
      z.object({
        kind: z.string(),
        at: z.string(),
        /** Who acted: a user id, `monitoring` (opened it) or `local-cli` (the host's command line); null for an alert. */
        by: z.string().nullable(),
        /** The same by name: the account's login name, or `monitoring` / `local-cli`; null for an alert or an id no account has. */
        byName: z.string().nullable(),
        /** The text: a note, a reason, a postmortem, or for `assign` the new owner's user id (its name in `assigneeName`). */
        text: z.string().nullable(),
        assigneeName: z.string().nullable(),
        alertId: z.string().nullable(),
        detector: z.string().nullable(),
      }),
    )
    .readonly(),
  postmortem: z.string().nullable(),
  openedAt: z.string(),
  updatedAt: z.string(),
  resolvedAt: z.string().nullable(),
  revision: z.number().int(),
});
export type IncidentBody = z.infer<typeof incidentSchema>;
/** GET /api/incidents */
export const incidentListSchema = z.object({ incidents: z.array(incidentSchema).readonly() });
export type IncidentListBody = z.infer<typeof incidentListSchema>;
export const incidentDetailSchema = z.object({ incident: incidentSchema, alerts: z.array(monitorAlertSchema).readonly() });
export type IncidentDetailBody = z.infer<typeof incidentDetailSchema>;
export const incidentListQuerySchema = listQuerySchema.extend({
  state: z.enum(['open', 'acknowledged', 'resolved']).optional(),
  site: siteIdSchema.optional(),
});

/** POST /api/incidents/{id}/{action} bodies. */
export const incidentActionBodySchemas = {
  acknowledge: z.strictObject({}),
  assign: z.strictObject({ owner: INCIDENT_OWNER }),
  note: z.strictObject({ text: incidentTextSchema }),
  pause: z.strictObject({ reason: INCIDENT_PAUSE_REASON }),
  rollback: z.strictObject({ reason: INCIDENT_REASON }),
  resolve: z.strictObject({ postmortem: postmortemSchema }),
} as const;
