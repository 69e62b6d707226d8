import { randomUUID } from 'node:crypto';
import { hasPermission, type Permission } from '../domain/access/roles.js';
import { rateVerdict, type RateLimit } from '../domain/access/session-policy.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import { canonicalJson } from '../domain/audit/canonical-json.js';
import type { DeploymentChange, SiteDeployment } from '../domain/deployment/deployment.js';
import { PlatformError } from '../domain/errors.js';
import { pickUniqueId } from '../domain/id-prefix.js';
import type { RasterDeclaration } from '../domain/image/image-frame.js';
import { lineageProblem } from '../domain/release/release-lineage.js';
import { validationDataFor, type ChangeType, type ReleaseProtocol, type SignatureMeaning } from '../domain/release/release-protocol.js';
import {
  applyReleaseAction,
  deployerSignedProblem,
  gatePassed,
  missingApprovals,
  preDeploymentGates,
  reauthenticationFailed,
  type GateName,
  type Person,
  type ReleaseAction,
  type ReleaseRequest,
} from '../domain/release/release-request.js';
import type { AccessStore } from '../ports/access-store.js';
import type { Clock } from '../ports/clock.js';
import type { Credentials } from '../ports/credentials.js';
import type { ShadowSummary } from '../ports/deployment-store.js';
import type { Hasher } from '../ports/hasher.js';
import type { BundleArchive, ModelRegistry } from '../ports/model-registry.js';
import type { ReleaseEvidence } from '../ports/release-evidence.js';
import type { ReleaseProtocols } from '../ports/release-protocols.js';
import type { ReleaseStore, StoredRelease } from '../ports/release-store.js';
import type { SessionStore } from '../ports/session-store.js';
import type { Deployments } from './deployments.js';
import type { EvaluateOutcome, EvaluateRequest } from './evaluate-model.js';
import { findVersion } from './register-model.js';

