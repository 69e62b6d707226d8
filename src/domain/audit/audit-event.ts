/**
 * What the audit trail records. Each event is typed; an entry never holds a patient name, ID, birth
 * date, UID or file path: studies are named by their pseudonymous `studyKey`, pixels by their hash.
 */
export interface ModelIdentity {
  readonly id: string;
  readonly version: string;
  readonly sha256: string;
}

export type GateVerdictKind = 'pass' | 'warn' | 'reject';

export interface AuditedReason {
  readonly code: string;
  readonly verdict: GateVerdictKind;
  readonly measured?: number | string;
  readonly threshold?: number | string;
}

export interface DecisionEvent {
  readonly type: 'decision';
  readonly studyKey: string;
  /** SHA-256 of the frame's stored pixel bytes. */
  readonly pixelSha256: string;
  readonly frameIndex: number;
  readonly model: ModelIdentity;
  readonly configHash: string;
  readonly gate: { readonly verdict: GateVerdictKind; readonly reasons: readonly AuditedReason[] };
  /** Empty when the gate rejected the image (it was not sent to the model). */
  readonly outputs: readonly { readonly finding: string; readonly probability: number; readonly decision: 'positive' | 'negative' | 'refer' }[];
  readonly status: 'decided' | 'rejected';
}

export interface ModelLoadedEvent {
  readonly type: 'model_loaded';
  readonly model: ModelIdentity;
  readonly executionProvider: string;
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

export type AuditEvent = DecisionEvent | ModelLoadedEvent | ConfigLoadedEvent | ErrorEvent | ReviewRecordedEvent | CaseReadEvent;

/** An event as stored: its position in the log and the time it was appended. */
export interface AuditEntry {
  /** Opaque, stable identifier: `a-` + zero-based leaf index. */
  readonly auditId: string;
  readonly index: number;
  /** ISO 8601 UTC. */
  readonly time: string;
  readonly event: AuditEvent;
}
