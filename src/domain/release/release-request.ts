import type { Role } from '../access/roles.js';
import { CANARY_FRACTION_RULE, isCanaryFraction } from '../deployment/deployment.js';
import { PlatformError } from '../errors.js';
import type { ChangeType, ReleaseProtocol, SignatureMeaning } from './release-protocol.js';

/**
 * A release request's life, as a state machine (draft → validated → approved → shadow → canary →
 * production → retired; a failed gate → rejected). Pure: each action returns the next request or
 * throws a coded error, so the rules are testable by property and the same in every process.
 *
 * The rules that make it a control: a request reaches shadow, canary or production only with every
 * gate its protocol requires passed and every required signature given by a distinct person of the
 * required role, none of them the requester; a failed gate rejects the request and its evidence stays.
 */
export const RELEASE_STATES = ['draft', 'validated', 'approved', 'shadow', 'canary', 'production', 'retired', 'rejected'] as const;
export type ReleaseState = (typeof RELEASE_STATES)[number];

export const GATES = ['criteria', 'non_inferiority', 'shadow_agreement'] as const;
export type GateName = (typeof GATES)[number];

export interface Person {
  readonly userId: string;
  readonly userName: string;
  readonly role: Role;
}

export interface GateResult {
  readonly gate: GateName;
  readonly passed: boolean;
  /** SHA-256 of the evidence (a report.json, a shadow comparison), kept beside the request. */
  readonly evidenceSha256: string;
  readonly summary: string;
  readonly at: string;
}

export interface Signature {
  readonly signer: Person;
  readonly meaning: SignatureMeaning;
  readonly at: string;
}