export interface ReleaseDependencies {
  readonly store: ReleaseStore;
  readonly evidence: ReleaseEvidence;
  readonly protocols: ReleaseProtocols;
  readonly deployments: Deployments;
  /** The shadow comparisons of a candidate at a site under one request (ports/deployment-store.ts). */
  readonly shadowSummary: (site: string, candidateVersionId: string, requestId: string) => Promise<ShadowSummary>;
  readonly registry: ModelRegistry;
  readonly archive: BundleArchive;
  readonly access: AccessStore;
  /** For re-authentication: a user's password hash, and the failed attempts sign-in's rate limit counts. */
  readonly sessions: Pick<SessionStore, 'credentialById' | 'failuresSince' | 'recordFailure'>;
  /** Sign-in's limit on failed passwords per user name (VIGIL_LOGIN_MAX_FAILURES, VIGIL_LOGIN_WINDOW_MS): a signature's password counts toward it. */
  readonly loginLimit: RateLimit;
  readonly credentials: Credentials;
  /** The SHA-256 of a dataset spec, as `vigil evaluate` computes it (report.json `dataset.sha256`). */
  readonly datasetSha256: (spec: string) => Promise<string>;
  /**
   * A dataset spec a signed-in caller gave, as the spec to open: inside the release datasets folder
   * (VIGIL_RELEASE_DATASETS_DIR), RELEASE_DATASET_OUTSIDE otherwise. A remote caller does not choose
   * which server file is read; the host's own CLI (`local-cli`) reads any path, as every command does.
   */
  readonly resolveCallerDataset: (spec: string) => Promise<string>;
  /** `vigil evaluate` (workflows/evaluate-model.ts): audited itself (criteria, start, completion). */
  readonly evaluate: (request: EvaluateRequest) => Promise<EvaluateOutcome>;
  readonly hasher: Hasher;
  readonly clock: Clock;
  /** Appends to the audit log; resolves once the entry is durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
}

/** A release request's id as made (`r-` and a UUID), and a prefix that may name one: `r-` and at least 8 of the UUID's characters. */
const RELEASE_ID = /^r-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RELEASE_ID_PREFIX = /^r-[0-9a-f-]{8,36}$/;
/** Who acts: a signed-in user (HTTP), or the server's host (`vigil release`/`vigil deploy`, trusted like `vigil users`). */
export type ReleaseActor = { readonly kind: 'user'; readonly userId: string } | { readonly kind: 'local-cli'; readonly osUser: string };

/** A user named by id (HTTP) or by login name (the CLI). */
export type UserRef = { readonly userId: string } | { readonly userName: string };

/**
 * How a signer proved, again, that they are who they are (21 CFR 11.200): their password, or a token
 * issued in the last 5 minutes for the signing — not the credential the request itself is authenticated
 * with, and spent by the signature (revoked as it signs: one token, one signature).
 */
export type Reauthentication = { readonly password: string } | { readonly token: string };

/** A token older than this does not re-authenticate a signature: it must be issued for the signing. */
export const FRESH_TOKEN_MS = 5 * 60_000;

export interface ReleaseView {
  readonly request: ReleaseRequest;
  readonly protocol: ReleaseProtocol;
  /** The signatures the protocol still requires, as role and meaning. */
  readonly missingApprovals: readonly { readonly role: string; readonly meaning: SignatureMeaning }[];
  /** The gates still to pass before the request can move on (pre-deployment gates in draft, shadow agreement in shadow). */
  readonly pendingGates: readonly GateName[];
  /** The validation data the protocol pins for the request's site. */
  readonly validationDataSha256: string | null;
}

/** What running the gates did: one line per gate run, and the shadow gate's wait when too few cases were compared yet. */
export interface GateRun {
  readonly release: ReleaseView;
  readonly ran: readonly { readonly gate: GateName; readonly passed: boolean; readonly evidenceSha256: string; readonly summary: string }[];
  readonly waiting: string | null;
}

export interface GateOptions {
  /** The validation dataset (a `vigil evaluate` spec); required for the criteria and non-inferiority gates. */
  readonly dataset?: string;
  /** What the dataset's images are, when they cannot say it themselves (as `vigil evaluate --modality …`). */
  readonly declared?: RasterDeclaration;
}

/**
 * Release requests, shaped like a Predetermined Change Control Plan (docs/releases.md): a request
 * pins its change type's protocol; its gates run the protocol's evaluations and keep their evidence;
 * distinct people of the required roles sign, each re-authenticating; and the rollout (shadow, canary,
 * production) goes through `Deployments`, which audits each change. The request's state machine
 * (domain/release/release-request.ts) decides every step before anything is changed.
 */
export class Releases {
  readonly #deps: ReleaseDependencies;

  constructor(deps: ReleaseDependencies) {
    this.#deps = deps;
  }

