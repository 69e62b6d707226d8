/**
 * What the dashboard reads from and sends to the API: every shape is the server's own, imported from
 * src/http/contract.ts (types only: nothing of the server reaches the bundle). Names here are aliases
 * for the screens' convenience, never copies.
 */
import type {
  AuditEntriesQueryInput,
  CaseGateBody,
  CaseResultBody,
  PauseRequest,
  ReportListingBody,
  ReviewBody,
  SessionBody,
  SignInRequest,
  SignReleaseRequest,
  StudyWithCasesBody,
  WorklistItemBody,
} from '../../../src/http/contract.js';
import type { Role } from '../../../src/domain/access/roles.js';
export type {
  IncidentBody,
  IncidentListBody,
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
import type { z } from 'zod';

export type {
  AuditEntriesPageBody,
  AuditEntryBody,
  AuditVerificationBody,
  CaseBody,
  CreateUserRequest,
  CaseGateBody,
  CaseResultBody,
  ErrorBody,
  FindingPolicyBody,
  GateCheckBody,
  GateReasonBody,
  ImageSummary,
  InclusionProofBody,
  IssuedTokenBody,
  IssueTokenRequest,
  JobRetriedBody,
  LedgerAnswerBody,
  ModelCardBody,
  ModelSummaryBody,
  ModelVersionBody,
  ModelVersionCardBody,
  ModelVersionListBody,
  NewTokenBody,
  DeploymentListBody,
  ReleaseListBody,
  ReleaseViewBody,
  ReportListingBody,
  ReviewBody,
  ReviewListBody,
  RotatedTokenBody,
  SiteDeploymentBody,
  StudyBody,
  StudyListBody,
  StudyWithCasesBody,
  SystemSummaryBody,
  TokenBody,
  UpdatedUserBody,
  UpdateUserRequest,
  UserBody,
  UserListBody,
  UserTokensBody,
  WorklistQuery,
  WorklistItemBody,
  WorklistItemDetailBody,
  WorklistPageBody,
} from '../../../src/http/contract.js';
export type { Role };

export type WorklistReason = WorklistItemBody['reasons'][number];
export type WorklistPriority = WorklistItemBody['priority'];
export type ReviewRead = ReviewBody['read'];

export type Session = SessionBody;

export type FindingDecision = CaseResultBody['outputs'][number]['decision'];
export type GateVerdictKind = CaseGateBody['verdict'];

/** One judged image or frame of a case: a case's `results` are passed through as stored, typed `unknown[]` in the contract and documented as CaseResultBody. */
export type CaseResult = CaseResultBody;

export type StudyWithCases = StudyWithCasesBody;

/** A point estimate with its confidence interval in an evaluation report's summary (null where the report has none). */
export type Estimate = ReportListingBody['summary']['auroc'];

/** GET /api/audit/entries' filters and paging. */
export type AuditQuery = AuditEntriesQueryInput;
/** POST /api/session: a user name and password, or an API token. */
export type Credentials = SignInRequest;

/** POST /api/releases/{id}/sign as the dashboard sends it: a meaning and the signer's password, entered again. */
export type SignReleaseBody = Extract<SignReleaseRequest, { password: string }>;
export type SignatureMeaning = SignReleaseBody['meaning'];
/** POST /api/deployments/{site}/pause. */
export type PauseBody = PauseRequest;

/** GET /api/monitoring/{site}?bucket=: how the time series groups cases. */
export type SeriesBucket = z.infer<typeof seriesBucketSchema>;
/** POST /api/incidents/{id}/{action}: each action's body. */
export type IncidentActionBodies = { readonly [K in keyof typeof incidentActionBodySchemas]: z.input<(typeof incidentActionBodySchemas)[K]> };
export type IncidentActionName = keyof IncidentActionBodies;