export interface ReleaseRequest {
  readonly requestId: string;
  readonly changeType: ChangeType;
  readonly site: string;
  readonly candidateVersionId: string;
  /** The site's production version when the request was made (what non-inferiority and rollback refer to). */
  readonly baselineVersionId: string | null;
  readonly protocolSha256: string;
  readonly requestedBy: Person;
  readonly state: ReleaseState;
  readonly gates: readonly GateResult[];
  readonly signatures: readonly Signature[];
  /** Share of the site's studies the candidate judges while in canary. */
  readonly canaryFraction: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type ReleaseAction =
  | { readonly kind: 'record_gate'; readonly gate: GateName; readonly passed: boolean; readonly evidenceSha256: string; readonly summary: string }
  | { readonly kind: 'sign'; readonly signer: Person; readonly meaning: SignatureMeaning; readonly reauthenticated: boolean }
  | { readonly kind: 'start_shadow' }
  | { readonly kind: 'start_canary'; readonly fraction: number }
  | { readonly kind: 'promote' }
  /** Out of production (replaced or rolled back), or its candidate ended under it (a rollback, another request's promotion). */
  | { readonly kind: 'retire' }
  /** Back in production: a rollback restored the version this request had put there (its approvals stand). */
  | { readonly kind: 'reinstate' };

/** The gates a protocol requires before the request leaves draft (shadow agreement comes later, in shadow). */
export function preDeploymentGates(protocol: ReleaseProtocol): GateName[] {
  return protocol.nonInferiority === null ? ['criteria'] : ['criteria', 'non_inferiority'];
}

export function gatePassed(request: ReleaseRequest, gate: GateName): boolean {
  const latest = [...request.gates].reverse().find((g) => g.gate === gate);
  return latest?.passed === true;
}

/** The required signatures not yet given, as `role: meaning`. */
export function missingApprovals(request: ReleaseRequest, protocol: ReleaseProtocol): { role: Role; meaning: SignatureMeaning }[] {
  const remaining = [...request.signatures];
  const missing: { role: Role; meaning: SignatureMeaning }[] = [];
  for (const need of protocol.approvals) {
    const i = remaining.findIndex((s) => s.signer.role === need.role && s.meaning === need.meaning);
    if (i < 0) missing.push(need);
    else remaining.splice(i, 1);
  }
  return missing;
}

const invalid = (request: ReleaseRequest, action: string): PlatformError =>
  new PlatformError('RELEASE_TRANSITION_INVALID', `A request in state "${request.state}" cannot ${action}`, { state: request.state });

/** The refusal of a signature whose signer did not authenticate again (the same whatever the request's state). */
export function reauthenticationFailed(): PlatformError {
  return new PlatformError('RELEASE_SIGNATURE_INVALID', 'A signature needs the signer to authenticate again (password, or a fresh token)', {});
}

/** Applies one action; throws RELEASE_* codes for what the rules do not allow. */
export function applyReleaseAction(request: ReleaseRequest, action: ReleaseAction, protocol: ReleaseProtocol, now: string): ReleaseRequest {
  const next = (changes: Partial<ReleaseRequest>): ReleaseRequest => ({ ...request, ...changes, updatedAt: now });
  switch (action.kind) {
    case 'record_gate': {
      const allowed =
        action.gate === 'shadow_agreement' ? request.state === 'shadow' : request.state === 'draft' && preDeploymentGates(protocol).includes(action.gate);
      if (!allowed) throw invalid(request, `record the ${action.gate} gate`);
      if (action.gate === 'shadow_agreement' && protocol.shadow === null) throw invalid(request, 'record shadow agreement its protocol does not require');
      const gates = [...request.gates, { gate: action.gate, passed: action.passed, evidenceSha256: action.evidenceSha256, summary: action.summary, at: now }];
      // A failed gate blocks for good; its evidence stays with the request.
      if (!action.passed) return next({ gates, state: 'rejected' });
      const after = next({ gates });
      if (request.state === 'draft' && preDeploymentGates(protocol).every((g) => gatePassed(after, g))) return { ...after, state: 'validated' };
      return after;
    }
    case 'sign': {
      // Re-authentication first: whoever lacks the signer's credential learns nothing of the request, not even its state.
      if (!action.reauthenticated) throw reauthenticationFailed();
      if (request.state !== 'validated') throw invalid(request, 'be signed (it must be validated: every gate passed, not yet approved)');
      if (action.signer.userId === request.requestedBy.userId) throw new PlatformError('RELEASE_SELF_APPROVAL', 'The requester of a change cannot sign it', {});
      if (request.signatures.some((s) => s.signer.userId === action.signer.userId)) {
        throw new PlatformError('RELEASE_SIGNATURE_INVALID', 'Each signature must be a different person', {});
      }
      const need = missingApprovals(request, protocol).find((m) => m.role === action.signer.role && m.meaning === action.meaning);
      if (need === undefined) {
        throw new PlatformError('RELEASE_SIGNATURE_INVALID', `The protocol asks no further "${action.meaning}" signature of a ${action.signer.role}`, {
          role: action.signer.role,
        });
      }
      const signed = next({ signatures: [...request.signatures, { signer: action.signer, meaning: action.meaning, at: now }] });
      return missingApprovals(signed, protocol).length === 0 ? { ...signed, state: 'approved' } : signed;
    }
    case 'start_shadow':
      if (protocol.shadow === null) {
        // Not the state: the protocol written for this change type asks no shadow (it goes to canary or production).
        throw new PlatformError(
          'RELEASE_TRANSITION_INVALID',
          `The ${request.changeType} protocol asks for no shadow: the request goes to canary or production once approved`,
          { state: request.state },
        );
      }
      if (request.state !== 'approved') throw invalid(request, 'start shadow');
      return next({ state: 'shadow' });
    case 'start_canary': {
      if (!isCanaryFraction(action.fraction)) throw new PlatformError('RELEASE_TRANSITION_INVALID', CANARY_FRACTION_RULE, {});
      if (!readyToDeploy(request, protocol)) throw invalid(request, 'start a canary');
      return next({ state: 'canary', canaryFraction: action.fraction });
    }
    case 'promote':
      if (!(request.state === 'canary' || readyToDeploy(request, protocol))) throw invalid(request, 'be promoted to production');
      return next({ state: 'production', canaryFraction: null });
    case 'retire':
      // Production leaves when replaced or rolled back; a shadow or canary when its candidate was ended
      // under it (its evidence compared a baseline that is no longer production: a new attempt is a new request).
      if (!(request.state === 'production' || request.state === 'shadow' || request.state === 'canary')) throw invalid(request, 'be retired');
      return next({ state: 'retired', canaryFraction: null });
    case 'reinstate':
      // Only what was fit for production comes back: every gate (shadow agreement included, when asked)
      // and every signature, as for a promotion.
      if (request.state !== 'retired' || !deployable(request, protocol)) throw invalid(request, 'be reinstated in production');
      return next({ state: 'production' });
  }
}

/**
 * Segregation of duties, by identity: whoever signed a request does not deploy it (shadow, canary,
 * promotion), whatever role they hold now — a signer whose role was changed to one that may deploy is
 * still refused, as a requester who is given a signing role still may not sign.
 */
export function deployerSignedProblem(request: ReleaseRequest, deployerUserId: string): PlatformError | undefined {
  if (!request.signatures.some((s) => s.signer.userId === deployerUserId)) return undefined;
  return new PlatformError('RELEASE_SELF_APPROVAL', 'A signer of a change cannot deploy it: another person who may deploy does', {});
}

/** Every pre-deployment gate, every signature, and shadow agreement when the protocol asks it. */
function deployable(request: ReleaseRequest, protocol: ReleaseProtocol): boolean {
  return (
    preDeploymentGates(protocol).every((g) => gatePassed(request, g)) &&
    missingApprovals(request, protocol).length === 0 &&
    (protocol.shadow === null || gatePassed(request, 'shadow_agreement'))
  );
}

/** Approved with no shadow required, or in shadow with its agreement gate passed. */
function readyToDeploy(request: ReleaseRequest, protocol: ReleaseProtocol): boolean {
  if (protocol.shadow === null) return request.state === 'approved';
  return request.state === 'shadow' && gatePassed(request, 'shadow_agreement');
}
