/**
 * What the audit trail records. Each event is typed; an entry never holds a patient name, ID, birth
 * date, UID or file path: studies are named by their pseudonymous `studyKey`, pixels by their hash.
 */
export interface ModelIdentity {
  readonly id: string;
  readonly version: string;
  readonly sha256: string;
  /**
   * The registry version id of the bundle that judged (the SHA-256 of its canonical listing: every file,
   * not only the model's): with the site, the deployment key. Absent where no bundle was loaded through
   * the registry's hashing (entries written before it, and identities named in configuration).
   */
  readonly versionId?: string;
  /**
   * False when this version judged nothing: the study was sent to review unjudged (its site paused, no
   * version deployed there, or the model could not be loaded); the identity names the site's deployment
   * at the time, not a judge. Absent: it judged.
   */
  readonly judged?: false;
}

export type GateVerdictKind = 'pass' | 'warn' | 'reject';

export interface AuditedReason {
  readonly code: string;
  readonly verdict: GateVerdictKind;
  readonly measured?: number | string;
  readonly threshold?: number | string;
  /** The gate check that gave it, and whether that check failed or could not be made (absent in entries written before checks were reported). */
  readonly check?: string;
  readonly outcome?: 'failed' | 'unchecked';
  readonly why?: string;
}

/** A gate check that was not made: the value was unknown, the manifest does not require it, or it could not be computed. */
export interface AuditedUncheckedCheck {
  readonly check: string;
  readonly why: 'value_unknown' | 'not_required' | 'not_computable';
}

export interface DecisionEvent {
  readonly type: 'decision';
  readonly studyKey: string;
  /** SHA-256 of the frame's stored pixel bytes. */
  readonly pixelSha256: string;
  readonly frameIndex: number;
  readonly model: ModelIdentity;
  readonly configHash: string;
  readonly gate: {
    readonly verdict: GateVerdictKind;
    readonly reasons: readonly AuditedReason[];
    /** Every check the gate did not make (absent in entries written before checks were reported). */
    readonly unchecked?: readonly AuditedUncheckedCheck[];
  };
  /** Empty when the gate rejected the image (it was not sent to the model). */
  readonly outputs: readonly { readonly finding: string; readonly probability: number; readonly decision: 'positive' | 'negative' | 'refer' }[];
  readonly status: 'decided' | 'rejected';
  /**
   * Where the image was judged: `server`, a study a server received; `cli`, files given to \`vigil
   * predict\`; `shadow`, a candidate beside production (recorded, never acted on). Absent in entries
   * written before it was recorded (they count as the server's).
   */
  readonly origin?: JudgementOrigin;
  /** The configured site the study came from (server judgements; absent for `vigil predict` and entries written before sites). */
  readonly site?: string;
}

/**
 * Who judged an image: a server, for a study it received; `vigil predict`, for files on the command
 * line; or a shadow candidate, beside the server's production version (its decisions change nothing).
 */
export type JudgementOrigin = 'server' | 'cli' | 'shadow';

export interface ModelLoadedEvent {
  readonly type: 'model_loaded';
  readonly model: ModelIdentity;
  readonly executionProvider: string;
  /**
   * The loaded bundle's registry version id — the SHA-256 of its canonical listing (every file), whether
   * or not it is registered — so the log states the exact bundle that judged (absent in older entries).
   */
  readonly versionId?: string;
}

export interface ConfigLoadedEvent {
  readonly type: 'config_loaded';
  readonly configHash: string;
  readonly vigilVersion: string;
}

export interface ErrorEvent {
  readonly type: 'error';
  readonly code: string;
  /** Present when the error concerns a known study. */
  readonly studyKey?: string;
  readonly stage: string;
  /**
   * Where the image was judged: `server`, a study a server received; `cli`, files given to \`vigil
   * predict\`. Absent in entries written before it was recorded (they count as the server's).
   */
  readonly origin?: JudgementOrigin;
  /** The configured site of the study (a study sent to review unjudged by its site's deployment). */
  readonly site?: string;
}

/** A reviewer's read of a worklist item. The free-text comment stays in the store, out of the log. */
export interface ReviewRecordedEvent {
  readonly type: 'review_recorded';
  readonly itemId: string;
  readonly caseId: string;
  readonly studyKey: string;
  /** The reviewer's surrogate user id. */
  readonly reviewerId: string;
  readonly findingPresent: boolean | null;
  readonly imageQualityAdequate: boolean;
  readonly agreesWithModel: boolean | null;
}

/** Someone read a case or study through the API. */
export interface CaseReadEvent {
  readonly type: 'case_read';
  readonly studyKey: string;
  readonly caseId: string | null;
  readonly userId: string;
  readonly role: string;
}

