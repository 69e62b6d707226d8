/**
 * A small typed client over the platform's fetch. The session lives in an HttpOnly cookie the
 * browser sends by itself (same origin); unsafe requests add the session's CSRF token as a header,
 * which a cross-site page cannot read and so cannot forge.
 */
import type {
  AuditEntriesPageBody,
  AuditEntryBody,
  AuditQuery,
  AuditVerificationBody,
  CaseBody,
  Credentials,
  CreateUserRequest,
  DeploymentListBody,
  ErrorBody,
  InclusionProofBody,
  IssuedTokenBody,
  IssueTokenRequest,
  JobRetriedBody,
  LedgerAnswerBody,
  ModelCardBody,
  ModelSummaryBody,
  ModelVersionBody,
  NewTokenBody,
  PauseBody,
  ReleaseListBody,
  ReleaseViewBody,
  ReviewBody,
  ReviewListBody,
  ReviewRead,
  RotatedTokenBody,
  Session,
  SignReleaseBody,
  SiteDeploymentBody,
  StudyListBody,
  StudyWithCases,
  SystemSummaryBody,
  UpdatedUserBody,
  UpdateUserRequest,
  UserListBody,
  UserTokensBody,
  WorklistItemDetailBody,
  WorklistPageBody,
  WorklistQuery,
  IncidentActionBodies,
  IncidentActionName,
  IncidentListBody,
  IncidentDetailBody,
  MonitorCasesPageBody,
  MonitoringDetailBody,
  MonitoringOverviewBody,
  SeriesBucket,
} from './types.js';

/** An error response from the API, with its catalogue code (docs/errors.md). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    /** Seconds to wait, from Retry-After (429). */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;
let onUnauthorized: (() => void) | undefined;

/** The session's CSRF token, sent with every unsafe request. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when a request other than the log-in gets 401: the session has expired or was ended. */
export function setUnauthorizedHandler(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}