  /**
   * Makes a request: the candidate must be registered and the site configured; the baseline is the
   * site's production version now; the requester must hold `releases:request`. Audited `release_requested`.
   */
  async create(requester: UserRef, change: { readonly changeType: ChangeType; readonly site: string; readonly candidate: string }): Promise<ReleaseView> {
    const person = await this.#person(requester, 'releases:request');
    const candidate = await findVersion(this.#deps.registry, change.candidate);
    const deployment = await this.#deps.deployments.status(change.site);
    if (deployment.production === candidate.versionId) {
      throw new PlatformError('RELEASE_TRANSITION_INVALID', 'That version is in production at the site already', { state: 'none' });
    }
    // The candidate must be the kind of change requested (its protocol was written for that kind).
    const production = deployment.production === null ? null : await findVersion(this.#deps.registry, deployment.production);
    const elsewhere = (await this.#deps.deployments.list()).filter((d) => d.site !== change.site && d.production === candidate.versionId).map((d) => d.site);
    const lineage = lineageProblem(change.changeType, candidate, production, elsewhere);
    if (lineage !== undefined) throw new PlatformError('RELEASE_LINEAGE_INVALID', lineage, { changeType: change.changeType });
    const { protocol, sha256 } = await this.#deps.protocols.get(change.changeType);
    if (protocol.nonInferiority !== null && deployment.production === null) {
      throw new PlatformError(
        'RELEASE_TRANSITION_INVALID',
        'This change type compares the candidate with the site’s production version, and the site has none',
        {
          state: 'none',
        },
      );
    }
    const now = this.#now();
    const request: ReleaseRequest = {
      requestId: `r-${randomUUID()}`,
      changeType: change.changeType,
      site: change.site,
      candidateVersionId: candidate.versionId,
      baselineVersionId: deployment.production,
      protocolSha256: sha256,
      requestedBy: person,
      state: 'draft',
      gates: [],
      signatures: [],
      canaryFraction: null,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.#deps.store.create(request, protocol))) throw new PlatformError('STORE_WRITE_FAILED', 'A release request with that id exists already', {});
    // The protocol's text is evidence too: the evidence pack holds it under the SHA-256 the request pinned.
    await this.#deps.evidence.keep(request.requestId, new TextEncoder().encode(canonicalJson(protocol)));
    await this.#deps.recordAudit({
      type: 'release_requested',
      requestId: request.requestId,
      changeType: request.changeType,
      site: request.site,
      candidateVersionId: request.candidateVersionId,
      baselineVersionId: request.baselineVersionId,
      protocolSha256: sha256,
      requestedBy: person.userId,
      requesterName: person.userName,
      requesterRole: person.role,
    });
    return this.#view({ request, protocol, revision: 1 });
  }

  async list(options: { readonly site?: string; readonly limit?: number } = {}): Promise<readonly ReleaseView[]> {
    return (await this.#deps.store.list(options)).map((stored) => this.#view(stored));
  }

  async show(requestId: string): Promise<ReleaseView> {
    return this.#view(await this.#load(requestId));
  }

  /** Evidence kept for a request, by its SHA-256 (RELEASE_NOT_FOUND when there is none). */
  async evidence(requestIdOrPrefix: string, sha256: string): Promise<Uint8Array> {
    const { requestId } = (await this.#load(requestIdOrPrefix)).request;
    const bytes = await this.#deps.evidence.read(requestId, sha256);
    if (bytes === undefined) throw new PlatformError('RELEASE_NOT_FOUND', 'The request keeps no evidence with that SHA-256', {});
    return bytes;
  }

  /**
   * Runs the gates the request's state calls for, each once it is due, in order, stopping at the first
   * failure (which rejects the request; its evidence stays). In draft: the criteria on the candidate's
   * archived bundle over the dataset — which must be the validation data the protocol pins for the site
   * (RELEASE_DATA_MISMATCH otherwise) — then, when the protocol asks, non-inferiority to the baseline
   * on the same cases. In shadow: agreement with production once the protocol's minimum of cases was
   * compared (before that, nothing is recorded and `waiting` says how many there are).
   * Each gate is audited `release_gate_recorded` with its evidence's SHA-256.
   */
  async runGates(actor: ReleaseActor, requestId: string, options: GateOptions = {}): Promise<GateRun> {
    let stored = await this.#load(requestId);
    const { protocol } = stored;
    const ran: GateRun['ran'][number][] = [];
    if (stored.request.state === 'draft') {
      if (options.dataset === undefined) throw new PlatformError('CLI_USAGE', 'The criteria gate evaluates the candidate: give the validation dataset', {});
      // Before anything is read: a remote caller's path must lie in the release datasets folder.
      const dataset = actor.kind === 'user' ? await this.#deps.resolveCallerDataset(options.dataset) : options.dataset;
      const pinned = validationDataFor(protocol, stored.request.site);
      const given = await this.#deps.datasetSha256(dataset);
      if (given !== pinned) {
        throw new PlatformError('RELEASE_DATA_MISMATCH', 'The dataset is not the validation data the protocol pins for this site', {
          pinned: pinned ?? null,
          given,
        });
      }
      for (const gate of preDeploymentGates(protocol)) {
        if (gatePassed(stored.request, gate)) continue;
        const result = await this.#evaluationGate(stored, gate, dataset, options.declared);
        stored = await this.#record(stored, actor, { kind: 'record_gate', gate, ...result });
        ran.push({ gate, ...result });
        if (!result.passed) break;
      }
      return { release: this.#view(stored), ran, waiting: null };
    }
    if (stored.request.state === 'shadow' && protocol.shadow !== null && !gatePassed(stored.request, 'shadow_agreement')) {
      const { request } = stored;
      const summary = await this.#deps.shadowSummary(request.site, request.candidateVersionId, request.requestId);
      if (summary.cases < protocol.shadow.minCases) {
        return {
          release: this.#view(stored),
          ran,
          waiting: `${summary.cases} of the ${protocol.shadow.minCases} studies the protocol asks were compared in shadow so far`,
        };
      }
      const agreement = summary.agreedCases / summary.cases;
      const passed = agreement >= protocol.shadow.minAgreement;
      const evidence = {
        site: request.site,
        candidateVersionId: request.candidateVersionId,
        requestId: request.requestId,
        summary,
        rule: protocol.shadow,
        agreement,
      };
      const evidenceSha256 = await this.#deps.evidence.keep(request.requestId, new TextEncoder().encode(canonicalJson(evidence)));
      const line = `${summary.agreedCases} of ${summary.cases} studies agreed in shadow (${percent(agreement)}; the protocol asks ${percent(protocol.shadow.minAgreement)} of at least ${protocol.shadow.minCases})`;
      stored = await this.#record(stored, actor, { kind: 'record_gate', gate: 'shadow_agreement', passed, evidenceSha256, summary: line });
      ran.push({ gate: 'shadow_agreement', passed, evidenceSha256, summary: line });
      return { release: this.#view(stored), ran, waiting: null };
    }
    throw new PlatformError('RELEASE_TRANSITION_INVALID', `A request in state "${stored.request.state}" has no gate to run`, { state: stored.request.state });
  }

  /**
   * Signs the request with a meaning, after the signer authenticates again (their password, or an API
   * token of theirs issued in the last 5 minutes). The state machine refuses self-approval, a second
   * signature by the same person, and a role or meaning the protocol does not ask. Audited `release_signed`
   * with the signer's id, name, role and meaning (the entry's time is the signature's).
   */
  async sign(
    requestId: string,
    signer: UserRef,
    meaning: SignatureMeaning,
    proof: Reauthentication,
    /** The token the caller's request is authenticated with (HTTP): it cannot be the signing token too. */
    callerTokenId?: string,
  ): Promise<ReleaseView> {
    const person = await this.#person(signer, 'releases:sign');
    // Before the request is read: a wrong credential is refused alike for every request (unknown, draft,
    // approved…), so it discloses nothing, and it counts toward the rate limit on the name.
    const signingToken = await this.#reauthenticate(person, proof, callerTokenId);
    if (signingToken === false) throw reauthenticationFailed();
    const stored = await this.#load(requestId);
    const next = await this.#record(
      stored,
      { kind: 'user', userId: person.userId },
      { kind: 'sign', signer: person, meaning, reauthenticated: true },
      'password' in proof ? 'password' : 'token',
      // A signing token is spent as it signs: revoked only if still live (one statement), so of two
      // signatures sent with one token at once, one is stored and the other refused.
      signingToken === true
        ? undefined
        : async () => {
            if (!(await this.#deps.access.revokeToken(signingToken, person.userId))) return false;
            // Spent by its owner's signature: recorded as any revocation is.
            await this.#deps.recordAudit({ type: 'token_revoked', userId: person.userId, tokenId: signingToken, changedBy: person.userId, role: person.role });
            return true;
          },
    );
    return this.#view(next);
  }

  /** Starts the candidate in shadow beside production (an approved request whose protocol asks shadow agreement). */
  async startShadow(actor: ReleaseActor, requestId: string): Promise<ReleaseView> {
    return this.#deploy(actor, requestId, { kind: 'start_shadow' }, (r) => ({ kind: 'start_shadow', versionId: r.candidateVersionId, requestId: r.requestId }));
  }

  /** Lets the candidate judge a share of the site's studies (by study key), after approval (and shadow agreement, when asked). */
  async startCanary(actor: ReleaseActor, requestId: string, fraction: number): Promise<ReleaseView> {
    return this.#deploy(actor, requestId, { kind: 'start_canary', fraction }, (r) => ({
      kind: 'start_canary',
      versionId: r.candidateVersionId,
      fraction,
      requestId: r.requestId,
    }));
  }

  /**
   * Makes the candidate the site's production version. The request it replaces (if one put the old
   * version there) is retired; the old version stays in the site's history for rollback.
   */
  async promote(actor: ReleaseActor, requestIdOrPrefix: string): Promise<ReleaseView> {
    // The whole id from here on: a prefix compared with the ended candidate's id would retire this very request.
    const { site, requestId } = (await this.#load(requestIdOrPrefix)).request;
    const before = await this.#deps.deployments.status(site);
    const view = await this.#deploy(actor, requestId, { kind: 'promote' }, (r, d) =>
      d.candidate?.requestId === r.requestId ? { kind: 'promote' } : { kind: 'deploy', versionId: r.candidateVersionId, requestId: r.requestId },
    );
    if (before.productionRequestId !== null) await this.#retire(actor, before.productionRequestId);
    // Another request's candidate (in shadow or canary) ended with the production it ran beside.
    const ended = before.candidate?.requestId ?? null;
    if (ended !== null && ended !== requestId) await this.#retire(actor, ended);
    return view;
  }

  /** The deployment of every configured site. */
  deployments(): Promise<readonly SiteDeployment[]> {
    return this.#deps.deployments.list();
  }

  /** Pauses a site: every study goes to human review with the reason (audited by Deployments). */
  async pause(actor: ReleaseActor, site: string, reason: string): Promise<SiteDeployment> {
    return this.#deps.deployments.change(site, { kind: 'pause', reason }, await this.#by(actor));
  }

  async resume(actor: ReleaseActor, site: string): Promise<SiteDeployment> {
    return this.#deps.deployments.change(site, { kind: 'resume' }, await this.#by(actor));
  }

  /**
   * Restores the site's previous production version, the exact bundle by its hash (checked in the
   * archive before the switch: MODEL_HASH_MISMATCH if its bytes were altered). The request that had put
   * the rolled-back version in production is retired, and so is a candidate's the rollback ended; the
   * request that had put the restored version there is in production again.
   */
  async rollback(actor: ReleaseActor, site: string): Promise<SiteDeployment> {
    const current = await this.#deps.deployments.status(site);
    const previous = current.history.at(-1);
    if (previous !== undefined) await this.#deps.archive.open(previous);
    const next = await this.#deps.deployments.change(site, { kind: 'rollback' }, await this.#by(actor));
    if (current.productionRequestId !== null) await this.#retire(actor, current.productionRequestId);
    // The candidate ended with the rollback: its request (in shadow or canary) cannot go on against
    // another baseline, so it is retired too, rather than left in a state that can never proceed.
    if (current.candidate?.requestId != null) await this.#retire(actor, current.candidate.requestId);
    // The restored version's request is in production again (its gates and signatures approved it there).
    if (next.productionRequestId !== null) {
      const restored = await this.#deps.store.get(next.productionRequestId);
      if (restored?.request.state === 'retired') await this.#record(restored, actor, { kind: 'reinstate' });
    }
    return next;
  }

  async #evaluationGate(
    stored: StoredRelease,
    gate: GateName,
    dataset: string,
    declared: RasterDeclaration | undefined,
  ): Promise<{ passed: boolean; evidenceSha256: string; summary: string }> {
    const { request, protocol } = stored;
    const deps = this.#deps;
    const folder = await deps.evidence.runFolder(request.requestId, gate);
    const margin = protocol.nonInferiority?.margin;
    let referenceModelDir: string | undefined;
    let criteria: readonly string[] = protocol.criteria;
    if (gate === 'non_inferiority') {
      if (request.baselineVersionId === null || margin === undefined)
        throw new PlatformError('INTERNAL', 'A non-inferiority gate without a baseline or margin', {});
      referenceModelDir = await deps.archive.open(request.baselineVersionId);
      // The rule, as `vigil evaluate` checks it: the lower 95% bound of (candidate AUROC − baseline AUROC)
      // on the same cases, paired DeLong, above −margin.
      criteria = [`auroc noninferior to reference margin ${margin}`];
    }
    const criteriaPath = await deps.evidence.writeRunFile(
      folder,
      'criteria.txt',
      `# ${request.requestId}: ${gate} gate (protocol ${request.protocolSha256})\n${criteria.join('\n')}\n`,
    );
    const outcome = await deps.evaluate({
      modelDir: await deps.archive.open(request.candidateVersionId),
      dataset,
      out: folder,
      criteria: criteriaPath,
      ...(referenceModelDir === undefined ? {} : { referenceModelDir }),
      ...(declared === undefined ? {} : { declared }),
    });
    const report = outcome.report;
    if (report.dataset.sha256 !== validationDataFor(protocol, request.site)) {
      throw new PlatformError('RELEASE_DATA_MISMATCH', 'The evaluated dataset is not the validation data the protocol pins for this site', {});
    }
    const evidenceSha256 = await deps.evidence.keepRunFile(request.requestId, folder, 'report.json');
    const results = report.criteria?.results ?? [];
    const met = results.filter((r) => r.status === 'passed').length;
    const status = report.criteria?.status ?? 'not_evaluable';
    const summary =
      gate === 'criteria'
        ? `criteria ${status}: ${met} of ${results.length} met on ${report.metrics.overall.n} cases`
        : `non-inferiority ${status}: AUROC difference ${fixed(report.comparison?.difference.value)} (95% CI ${fixed(report.comparison?.difference.ciLow)} to ${fixed(report.comparison?.difference.ciHigh)}), margin ${margin}`;
    return { passed: status === 'passed', evidenceSha256, summary };
  }

  /** Applies one action and stores it over the revision read (RELEASE_TRANSITION_INVALID if another change came first); audits gates and signatures. */
  async #record(
    stored: StoredRelease,
    actor: ReleaseActor,
    action: ReleaseAction,
    reauthenticatedBy?: 'password' | 'token',
    spendProof?: () => Promise<boolean>,
  ): Promise<StoredRelease> {
    const next = applyReleaseAction(stored.request, action, stored.protocol, this.#now());
    // The action is allowed: the one-use proof is spent now, before the request is stored (not spent: refused).
    if (spendProof !== undefined && !(await spendProof())) throw reauthenticationFailed();
    if (!(await this.#deps.store.compareAndSet(next, stored.revision))) {
      throw new PlatformError('RELEASE_TRANSITION_INVALID', 'Another change to this request was made at the same moment; read it again', {
        state: stored.request.state,
      });
    }
    const by = actor.kind === 'user' ? actor.userId : 'local-cli';
    if (action.kind === 'record_gate') {
      await this.#deps.recordAudit({
        type: 'release_gate_recorded',
        requestId: next.requestId,
        gate: action.gate,
        passed: action.passed,
        evidenceSha256: action.evidenceSha256,
        summary: action.summary,
        state: next.state,
        by,
      });
    } else if (action.kind === 'sign') {
      await this.#deps.recordAudit({
        type: 'release_signed',
        requestId: next.requestId,
        signerId: action.signer.userId,
        signerName: action.signer.userName,
        role: action.signer.role,
        meaning: action.meaning,
        reauthenticatedBy: reauthenticatedBy ?? 'password',
        state: next.state,
      });
    }
    return { ...stored, request: next, revision: stored.revision + 1 };
  }