/** Someone signed in to the dashboard (users by surrogate id; sessions by surrogate id, never the cookie). */
export interface SessionStartedEvent {
  readonly type: 'session_started';
  readonly userId: string;
  readonly role: string;
  readonly sessionId: string;
  readonly method: 'password' | 'token';
}

export interface SessionEndedEvent {
  readonly type: 'session_ended';
  readonly userId: string;
  readonly sessionId: string;
  readonly reason: 'logout';
}

/**
 * A refused sign-in. `userId` only when the typed name is a known account: the typed text itself is
 * never recorded (it may be a password typed into the wrong field). Attempts refused by the rate
 * limit are not recorded one by one, so that nobody can fill the log without credentials.
 */
export interface LoginFailedEvent {
  readonly type: 'login_failed';
  readonly userId: string | null;
  readonly method: 'password' | 'token';
  readonly reason: 'unknown_user' | 'wrong_password' | 'no_password' | 'user_disabled' | 'invalid_token' | 'wrong_current_password';
}

export interface PasswordChangedEvent {
  readonly type: 'password_changed';
  readonly userId: string;
  /** Who set it: the user themself or an administrator (surrogate id), or `local-cli` (`vigil users`). */
  readonly changedBy: string;
  readonly role: string;
  /** With `local-cli`: the operating-system account that ran the command. */
  readonly osUser?: string;
  /** Sessions of the user that the change ended. */
  readonly sessionsEnded: number;
}

/**
 * A case's result reached a destination: a DICOM SR by C-STORE, or the FHIR Bundle by webhook. Names the
 * SR by the SOP Instance UID Vigil made for it (derived from the case id, not from patient data); never
 * the destination's address, the patient or the study's original UIDs.
 */
export interface ResultDeliveredEvent {
  readonly type: 'result_delivered';
  readonly caseId: string;
  readonly studyKey: string;
  readonly destination: 'dicom' | 'webhook';
  /** The SR's SOP Instance UID (DICOM destination only). */
  readonly srSopInstanceUid?: string;
  /** `read`: the result issued again after a human read the case (its FHIR report is then final). */
  readonly issue?: 'read';
}

/**
 * A case was superseded: instances of its study arrived after it was judged, and the study was judged
 * again as a whole. Its open worklist items were closed unread; its results are amended by the new
 * case's. Recorded by the job that saved the new case (once more if that job ran again after a crash).
 */
export interface CaseSupersededEvent {
  readonly type: 'case_superseded';
  readonly caseId: string;
  readonly supersededBy: string;
  readonly studyKey: string;
  /** Open worklist items of the superseded case closed unread. */
  readonly itemsClosed: number;
}

/** An administrator created an account (with its first API token). Surrogate ids only, never the name. */
export interface UserCreatedEvent {
  readonly type: 'user_created';
  readonly userId: string;
  /** The new account's role. */
  readonly grantedRole: string;
  /** The administrator's surrogate id, or `local-cli` (`vigil users`). */
  readonly createdBy: string;
  readonly role: string;
  /** With `local-cli`: the operating-system account that ran the command. */
  readonly osUser?: string;
}

/**
 * Who changed an account or a token, as the token and account events record it: the acting user's
 * surrogate id and role, or `local-cli` for both when `vigil users` ran on the server's host (local
 * shell access, no token: the recovery path), with the operating-system account that ran it.
 */
export interface AccountActorFields {
  readonly changedBy: string;
  readonly role: string;
  readonly osUser?: string;
}

/** An API token was issued to a user (never the secret or its hash). */
export interface TokenIssuedEvent extends AccountActorFields {
  readonly type: 'token_issued';
  readonly userId: string;
  readonly tokenId: string;
  /** ISO 8601, or null when it lives until revoked. */
  readonly expiresAt: string | null;
}

export interface TokenRevokedEvent extends AccountActorFields {
  readonly type: 'token_revoked';
  readonly userId: string;
  readonly tokenId: string;
}

/** A token was replaced by a new one in one transaction; the old one ends at `previousEndsAt` (now, or after the overlap). */
export interface TokenRotatedEvent extends AccountActorFields {
  readonly type: 'token_rotated';
  readonly userId: string;
  readonly tokenId: string;
  readonly newTokenId: string;
  readonly previousEndsAt: string;
}

/** An account's role or disabled state changed. */
export interface UserUpdatedEvent extends AccountActorFields {
  readonly type: 'user_updated';
  readonly userId: string;
  readonly previousRole: string;
  readonly grantedRole: string;
  readonly disabled: boolean;
  /** Live dashboard sessions that disabling the account ended. */
  readonly sessionsEnded: number;
}

