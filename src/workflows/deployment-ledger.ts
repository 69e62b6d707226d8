import type { AuditEntry, ModelIdentity } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import type { AuditSearch } from '../ports/audit-search.js';
import type { ModelRegistry } from '../ports/model-registry.js';
import { scanAudit } from './scan-audit.js';

export interface LedgerDependencies {
  readonly search: AuditSearch;
  readonly registry: Pick<ModelRegistry, 'get'>;
}

/** One audit entry as the ledger cites it: where to find it (`vigil audit prove`) and when it was written. */
export interface LedgerCitation {
  readonly auditId: string;
  readonly time: string;
}

export interface LedgerAnswer {
  readonly site: string;
  readonly at: string;
  /** The site's deployment as it stood at `at`: the last change before it (null: nothing was deployed yet). */
  readonly deployment: {
    readonly change: string;
    readonly changedBy: string;
    readonly generation: number;
    readonly production: string | null;
    readonly candidate: { readonly versionId: string; readonly mode: 'shadow' | 'canary'; readonly fraction: number | null } | null;
    readonly pausedReason: string | null;
    readonly citation: LedgerCitation;
  } | null;
  /** The production version's identity from the registry (null when none, or not registered). */
  readonly model: ModelIdentity | null;
  /** The release request that put the production version there (null: the initial deployment, or an operator's rollback). */
  readonly release: {
    readonly requestId: string;
    readonly changeType: string;
    readonly requestedBy: string;
    readonly requesterRole: string;
    readonly citation: LedgerCitation;
  } | null;
  /** Its signatures, each with the signer's name, role and meaning, and the time (the entry's). */
  readonly approvals: readonly {
    readonly signerName: string;
    readonly role: string;
    readonly meaning: string;
    readonly reauthenticatedBy: string;
    readonly citation: LedgerCitation;
  }[];
}

/**
 * "Which version judged studies at site S at time T, and who approved it?", answered from the audit
 * log alone (every deployment change, release request and signature is an entry): the last
 * `deployment_changed` of the site before T, the `release_requested` of the request it names, and that
 * request's `release_signed` entries before T. Each part cites its entry, so the answer can be proven.
 */
export async function deploymentLedger(deps: LedgerDependencies, site: string, at: Date): Promise<LedgerAnswer> {
  if (Number.isNaN(at.getTime())) throw new PlatformError('REQUEST_INVALID', 'The time asked about is not a valid date', {});
  // Entries appended at T count as before it (the search's bound is exclusive).
  const until = new Date(at.getTime() + 1).toISOString();
  const cite = (entry: AuditEntry): LedgerCitation => ({ auditId: entry.auditId, time: entry.time });
  let deployment: LedgerAnswer['deployment'] = null;
  let requestId: string | null = null;
  await scanAudit(deps.search, { type: 'deployment_changed', until }, (entry) => {
    const event = entry.event;
    if (event.type !== 'deployment_changed' || event.site !== site) return false;
    deployment = {
      change: event.change,
      changedBy: event.by,
      generation: event.generation,
      production: event.production,
      candidate: event.candidate === null ? null : { versionId: event.candidate.versionId, mode: event.candidate.mode, fraction: event.candidate.fraction },
      pausedReason: event.pausedReason,
      citation: cite(entry),
    };
    requestId = event.productionRequestId;
    return true;
  });
  const found = deployment as LedgerAnswer['deployment'];
  const version = found?.production == null ? undefined : await deps.registry.get(found.production);
  let release: LedgerAnswer['release'] = null;
  const approvals: LedgerAnswer['approvals'][number][] = [];
  const wanted = requestId as string | null;
  if (wanted !== null) {
    await scanAudit(deps.search, { type: 'release_requested', until }, (entry) => {
      if (entry.event.type !== 'release_requested' || entry.event.requestId !== wanted) return false;
      const event = entry.event;
      release = {
        requestId: wanted,
        changeType: event.changeType,
        requestedBy: event.requesterName,
        requesterRole: event.requesterRole,
        citation: cite(entry),
      };
      return true;
    });
    await scanAudit(deps.search, { type: 'release_signed', until }, (entry) => {
      if (entry.event.type === 'release_signed' && entry.event.requestId === wanted) {
        const event = entry.event;
        approvals.push({
          signerName: event.signerName,
          role: event.role,
          meaning: event.meaning,
          reauthenticatedBy: event.reauthenticatedBy,
          citation: cite(entry),
        });
      }
      return false;
    });
  }
  return {
    site,
    at: at.toISOString(),
    deployment: found,
    model: version === undefined ? null : { ...version.model, versionId: version.versionId },
    release,
    approvals: approvals.reverse(),
  };
}
