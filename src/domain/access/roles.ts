/**
 * Who may do what. Least privilege: each role gets the permissions its job needs and no more; an
 * administrator manages accounts and the system but does not read clinical cases, an auditor reads
 * and verifies the audit trail (release requests and their evidence packs included) and nothing else, an integration (a sender or a result consumer)
 * only sends studies and fetches results.
 */
export const ROLES = ['admin', 'ml-engineer', 'clinician-reviewer', 'qa-regulatory', 'integration', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'system:read', // health details, metrics, queue state
  'users:manage', // accounts and API tokens
  'models:read', // manifests, intended use, model cards
  'studies:read', // pseudonymous study list and case results
  'worklist:read', // the review worklist
  'reviews:write', // record a read
  'reviews:read',
  'audit:read', // audit entries and inclusion proofs
  'audit:verify', // recompute and check the whole log
  'ingest:write', // send studies (STOW-RS, upload)
  'results:read', // fetch results (FHIR, SR) as an integration
  'account:self', // one's own password (every signed-in user)
  'jobs:manage', // send a dead-lettered job back to the queue (operations)
  'releases:read', // release requests, their gates, evidence and signatures; deployments per site
  'releases:request', // make a release request and run its gates
  'releases:sign', // sign a release request (with re-authentication; the protocol says which roles)
  'releases:deploy', // start shadow or canary, promote an approved request
  'deployments:pause', // pause a site (every study to human review) and resume it
  'deployments:rollback', // restore a site's previous production version
  'monitoring:read', // deployments' monitors, alerts, signal time series and the cases behind them; incidents
  'incidents:manage', // acknowledge, assign, annotate and resolve incidents (pausing and rolling back through one also needs deployments:pause / deployments:rollback)
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  // Release duties are split (docs/releases.md): an ml-engineer requests, runs gates and deploys; QA and a
  // clinician sign; an operator (admin or ml-engineer) pauses and rolls back; a clinician may pause too,
  // because whoever sees a model misbehave must be able to stop it at once. Nobody both requests and signs
  // (the request's state machine refuses self-approval whatever the role).
  // Monitoring (docs/monitoring.md): whoever answers for a model in use reads its monitors and works its
  // incidents (ml-engineer, clinician, QA, operations); an auditor reads them; an integration does neither.
  admin: [
    'system:read',
    'users:manage',
    'models:read',
    'account:self',
    'jobs:manage',
    'releases:read',
    'deployments:pause',
    'deployments:rollback',
    'monitoring:read',
    'incidents:manage',
  ],
  'ml-engineer': [
    'system:read',
    'models:read',
    'studies:read',
    'reviews:read',
    'account:self',
    'releases:read',
    'releases:request',
    'releases:deploy',
    'deployments:pause',
    'deployments:rollback',
    'monitoring:read',
    'incidents:manage',
  ],
  'clinician-reviewer': [
    'models:read',
    'studies:read',
    'worklist:read',
    'reviews:write',
    'reviews:read',
    'account:self',
    'releases:read',
    'releases:sign',
    'deployments:pause',
    'monitoring:read',
    'incidents:manage',
  ],
  'qa-regulatory': [
    'models:read',
    'studies:read',
    'reviews:read',
    'audit:read',
    'audit:verify',
    'system:read',
    'account:self',
    'releases:read',
    'releases:sign',
    'monitoring:read',
    'incidents:manage',
  ],
  integration: ['ingest:write', 'studies:read', 'results:read', 'account:self'],
  // Release requests, their signatures and evidence packs are the change-control part of the audit trail
  // (no clinical data): an auditor reads them, and downloads a pack to verify it offline; and reads the
  // production monitors and incidents.
  auditor: ['audit:read', 'audit:verify', 'account:self', 'releases:read', 'monitoring:read'],
};

/**
 * Which studies a role's study and result permissions (`studies:read`, `results:read`) reach: `all`, or
 * only those `sent` by the user itself (recorded at ingest from the token or session that sent them).
 * A sender needs its own results and nothing of any other sender's patients.
 */
export const STUDY_SCOPE: Readonly<Record<Role, 'all' | 'sent'>> = {
  admin: 'all',
  'ml-engineer': 'all',
  'clinician-reviewer': 'all',
  'qa-regulatory': 'all',
  integration: 'sent',
  auditor: 'all',
};

/** The studies a principal may read: every study, or those its user sent. */
export type StudyScope = { readonly kind: 'all' } | { readonly kind: 'sent'; readonly userId: string };

export function studyScopeOf(principal: Principal): StudyScope {
  return STUDY_SCOPE[principal.role] === 'all' ? { kind: 'all' } : { kind: 'sent', userId: principal.userId };
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function hasPermission(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** The identity behind a request: a user (by surrogate id, never a name in logs) acting with one role. */
export interface Principal {
  readonly userId: string;
  readonly role: Role;
  /** Which token authenticated the request (its surrogate id, not the secret). */
  readonly tokenId: string;
}