/** An operator sent a dead-lettered job back to the queue. */
export interface JobRetriedEvent {
  readonly type: 'job_retried';
  readonly jobId: number;
  readonly userId: string;
  readonly role: string;
}

/**
 * Acceptance criteria fixed for an evaluation: the criteria file's SHA-256 and its criteria as
 * parsed (text, not patient data), so that the log alone shows what was fixed and when. `vigil
 * criteria register` appends it before any evaluation; `vigil evaluate --criteria` appends it at
 * its own start when the file was never registered (and its report then says so).
 */
export interface CriteriaRegisteredEvent {
  readonly type: 'criteria_registered';
  readonly sha256: string;
  readonly criteria: readonly string[];
  /** `register`: by `vigil criteria register`; `evaluation`: at the start of the evaluation that used them. */
  readonly registeredBy: 'register' | 'evaluation';
}

/** An evaluation began (before any case was scored): what is evaluated, on what, against which registered criteria. */
export interface EvaluationStartedEvent {
  readonly type: 'evaluation_started';
  /** null when the predictions came from a file (Vigil ran no model). */
  readonly model: ModelIdentity | null;
  readonly referenceModel: ModelIdentity | null;
  readonly datasetSha256: string;
  readonly criteriaSha256: string | null;
  /** The criteria_registered entry the evaluation holds itself to. */
  readonly criteriaAuditId: string | null;
}

/** An evaluation wrote its report: the SHA-256 of each file, so that a report can be checked against the log. */
export interface EvaluationCompletedEvent {
  readonly type: 'evaluation_completed';
  /** The evaluation_started entry of the same run. */
  readonly startedAuditId: string;
  readonly model: ModelIdentity | null;
  readonly datasetSha256: string;
  readonly criteriaSha256: string | null;
  readonly criteriaAuditId: string | null;
  /** SHA-256 of report.json and of predictions.jsonl, as written. */
  readonly reportSha256: string;
  readonly predictionsSha256: string;
  readonly cases: number;
  /** The criteria's overall status; null without criteria. */
  readonly criteria: 'passed' | 'failed' | 'not_evaluable' | null;
}

/** A model version entered the registry: its content address, identity, parent and lineage, and who registered it. */
export interface ModelRegisteredEvent {
  readonly type: 'model_registered';
  readonly versionId: string;
  readonly model: ModelIdentity;
  readonly parentVersionId: string | null;
  readonly lineage: {
    readonly trainingDataSha256: string | null;
    readonly validationDataSha256: string | null;
    readonly codeReference: string | null;
    readonly derivedBy: string | null;
  };
  /** A user name, or `local-cli`. */
  readonly registeredBy: string;
}

/**
 * What judges a site's studies changed (domain/deployment/deployment.ts): the state after the change,
 * whole, so the log alone answers "which version judged site S at time T, and on whose release".
 */
export interface DeploymentChangedEvent {
  readonly type: 'deployment_changed';
  readonly site: string;
  /** deploy, start_shadow, start_canary, promote, end_candidate, pause, resume or rollback. */
  readonly change: string;
  readonly generation: number;
  /** The production version after the change, and the release request that put it there (null: none). */
  readonly production: string | null;
  readonly productionRequestId: string | null;
  /** The production version before the change (what a rollback undid, or a promotion replaced). */
  readonly previousProduction: string | null;
  readonly candidate: {
    readonly versionId: string;
    readonly mode: 'shadow' | 'canary';
    readonly fraction: number | null;
    readonly requestId: string | null;
  } | null;
  /** The pause's reason while the site is paused; null when it judges. */
  readonly pausedReason: string | null;
  /** A user name, `local-cli`, or `system` (the initial deployment from VIGIL_MODEL_DIR). */
  readonly by: string;
  /**
   * Set only on an entry appended after the fact (workflows/deployments.ts, `reconcileAudit`): the
   * change was stored, but its process stopped (a crash, kill -9) before auditing it. The state is the
   * stored one, whole; `change` is then `unknown` (the store keeps the state, not the change that made
   * it), `previousProduction` is the production version of the last audited state, and `changedAt` is
   * when the change was stored (the entry's own time is when it was recovered): the state judged the
   * site's studies from `changedAt`. Two servers may recover the same generation at once; such
   * entries repeat one state.
   */
  readonly recovered?: {
    readonly changedAt: string;
    /** The generation of the site's newest audited change before this entry (0: none). */
    readonly lastAuditedGeneration: number;
  };
}

