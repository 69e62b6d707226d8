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

/** A release request as the ledger names it: who asked for which change, citing `release_requested`. */
export interface LedgerRelease {
  readonly requestId: string;
  readonly changeType: string;
  readonly requestedBy: string;
  readonly requesterRole: string;
  readonly citation: LedgerCitation;
}

/** One signature of a request, with the signer's name, role and meaning, and the time (the entry's). */
export interface LedgerApproval {
  readonly signerName: string;
  readonly role: string;
  readonly meaning: string;
  readonly reauthenticatedBy: string;
  readonly citation: LedgerCitation;
}

export interface LedgerAnswer {
  readonly site: string;
  readonly at: string;
  /** The site's deployment as it stood at `at`: the last change before it (null: nothing was deployed yet). */
  readonly deployment: {
    /** The change that made it so (`rollback`: the production version was restored, by `changedBy`). */
    readonly change: string;
    readonly changedBy: string;
    readonly generation: number;
    readonly production: string | null;
    readonly candidate: {
      readonly versionId: string;
      readonly mode: 'shadow' | 'canary';
      readonly fraction: number | null;
      /** The release request it runs under (null: an operator's direct change). */
      readonly requestId: string | null;
    } | null;
    readonly pausedReason: string | null;
    readonly citation: LedgerCitation;
  } | null;
  /** The production version's identity from the registry (null when none, or not registered). */
  readonly model: ModelIdentity | null;
  /**
   * The release request that put the production version there — after a rollback, the request that had
   * originally approved the restored version (null: the initial deployment, or an operator's change).
   */
  readonly release: LedgerRelease | null;
  /** Its signatures before `at`. */
  readonly approvals: readonly LedgerApproval[];
  /** The candidate's request (a canary judges some of the site's studies; a shadow judges none) and its signatures. */
  readonly candidateRelease: LedgerRelease | null;
  readonly candidateApprovals: readonly LedgerApproval[];
}

/**
 * "Which version judged studies at site S at time T, and who approved it?", answered from the audit
 * log alone (every deployment change, release request and signature is an entry): the last
 * `deployment_changed` of the site before T, the `release_requested` of the request it names (for
 * production and for a candidate), and that request's `release_signed` entries before T. Each part
 * cites its entry, so the answer can be proven. A time after `now` is refused (REQUEST_INVALID): the log cannot say what will judge, and "as of now" would read as a promise.
 */
export async function deploymentLedger(deps: LedgerDependencies, site: string, at: Date, now: Date = new Date()): Promise<LedgerAnswer> {
  if (Number.isNaN(at.getTime())) throw new PlatformError('REQUEST_INVALID', 'The time asked about is not a valid date', {});
  if (at.getTime() > now.getTime()) {
    throw new PlatformError('REQUEST_INVALID', 'The time asked about is in the future: the ledger answers for now or earlier', {});
  }
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
      candidate:
        event.candidate === null
          ? null
          : { versionId: event.candidate.versionId, mode: event.candidate.mode, fraction: event.candidate.fraction, requestId: event.candidate.requestId },
      pausedReason: event.pausedReason,
      citation: cite(entry),
    };
    requestId = event.productionRequestId;
    return true;
  });
  const found = deployment as LedgerAnswer['deployment'];
  const version = found?.production == null ? undefined : await deps.registry.get(found.production);
  const production = await requestRecord(deps, requestId, until, cite);
  const candidate = await requestRecord(deps, found?.candidate?.requestId ?? null, until, cite);
  return {
    site,
    at: at.toISOString(),
    deployment: found,
    model: version === undefined ? null : { ...version.model, versionId: version.versionId },
    release: production.release,
    approvals: production.approvals,
    candidateRelease: candidate.release,
    candidateApprovals: candidate.approvals,
  };
}

/** A request's `release_requested` entry and its `release_signed` entries before `until`, oldest first. */
async function requestRecord(
  deps: LedgerDependencies,
  wanted: string | null,
  until: string,
  cite: (entry: AuditEntry) => LedgerCitation,
): Promise<{ release: LedgerRelease | null; approvals: LedgerApproval[] }> {
  let release: LedgerRelease | null = null;
  const approvals: LedgerApproval[] = [];
  if (wanted === null) return { release, approvals };
  await scanAudit(deps.search, { type: 'release_requested', until }, (entry) => {
    if (entry.event.type !== 'release_requested' || entry.event.requestId !== wanted) return false;
    const event = entry.event;
    release = { requestId: wanted, changeType: event.changeType, requestedBy: event.requesterName, requesterRole: event.requesterRole, citation: cite(entry) };
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
  return { release, approvals: approvals.reverse() };
}