async function request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== undefined) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'NETWORK_UNREACHABLE', 'The server cannot be reached. Check the connection and try again.', undefined, undefined);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json: unknown = text === '' ? undefined : safeJson(text);
  if (!response.ok) {
    const error = json as Partial<ErrorBody> | undefined;
    const retryAfter = Number(response.headers.get('retry-after'));
    const apiError = new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? response.statusText,
      error?.requestId ?? response.headers.get('x-request-id') ?? undefined,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
    if (response.status === 401 && path !== '/api/session') onUnauthorized?.();
    throw apiError;
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

const id = encodeURIComponent;

export type { Credentials, WorklistQuery } from './types.js';

export interface ImageView {
  /** Longest side in pixels. */
  readonly size?: number;
  /** Window centre and width, in the image's modality units; both or neither. */
  readonly wc?: number;
  readonly ww?: number;
}

/** The window the server rendered with (`x-vigil-window: <source>;center=<c>;width=<w>`). */
export interface RenderedWindow {
  readonly source: string;
  readonly center: number;
  readonly width: number;
}

export interface CaseImage {
  readonly blob: Blob;
  readonly window: RenderedWindow | undefined;
  /** Why the pixels may show burned-in text (de-identification cleans headers, not pixels); empty when none. */
  readonly burnedInRisks: readonly string[];
}

function parseWindow(header: string | null): RenderedWindow | undefined {
  const match = /^([^;]*);center=(-?[\d.e+-]+);width=([\d.e+-]+)$/.exec(header ?? '');
  if (match === null) return undefined;
  const center = Number(match[2]);
  const width = Number(match[3]);
  return Number.isFinite(center) && Number.isFinite(width) ? { source: match[1] ?? '', center, width } : undefined;
}

/** The case's image as a PNG blob, with the headers that say how it was rendered. */
async function caseImage(caseId: string, index: number, view: ImageView, signal?: AbortSignal): Promise<CaseImage> {
  const path = `/api/cases/${id(caseId)}/images/${index}${query({ size: view.size, wc: view.wc, ww: view.ww })}`;
  const response = await fetch(path, { credentials: 'same-origin', ...(signal === undefined ? {} : { signal }) });
  if (!response.ok) {
    const error = safeJson(await response.text()) as Partial<ErrorBody> | undefined;
    if (response.status === 401) onUnauthorized?.();
    throw new ApiError(response.status, error?.code ?? `HTTP_${response.status}`, error?.message ?? response.statusText, error?.requestId, undefined);
  }
  const risk = response.headers.get('x-vigil-burned-in-risk') ?? 'none';
  return {
    blob: await response.blob(),
    window: parseWindow(response.headers.get('x-vigil-window')),
    burnedInRisks: risk === 'none' || risk === '' ? [] : risk.split(','),
  };
}

export const api = {
  logIn: (credentials: Credentials) => request<Session>('POST', '/api/session', credentials),
  currentSession: () => request<Session>('GET', '/api/session'),
  logOut: () => request<undefined>('DELETE', '/api/session'),

  worklist: (q: WorklistQuery, signal?: AbortSignal) => request<WorklistPageBody>('GET', `/api/worklist${query({ ...q })}`, undefined, signal),
  worklistItem: (itemId: string, signal?: AbortSignal) => request<WorklistItemDetailBody>('GET', `/api/worklist/${id(itemId)}`, undefined, signal),
  review: (itemId: string, read: ReviewRead) => request<ReviewBody>('POST', `/api/worklist/${id(itemId)}/review`, read),
  reviews: (signal?: AbortSignal) => request<ReviewListBody>('GET', '/api/reviews?limit=500', undefined, signal),

  studies: (limit: number, signal?: AbortSignal) => request<StudyListBody>('GET', `/api/studies${query({ limit })}`, undefined, signal),
  study: (studyKey: string, signal?: AbortSignal) => request<StudyWithCases>('GET', `/api/studies/${id(studyKey)}`, undefined, signal),
  case: (caseId: string, signal?: AbortSignal) => request<CaseBody>('GET', `/api/cases/${id(caseId)}`, undefined, signal),
  caseImage,

  model: (signal?: AbortSignal) => request<ModelSummaryBody>('GET', '/api/models/current', undefined, signal),
  modelCard: (signal?: AbortSignal) => request<ModelCardBody>('GET', '/api/models/current/card', undefined, signal),
  reportUrl: (name: string) => `/api/models/current/reports/${id(name)}`,
  reportChartUrl: (name: string, kind: 'roc' | 'reliability') => `/api/models/current/reports/${id(name)}/charts/${kind}`,

  auditEntries: (q: AuditQuery, signal?: AbortSignal) => request<AuditEntriesPageBody>('GET', `/api/audit/entries${query({ ...q })}`, undefined, signal),
  auditEntry: (auditId: string, signal?: AbortSignal) => request<AuditEntryBody>('GET', `/api/audit/entries/${id(auditId)}`, undefined, signal),
  auditVerify: (signal?: AbortSignal) => request<AuditVerificationBody>('GET', '/api/audit/verify', undefined, signal),
  auditProof: (auditId: string, signal?: AbortSignal) => request<InclusionProofBody>('GET', `/api/audit/entries/${id(auditId)}/proof`, undefined, signal),

  systemSummary: (signal?: AbortSignal) => request<SystemSummaryBody>('GET', '/api/system/summary', undefined, signal),
  users: (signal?: AbortSignal) => request<UserListBody>('GET', '/api/users', undefined, signal),
  createUser: (user: CreateUserRequest) => request<IssuedTokenBody>('POST', '/api/users', user),
  updateUser: (userId: string, change: UpdateUserRequest) => request<UpdatedUserBody>('PATCH', `/api/users/${id(userId)}`, change),
  userTokens: (userId: string, signal?: AbortSignal) => request<UserTokensBody>('GET', `/api/users/${id(userId)}/tokens`, undefined, signal),
  issueToken: (userId: string, body: IssueTokenRequest) => request<NewTokenBody>('POST', `/api/users/${id(userId)}/tokens`, body),
  revokeToken: (userId: string, tokenId: string) => request<undefined>('DELETE', `/api/users/${id(userId)}/tokens/${id(tokenId)}`),
  rotateToken: (userId: string, tokenId: string, overlapSeconds: number) =>
    request<RotatedTokenBody>('POST', `/api/users/${id(userId)}/tokens/${id(tokenId)}/rotate`, { overlapSeconds }),
  modelVersion: (versionId: string, signal?: AbortSignal) => request<ModelVersionBody>('GET', `/api/models/versions/${id(versionId)}`, undefined, signal),

  deployments: (signal?: AbortSignal) => request<DeploymentListBody>('GET', '/api/deployments', undefined, signal),
  pauseSite: (site: string, body: PauseBody) => request<SiteDeploymentBody>('POST', `/api/deployments/${id(site)}/pause`, body),
  resumeSite: (site: string) => request<SiteDeploymentBody>('POST', `/api/deployments/${id(site)}/resume`),
  rollBackSite: (site: string) => request<SiteDeploymentBody>('POST', `/api/deployments/${id(site)}/rollback`),
  /** `at`: an ISO 8601 instant. */
  ledger: (site: string, at: string, signal?: AbortSignal) =>
    request<LedgerAnswerBody>('GET', `/api/deployments/${id(site)}/ledger${query({ at })}`, undefined, signal),
  releases: (signal?: AbortSignal) => request<ReleaseListBody>('GET', '/api/releases?limit=200', undefined, signal),
  release: (requestId: string, signal?: AbortSignal) => request<ReleaseViewBody>('GET', `/api/releases/${id(requestId)}`, undefined, signal),
  evidenceUrl: (requestId: string, sha256: string) => `/api/releases/${id(requestId)}/evidence/${id(sha256)}`,
  /** The password travels in this one request body and is kept nowhere (the caller clears its field). */
  signRelease: (requestId: string, body: SignReleaseBody) => request<ReleaseViewBody>('POST', `/api/releases/${id(requestId)}/sign`, body),

  monitoring: (signal?: AbortSignal) => request<MonitoringOverviewBody>('GET', '/api/monitoring', undefined, signal),
  monitoringDetail: (site: string, bucket: SeriesBucket, signal?: AbortSignal) =>
    request<MonitoringDetailBody>('GET', `/api/monitoring/${id(site)}${query({ bucket })}`, undefined, signal),
  /** The cases behind a chart's point: after a seq (the bucket's first − 1, then the previous page's `next`) through the bucket's last, at most `limit`. */
  monitoringCases: (
    site: string,
    q: { readonly signal?: string; readonly after?: number; readonly through?: number; readonly limit?: number },
    signal?: AbortSignal,
  ) => request<MonitorCasesPageBody>('GET', `/api/monitoring/${id(site)}/cases${query({ ...q })}`, undefined, signal),
  incidents: (q: { readonly state?: string; readonly site?: string; readonly limit?: number }, signal?: AbortSignal) =>
    request<IncidentListBody>('GET', `/api/incidents${query({ ...q })}`, undefined, signal),
  incident: (incidentId: string, signal?: AbortSignal) => request<IncidentDetailBody>('GET', `/api/incidents/${id(incidentId)}`, undefined, signal),
  incidentAction: <A extends IncidentActionName>(incidentId: string, action: A, body: IncidentActionBodies[A]) =>
    // Acknowledge takes no body (the server refuses one where a route reads none).
    request<unknown>('POST', `/api/incidents/${id(incidentId)}/${action}`, action === 'acknowledge' ? undefined : body),
  retryJob: (jobId: number) => request<JobRetriedBody>('POST', `/api/jobs/${jobId}/retry`),
};