  /**
   * One rollout step: the state machine first (nothing changes if it refuses), then the site's
   * deployment (audited `deployment_changed` with the request id), then the request. The deployment is
   * the effect and goes first; if the request's write then loses a race, the error says so and the
   * deployment shows what runs.
   */
  async #deploy(
    actor: ReleaseActor,
    requestId: string,
    action: ReleaseAction,
    changeOf: (request: ReleaseRequest, deployment: SiteDeployment) => DeploymentChange,
  ): Promise<ReleaseView> {
    const stored = await this.#load(requestId);
    const { request } = stored;
    applyReleaseAction(request, action, stored.protocol, this.#now());
    // Duties split by identity (not only by role): a signer of this request does not deploy it.
    if (actor.kind === 'user') {
      const problem = deployerSignedProblem(request, actor.userId);
      if (problem !== undefined) throw problem;
    }
    const deployment = await this.#deps.deployments.status(request.site);
    if (deployment.production !== request.baselineVersionId) {
      throw new PlatformError(
        'RELEASE_TRANSITION_INVALID',
        'The site’s production version changed since the request was made (its evidence compared another baseline): make a new request',
        { state: request.state },
      );
    }
    await this.#deps.deployments.change(request.site, changeOf(request, deployment), await this.#by(actor));
    return this.#view(await this.#record(stored, actor, action));
  }

  async #resolvePrefix(idOrPrefix: string): Promise<string> {
    const prefix = idOrPrefix.toLowerCase();
    if (!RELEASE_ID_PREFIX.test(prefix))
      throw new PlatformError('RELEASE_NOT_FOUND', 'No release request has that id (give it whole, or r- and at least 8 of its characters)', {});
    return pickUniqueId(await this.#deps.store.idsStartingWith(prefix, 2), { code: 'RELEASE_NOT_FOUND', noun: 'release request' });
  }

  /** Retires a request in production, shadow or canary (the deployment change that ended it is the audit entry); any other state is left as it is. */
  async #retire(actor: ReleaseActor, requestId: string): Promise<void> {
    const stored = await this.#deps.store.get(requestId);
    const state = stored?.request.state;
    if (stored !== undefined && (state === 'production' || state === 'shadow' || state === 'canary')) await this.#record(stored, actor, { kind: 'retire' });
  }

