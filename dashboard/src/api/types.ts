/**
 * What the dashboard reads from the API. The shapes the server declares in src/http/contract.ts are
 * imported from there (types only: nothing of the server reaches the bundle); `results` of a case is
 * `unknown[]` in the contract, so its shape (the predict workflow's result) is spelled out here.
 */
import type { CaseBody, CaseGateBody, ImageSummary, ReviewBody, SessionBody, StudyBody, WorklistItemBody } from '../../../src/http/contract.js';
export type { NewTokenBody, RotatedTokenBody, TokenBody, UserBody, UserTokensBody } from '../../../src/http/contract.js';
import type { Role } from '../../../src/domain/access/roles.js';
import type { pauseRequestSchema, signReleaseRequestSchema } from '../../../src/http/contract.js';
import type { z } from 'zod';
export type { LedgerAnswerBody, ModelVersionBody, ReleaseViewBody, SiteDeploymentBody } from '../../../src/http/contract.js';
export type {
  IncidentBody,
  IncidentDetailBody,
  MonitorAlertBody,
  MonitorCasesPageBody,
  MonitorDetectorBody,
  MonitoringDetailBody,
  MonitoringOverviewBody,
  MonitorStatusBody,
  SignalSeriesBody,
} from '../../../src/http/contract.js';
import type { incidentActionBodySchemas, seriesBucketSchema } from '../../../src/http/contract.js';

export type {
  AuditEntryBody,
  CaseBody,
  CaseGateBody,
  ErrorBody,
  GateCheckBody,
  GateReasonBody,
  InclusionProofBody,
  ReviewBody,
  StudyBody,
  WorklistItemBody,
  WorklistItemDetailBody,
  WorklistPageBody,
} from '../../../src/http/contract.js';
export type { Role };

export type WorklistReason = WorklistItemBody['reasons'][number];
export type WorklistPriority = WorklistItemBody['priority'];
export type { ImageSummary };
export type ReviewRead = ReviewBody['read'];

export type Session = SessionBody;

export type FindingDecision = 'positive' | 'negative' | 'refer';
export type GateVerdictKind = CaseGateBody['verdict'];

/** One judged image or frame of a case (src/workflows/predict-images.ts, PredictResult). */
export interface CaseResult {
  readonly input: { readonly file: string; readonly frame: number | null };
  readonly studyKey: string | null;
  readonly status: 'decided' | 'rejected' | 'error';
  readonly quality: CaseGateBody | null;
  readonly outputs: readonly { readonly finding: string; readonly probability: number; readonly decision: FindingDecision }[];
  readonly model: { readonly id: string; readonly version: string; readonly sha256: string };
  readonly auditId: string | null;
  readonly error?: { readonly code: string; readonly message: string };
  /** Absent in results judged before Vigil recorded it. */
  readonly image?: ImageSummary;
}

export type StudyWithCases = StudyBody & { readonly cases: CaseBody[] };

/** POST /api/releases/{id}/sign as the dashboard sends it: a meaning and the signer's password, entered again. */
export type SignReleaseBody = Extract<z.input<typeof signReleaseRequestSchema>, { password: string }>;
export type SignatureMeaning = SignReleaseBody['meaning'];
/** POST /api/deployments/{site}/pause. */
export type PauseBody = z.input<typeof pauseRequestSchema>;

/** GET /api/monitoring/{site}?bucket=: how the time series groups cases. */
export type SeriesBucket = z.infer<typeof seriesBucketSchema>;
/** POST /api/incidents/{id}/{action}: each action's body. */
export type IncidentActionBodies = { readonly [K in keyof typeof incidentActionBodySchemas]: z.input<(typeof incidentActionBodySchemas)[K]> };
export type IncidentActionName = keyof IncidentActionBodies;