/** A release request was made (domain/release/release-request.ts): the change, its target and the protocol it pinned. */
export interface ReleaseRequestedEvent {
  readonly type: 'release_requested';
  readonly requestId: string;
  readonly changeType: string;
  readonly site: string;
  readonly candidateVersionId: string;
  /** The site's production version when requested (null: none yet). */
  readonly baselineVersionId: string | null;
  /** SHA-256 of the protocol's canonical JSON, kept whole with the request. */
  readonly protocolSha256: string;
  /** The requester's user id, login name and role. */
  readonly requestedBy: string;
  readonly requesterName: string;
  readonly requesterRole: string;
}

/** A release gate ran: its result, and the SHA-256 of its evidence kept under releases/<requestId>/. */
export interface ReleaseGateRecordedEvent {
  readonly type: 'release_gate_recorded';
  readonly requestId: string;
  readonly gate: string;
  readonly passed: boolean;
  readonly evidenceSha256: string;
  readonly summary: string;
  /** The request's state after the gate (`rejected` when it failed). */
  readonly state: string;
  /** A user id, or `local-cli`. */
  readonly by: string;
}

/**
 * An electronic signature (21 CFR 11.50): who signed (user id, login name, role), what it means, and
 * how the signer authenticated again; the entry's time is the signature's time.
 */
export interface ReleaseSignedEvent {
  readonly type: 'release_signed';
  readonly requestId: string;
  readonly signerId: string;
  readonly signerName: string;
  readonly role: string;
  readonly meaning: string;
  readonly reauthenticatedBy: 'password' | 'token';
  /** The request's state after the signature (`approved` with the last one required). */
  readonly state: string;
}

/**
 * A deployment's monitor alarmed (workflows/monitoring.ts; docs/monitoring.md): what an alert names,
 * for the record. Pseudonymous only: the deployment, the detector and its numbers, and the alert's id
 * (its example cases are in the monitor store, by pseudonymous case id).
 */
export interface MonitorAlertEvent {
  readonly type: 'monitor_alert';
  readonly alertId: string;
  readonly site: string;
  readonly versionId: string;
  readonly planHash: string;
  readonly detector: string;
  readonly statistic: number;
  readonly threshold: number;
  /** The detector's in-control ARL at its threshold (null: unbounded). */
  readonly arl0: number | null;
  readonly runLength: number;
  /** Mean normal score over the window (continuous) or the observed rate (indicator). */
  readonly effect: number;
  readonly windowCases: number;
  readonly incidentId: string | null;
}

/**
 * An incident changed (domain/incident/incident.ts): opened, an alert linked, or an action taken. Free
 * text (a note, a reason, a postmortem) is kept with the incident, not here: the entry holds its
 * SHA-256, so the log proves what was written without copying it.
 */
export interface IncidentChangedEvent {
  readonly type: 'incident_changed';
  readonly incidentId: string;
  readonly site: string;
  readonly versionId: string;
  /** opened, alert_linked, acknowledge, assign, note, pause, rollback or resolve. */
  readonly action: string;
  readonly state: string;
  readonly severity: string;
  readonly owner: string | null;
  readonly revision: number;
  readonly alertId: string | null;
  readonly textSha256: string | null;
  /** A user id, or `monitoring`. */
  readonly by: string;
}

export type AuditEvent =
  | MonitorAlertEvent
  | IncidentChangedEvent
  | ReleaseRequestedEvent
  | ReleaseGateRecordedEvent
  | ReleaseSignedEvent
  | DeploymentChangedEvent
  | ModelRegisteredEvent
  | CriteriaRegisteredEvent
  | EvaluationStartedEvent
  | EvaluationCompletedEvent
  | ResultDeliveredEvent
  | CaseSupersededEvent
  | DecisionEvent
  | ModelLoadedEvent
  | ConfigLoadedEvent
  | ErrorEvent
  | ReviewRecordedEvent
  | CaseReadEvent
  | SessionStartedEvent
  | SessionEndedEvent
  | LoginFailedEvent
  | PasswordChangedEvent
  | JobRetriedEvent
  | TokenIssuedEvent
  | TokenRevokedEvent
  | TokenRotatedEvent
  | UserUpdatedEvent
  | UserCreatedEvent;

/**
 * An entry as hashing and proof checking read it: the four fields, with an event that is any object
 * naming its type. An `AuditEntry` is one; so is an entry read back from an evidence pack or a file,
 * whose event is checked only as far as that (its leaf hash proves the rest).
 */
export interface AuditEntryRecord {
  readonly auditId: string;
  readonly index: number;
  readonly time: string;
  readonly event: { readonly type: string };
}

/** An event as stored: its position in the log and the time it was appended. */
export interface AuditEntry {
  /** Opaque, stable identifier: `a-` + zero-based leaf index. */
  readonly auditId: string;
  readonly index: number;
  /** ISO 8601 UTC. */
  readonly time: string;
  readonly event: AuditEvent;
}