  /**
   * Whether the signer proved again who they are. A wrong password counts toward sign-in's rate limit on
   * the user's name (the same key), so a borrowed token cannot guess the password through signing; it is
   * audited `login_failed`. While the name is limited, AUTH_RATE_LIMITED. True for a right password; a
   * signing token's id for a fresh token of the signer's (the caller spends it as the signature is stored).
   */
  async #reauthenticate(person: Person, proof: Reauthentication, callerTokenId: string | undefined): Promise<boolean | string> {
    const { sessions, credentials, access, loginLimit } = this.#deps;
    const userId = person.userId;
    if ('password' in proof) {
      const now = this.#deps.clock.now().getTime();
      const key = credentials.digest(`user:${person.userName.toLowerCase()}`);
      const verdict = rateVerdict(await sessions.failuresSince(key, now - loginLimit.windowMs), now, loginLimit);
      if (verdict.limited) {
        throw new PlatformError('AUTH_RATE_LIMITED', 'Too many failed password attempts: try again later', {
          retryAfterSeconds: Math.ceil(verdict.retryAfterMs / 1000),
        });
      }
      const credential = await sessions.credentialById(userId);
      const ok = credential?.passwordHash != null && (await credentials.verifyPassword(proof.password, credential.passwordHash));
      if (!ok) {
        await sessions.recordFailure([key], now, now - loginLimit.windowMs);
        await this.#deps.recordAudit({
          type: 'login_failed',
          userId,
          method: 'password',
          reason: credential?.passwordHash == null ? 'no_password' : 'wrong_password',
        });
      }
      return ok;
    }
    // A token re-authenticates only a token-only user: whoever issued a token knows its secret, so for a
    // user who has a password, only the password is a component that user alone knows (21 CFR 11.200).
    if ((await sessions.credentialById(userId))?.passwordHash != null) return false;
    const principal = await access.authenticate(proof.token);
    if (principal?.userId !== userId) return false;
    // The bearer token of the request again proves nothing more than the request already did.
    if (principal.tokenId === callerTokenId) return false;
    const token = (await access.listTokens(userId)).find((t) => t.tokenId === principal.tokenId);
    // Fresh: the token id to spend when the signature is stored.
    return token !== undefined && this.#deps.clock.now().getTime() - Date.parse(token.createdAt) <= FRESH_TOKEN_MS ? principal.tokenId : false;
  }

  async #person(ref: UserRef, permission: Permission): Promise<Person> {
    const user = 'userId' in ref ? await this.#deps.access.userById(ref.userId) : await this.#deps.access.userByName(ref.userName);
    if (user === undefined || user.disabled) throw new PlatformError('ACCESS_USER_NOT_FOUND', 'No enabled user has that name or id', {});
    if (!hasPermission(user.role, permission)) {
      throw new PlatformError('AUTH_FORBIDDEN', `A ${user.role} may not do this (it needs ${permission})`, { role: user.role });
    }
    return { userId: user.userId, userName: user.name, role: user.role };
  }

  /** How Deployments names who changed a site: a user's login name, or `local-cli`. */
  async #by(actor: ReleaseActor): Promise<string> {
    if (actor.kind === 'local-cli') return 'local-cli';
    return (await this.#deps.access.userById(actor.userId))?.name ?? actor.userId;
  }

  /** A request by its id or a unique prefix of it (RELEASE_ID_PREFIX; the rule of domain/id-prefix.ts, as model versions'). */
  async #load(idOrPrefix: string): Promise<StoredRelease> {
    const requestId = RELEASE_ID.test(idOrPrefix) ? idOrPrefix : await this.#resolvePrefix(idOrPrefix);
    const stored = await this.#deps.store.get(requestId);
    if (stored === undefined) throw new PlatformError('RELEASE_NOT_FOUND', 'No release request has that id', {});
    // The protocol kept with the request must still be the one it pinned.
    if (this.#deps.hasher.sha256Hex(canonicalJson(stored.protocol)) !== stored.request.protocolSha256) {
      throw new PlatformError('RELEASE_PROTOCOL_INVALID', 'The protocol stored with this request no longer matches the SHA-256 it pinned', {});
    }
    return stored;
  }

  #view(stored: StoredRelease): ReleaseView {
    const { request, protocol } = stored;
    const pendingGates =
      request.state === 'draft'
        ? preDeploymentGates(protocol).filter((g) => !gatePassed(request, g))
        : request.state === 'shadow' && protocol.shadow !== null && !gatePassed(request, 'shadow_agreement')
          ? (['shadow_agreement'] as const)
          : [];
    return {
      request,
      protocol,
      missingApprovals: ['draft', 'validated'].includes(request.state) ? missingApprovals(request, protocol) : [],
      pendingGates: [...pendingGates],
      validationDataSha256: validationDataFor(protocol, request.site) ?? null,
    };
  }

  #now(): string {
    return this.#deps.clock.now().toISOString();
  }
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
const fixed = (x: number | undefined): string => (x === undefined ? '?' : x.toFixed(4));
