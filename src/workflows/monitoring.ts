import type { AuditEvent } from '../domain/audit/audit-event.js';
import {
  acquisitionIndicators,
  designAcquisitionSignals,
  NONE,
  type AcquisitionRecord,
  type AcquisitionSignals,
} from '../domain/monitoring/acquisition-signals.js';
import type { SiteDeployment } from '../domain/deployment/deployment.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import {
  MONITOR_SIGNAL_NAMES,
  REVIEW_STRATA,
  reviewStratumOfValues,
  reviewWrongOf,
  signalVectorOf,
  type ImageMeasures,
} from '../domain/monitoring/case-signals.js';
import { projectEmbedding, roundSummary } from '../domain/monitoring/embedding-summary.js';
import type { embeddingReferenceOf, VersionReviewReference } from '../domain/monitoring/monitoring-reference-file.js';
import type { ReviewPlanDesign } from '../domain/monitoring/deployment-plan.js';
import {
  createMonitorState,
  DEFAULT_SIGNALS,
  updateMonitors,
  type MonitorAlert,
  type MonitorDesign,
  type SignalSpec,
  type MonitorPlan,
  type MonitorState,
} from '../domain/monitoring/deployment-monitors.js';
import {
  designDeploymentPlan,
  EMBEDDING_DRIFT_WINDOW,
  hasEnoughEmbeddingRows,
  type EmbeddingDriftRequest,
  type ReferenceKind,
} from '../domain/monitoring/deployment-plan.js';
import { onlineMmdReferenceAffinity, onlineMmdThreshold } from '../domain/monitoring/embedding-drift.js';
import { decodeMonitorPlan, decodeMonitorState, encodeMonitorPlan, encodeMonitorState } from '../domain/monitoring/monitor-snapshot.js';
import { normalScore } from '../domain/monitoring/normal-score.js';
import {
  labelFreePerformance,
  LABEL_FREE_ASSUMPTION,
  type EstimatedRate,
  type LabelFreeCase,
  type LabelFreePerformance,
} from '../domain/monitoring/label-free-performance.js';
import { reviewedPerformance, type ReviewedCase, type WeightedRate } from '../domain/monitoring/reviewed-performance.js';
import type { AuditSearch } from '../ports/audit-search.js';
import type { Clock } from '../ports/clock.js';
import type { Hasher } from '../ports/hasher.js';
import type { IncidentStore } from '../ports/incident-store.js';
import type { Logger } from '../ports/logger.js';
import type { WorklistStore } from '../ports/worklist-store.js';
import type { WorklistReason } from '../domain/review/worklist.js';
import type { DeploymentKey, MonitorCase, MonitorStore, NewMonitorCase, StoredAlert, StoredMonitorPlan } from '../ports/monitor-store.js';
import { raiseIncident, type IncidentNotices } from './incidents.js';
import { alertView, type MonitoringNotice } from './monitoring-views.js';
import { scanAudit } from './scan-audit.js';

/** How a deployment's monitors are designed (config: VIGIL_MONITOR_*; docs/monitoring.md, "In the server"). */
export interface MonitoringSettings {
  /** "At most one false alarm per `falseAlarmDays` days" for a deployment … */
  readonly falseAlarmDays: number;
  /** … at this many cases a day (a site's own volume when the sites file gives one). */
  readonly casesPerDay: number;
  readonly casesPerDayBySite: ReadonlyMap<string, number>;
  /** Without a version reference: the deployment's first this many cases are its reference. */
  readonly baselineCases: number;
  /**
   * Bootstrap resamples for thresholds that allow for the reference being a sample (0: none), on every
   * signal, at the quantile measured for the reference kind (domain/monitoring/deployment-plan.ts).
   */
  readonly guaranteeBootstraps: number;
  /** Cells of the run-length chains (fewer: faster designs, coarser ARLs). */
  readonly designStates: number;
  /** The share of confident decisions sampled for review (VIGIL_REVIEW_SAMPLE_RATE): a sampled case's inclusion probability. */
  readonly reviewSampleRate: number;
  /** The embedding detector's window W (default EMBEDDING_DRIFT_WINDOW) and bootstrap splits (default EMBEDDING_DRIFT_BOOTSTRAPS). */
  readonly embeddingWindow?: number;
  readonly embeddingBootstraps?: number;
}

/** One judged image's monitor inputs: its name in the instance store, what the chain measured, and its device. */
export interface MonitoredImage {
  readonly imageRef: string;
  readonly measures: ImageMeasures;
  readonly device: { readonly manufacturer: string | null; readonly model: string | null } | null;
  /** How it was made (acquisition-signals.ts), as far as the de-identified metadata tells. */
  readonly acquisition?: AcquisitionRecord;
}

/** A study as judged for a deployment (production or canary; a shadow candidate's judgement is not monitored). */
export interface JudgedForMonitoring {
  readonly site: string;
  readonly versionId: string;
  readonly origin: 'production' | 'canary';
  readonly caseId: string;
  readonly studyKey: string;
  readonly images: readonly MonitoredImage[];
}

export interface MonitoringDependencies {
  readonly store: MonitorStore;
  readonly incidents: IncidentStore;
  /** Every configured site's deployment (workflows/deployments.ts `list`). */
  readonly deployments: () => Promise<readonly SiteDeployment[]>;
  /** The version's own reference values per signal (its bundle's monitoring-reference.json), if it carries one. */
  readonly versionReference: (versionId: string) => Promise<ReadonlyMap<string, ArrayLike<number>> | undefined>;
  /**
   * The version's embedding projection and reference summaries (its monitoring-reference.json), or why it
   * has none. Absent: no embedding summary is kept.
   */
  readonly versionEmbedding?: (versionId: string) => Promise<VersionEmbedding>;
  /**
   * The version's review strata — per stratum its reference cases and errors (its labels' summary in
   * monitoring-reference.json, or its manifest's validation metrics) — or why it has none. Absent: the
   * plan has no review detectors.
   */
  readonly versionReviewReference?: (versionId: string) => Promise<VersionReviewReference>;
  readonly hasher: Hasher;
  readonly clock: Clock;
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
  /**
   * The same audit log, searched: whether a stored alert this server finds on replay was audited
   * (`#auditOnce`). Without it, a repeat is never audited again (an alert whose server died between
   * storing and auditing it then stays unaudited).
   */
  readonly auditSearch?: AuditSearch;
  /** How long to wait before auditing a stored, unaudited alert found on replay (default 1 s; see Deployments). */
  readonly auditSettleMs?: number;
  /** The review worklist's reads and items: performance from reviews (`performance`). Absent: none is reported. */
  readonly reviews?: Pick<WorklistStore, 'listReviews' | 'get'>;
  /** Sends a notice without waiting (a queue in front of the webhook): judging never waits for it. */
  readonly notify: (notice: MonitoringNotice) => void;
  readonly logger: Logger;
  readonly settings: MonitoringSettings;
  /** New incident ids (default: random UUIDs through the hasher-free crypto of the platform). */
  readonly newId: () => string;
  /**
   * Designs a plan and returns it encoded (monitor-snapshot.ts), e.g. on a worker thread so the event
   * loop stays free (adapters/monitor-design-worker). Default: `designDeploymentPlan` on this thread.
   */
  readonly designPlan?: (request: {
    readonly reference: Readonly<Record<string, Float64Array>>;
    readonly design: Omit<MonitorDesign, 'guarantee'>;
    readonly guarantee: { readonly kind: ReferenceKind; readonly bootstraps: number };
    readonly signals: readonly SignalSpec[];
    readonly embedding?: EmbeddingDriftRequest;
    readonly review?: ReviewPlanDesign;
  }) => Promise<string>;
}

/** A clinician's read of a worklist item, as the review detectors take it (workflows/record-review.ts). */
export interface ReviewForMonitoring {
  readonly itemId: string;
  readonly caseId: string;
  /** Why the item was on the worklist: only a random sample (`random_sample` alone) was reviewed at the rate. */
  readonly reasons: readonly WorklistReason[];
  /** The reader's finding; null (could not tell) feeds nothing. */
  readonly findingPresent: boolean | null;
}

/** A version's embedding reference (domain/monitoring/monitoring-reference-file.ts `embeddingReferenceOf`), or why there is none. */
export type VersionEmbedding = ReturnType<typeof embeddingReferenceOf>;

/** A deployment's monitor status (contract: monitorStatusSchema). */
export interface MonitorStatus {
  readonly site: string;
  readonly versionId: string | null;
  readonly role: 'production' | 'canary';
  readonly state: 'not_deployed' | 'collecting_baseline' | 'monitoring';
  readonly baseline: { readonly collected: number; readonly needed: number } | null;
  readonly reference: { readonly kind: 'version' | 'baseline'; readonly cases: number } | null;
  readonly cases: number;
  readonly consumed: number;
  readonly lastCaseAt: string | null;
  readonly nearest: { readonly detector: string; readonly label: string; readonly fractionOfThreshold: number } | null;
  readonly alerts: number;
  readonly lastAlertAt: string | null;
  readonly openIncident: { readonly incidentId: string; readonly severity: 'medium' | 'high'; readonly state: 'open' | 'acknowledged' | 'resolved' } | null;
  readonly pausedReason: string | null;
}

/** Cases replayed per read while advancing a state. */
const CHUNK = 5_000;
/** Compare-and-set attempts before an update gives up (the next judged study advances it again). */
const MAX_ATTEMPTS = 8;
/** Cases of an alarm's window read for its devices and examples (the newest ones). */
const WINDOW_READ = 2_000;
/** Cases a time series is drawn from (the deployment's newest). */
export const SERIES_CASES = 20_000;
const HOUR_MS = 3_600_000;

const keyText = (key: DeploymentKey): string => `${key.site}\u0000${key.versionId}`;

/**
 * Production monitoring (issue 12 §1–§2): each judged image's signal vector is appended to the monitor
 * store as the study is judged; a deployment's detectors (domain/monitoring/deployment-monitors.ts)
 * consume the stored values in order and keep their state in the store, advanced by compare-and-set, so
 * that servers sharing a PostgreSQL database never raise the same alarm twice: a server that loses the
 * race reloads the state and replays the stored values after its `lastSeq` (which the winner consumed).
 *
 * Detector inputs are stored values, never images: recomputing a state from a deployment's stored
 * cases gives the incremental state (the `time` fed to each update is the case's seq, so an alert's
 * window is named by seq and dated from its cases).
 */
export class DeploymentMonitoring {
  readonly #deps: MonitoringDependencies;
  readonly #plans = new Map<string, { readonly stored: StoredMonitorPlan; readonly plan: MonitorPlan }>();
  /** One advance at a time per deployment in this process (another server may still race: compare-and-set). */
  readonly #running = new Map<string, Promise<unknown>>();
  /** Per version: its embedding reference, read once (a version's bundle is immutable). */
  readonly #embeddings = new Map<string, Promise<VersionEmbedding>>();

  constructor(deps: MonitoringDependencies) {
    this.#deps = deps;
  }

  get settings(): MonitoringSettings {
    return this.#deps.settings;
  }

  /**
   * Records a judged study's images for its deployment and advances the deployment's monitors. Never
   * throws: monitoring is beside judging, and a failure is logged (the next study advances it again;
   * the appended values are kept).
   */
  async recordJudged(judged: JudgedForMonitoring): Promise<readonly StoredAlert[]> {
    try {
      const timeMs = this.#deps.clock.now().getTime();
      // An unreadable reference costs this study its summaries, never its values.
      const embedding = await this.embeddingReference(judged.versionId).catch((cause: unknown): VersionEmbedding => ({
        kind: 'none',
        reason: `its monitoring reference could not be read (${toPlatformError(cause).code})`,
      }));
      const cases: NewMonitorCase[] = judged.images.map((image) => ({
        site: judged.site,
        versionId: judged.versionId,
        origin: judged.origin,
        caseId: judged.caseId,
        imageRef: image.imageRef,
        studyKey: judged.studyKey,
        timeMs,
        device: image.device,
        acquisition: image.acquisition ?? null,
        values: Array.from(signalVectorOf(image.measures)),
        embedding: embeddingSummaryOf(embedding, image.measures.embedding),
      }));
      if (cases.length === 0) return [];
      await this.#deps.store.appendCases(cases);
      return await this.advance({ site: judged.site, versionId: judged.versionId });
    } catch (cause) {
      const error = toPlatformError(cause);
      this.#deps.logger.warn({ stage: 'monitor', site: judged.site, code: error.code, status: 'failed' }, 'monitor update failed');
      return [];
    }
  }

  /**
   * Feeds a clinician's review to the review detectors (docs/monitoring.md, "Detection from reviews"):
   * when the item was a random sample of confident decisions (reviewed at the sample rate; a rule-sent
   * item is not: its inclusion is not the rate), each of the case's monitored images in a review stratum
   * (a confident positive or negative) gets a review event in its deployment's stream — 1 when the read
   * contradicts the decision, 0 when it agrees — and the deployment advances, so the existing
   * advance/alert/compare-and-set machinery runs it. Idempotent: the event's image ref is
   * `review:<imageRef>` under the case, unique in the store, so a review recorded again (a retry) feeds
   * nothing more; a later, different read of the same image is not fed either (the first review stands in
   * the detectors; performance uses the newest). Never throws: returns the alerts raised.
   */
  async recordReviewed(review: ReviewForMonitoring): Promise<readonly StoredAlert[]> {
    if (review.findingPresent === null || review.reasons.length !== 1 || review.reasons[0] !== 'random_sample') return [];
    const findingPresent = review.findingPresent;
    try {
      const timeMs = this.#deps.clock.now().getTime();
      const events: NewMonitorCase[] = [];
      for (const image of await this.#deps.store.caseImages(review.caseId)) {
        const stratum = reviewStratumOfValues(image.values);
        if (stratum === null) continue;
        events.push({
          site: image.site,
          versionId: image.versionId,
          origin: image.origin,
          caseId: image.caseId,
          imageRef: `review:${image.imageRef}`,
          studyKey: image.studyKey,
          timeMs,
          device: image.device,
          values: MONITOR_SIGNAL_NAMES.map(() => Number.NaN),
          acquisition: null,
          embedding: null,
          review: { stratum, wrong: reviewWrongOf(stratum, findingPresent) },
        });
      }
      if (events.length === 0) return [];
      await this.#deps.store.appendCases(events);
      const keys = new Map(events.map((e) => [keyText(e), { site: e.site, versionId: e.versionId }]));
      const raised: StoredAlert[] = [];
      // Advanced now only where a plan is stored: a design (seconds of CPU) is left to the judging job's
      // monitor step, which consumes this event with the next study.
      for (const key of keys.values()) if ((await this.#storedPlanOnly(key)) !== undefined) raised.push(...(await this.advance(key)));
      return raised;
    } catch (cause) {
      const error = toPlatformError(cause);
      this.#deps.logger.warn({ stage: 'monitor', code: error.code, status: 'failed' }, 'monitor review update failed');
      return [];
    }
  }

  /**
   * A version's embedding reference (the projection its cases' summaries are made with, and the reference
   * images' summaries the multivariate drift detectors compare them with), or why it has none — said
   * once in the log per version. Read once per version and process.
   */
  embeddingReference(versionId: string): Promise<VersionEmbedding> {
    let found = this.#embeddings.get(versionId);
    if (found === undefined) {
      const read = this.#deps.versionEmbedding;
      found = (read === undefined ? Promise.resolve<VersionEmbedding>({ kind: 'none', reason: 'no embedding reader is configured' }) : read(versionId)).then(
        (e) => {
          if (e.kind === 'none')
            this.#deps.logger.info(
              { stage: 'monitor', versionId, status: 'no_embedding_summary' },
              `no embedding summary is kept for this version: ${e.reason}`,
            );
          return e;
        },
      );
      // A failed read (an archive briefly unreadable) is not remembered: the next study reads again.
      found.catch(() => this.#embeddings.delete(versionId));
      this.#embeddings.set(versionId, found);
    }
    return found;
  }

  /** Consumes a deployment's stored cases not yet consumed; returns the alerts this call raised. */
  advance(key: DeploymentKey): Promise<readonly StoredAlert[]> {
    const k = keyText(key);
    const previous = this.#running.get(k) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#advance(key));
    this.#running.set(k, next);
    // Cleared either way; `then(f, f)` rather than `finally`, whose promise would re-reject unhandled
    // when an advance fails (the caller handles that rejection; an unhandled one ends the process).
    const clear = () => {
      if (this.#running.get(k) === next) this.#running.delete(k);
    };
    void next.then(clear, clear);
    return next;
  }

  async #advance(key: DeploymentKey): Promise<readonly StoredAlert[]> {
    const designed = await this.plan(key);
    if (designed === undefined) return [];
    const { stored: storedPlan, plan } = designed;
    const created: StoredAlert[] = [];
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#deps.store.getState(key);
      if (current !== undefined && current.planHash !== storedPlan.planHash) {
        throw new PlatformError('STORE_WRITE_FAILED', 'The stored monitor state belongs to another plan', { site: key.site });
      }
      const state = current === undefined ? createMonitorState(plan) : decodeMonitorState(plan, current.state);
      const startSeq = current?.lastSeq ?? (storedPlan.reference.kind === 'baseline' ? storedPlan.reference.lastSeq : 0);
      let lastSeq = startSeq;
      const raised: { readonly alert: MonitorAlert; readonly alarmSeq: number }[] = [];
      for (;;) {
        const chunk = await this.#deps.store.readCases(key, lastSeq, CHUNK);
        for (const c of chunk) {
          // The case's seq as the update's `time`: alerts then name their window by seq.
          // A case without an embedding summary (gate-rejected, or stored before the version had a projection) skips the embedding detector.
          for (const alert of updateMonitors(plan, state, valuesOf(storedPlan, c), c.seq, c.embedding ?? null)) raised.push({ alert, alarmSeq: c.seq });
        }
        if (chunk.length === 0) break;
        lastSeq = chunk[chunk.length - 1]!.seq;
        if (chunk.length < CHUNK) break;
      }
      if (lastSeq === startSeq) return created; // nothing left (another server consumed it): what this call stored before
      // Alerts first, then the state (docs/monitoring.md, "An alert is never lost"): each alert is
      // stored, filed and audited idempotently under its deterministic id before the state moves past
      // its case, so a server that dies anywhere in between raises the same ids again on replay, and
      // the store refuses the repeats. A server that loses the compare-and-set below has stored only
      // what the winner stores too (the same alarms over the same stored values).
      for (const r of raised) {
        const alert = await this.#raise(key, storedPlan, plan, r.alert, r.alarmSeq);
        if (alert !== undefined) created.push(alert);
      }
      const written = await this.#deps.store.compareAndSetState({
        site: key.site,
        versionId: key.versionId,
        planHash: storedPlan.planHash,
        state: encodeMonitorState(state),
        lastSeq,
        revision: (current?.revision ?? 0) + 1,
        updatedAt: this.#deps.clock.now().toISOString(),
      });
      if (!written) continue; // another server consumed these cases first: reload and replay what is left
      return created;
    }
    this.#deps.logger.warn({ stage: 'monitor', site: key.site, status: 'contended' }, 'monitor state kept changing; left for the next update');
    return created;
  }

  /**
   * Stores, files, audits and announces one alarm, idempotently: its id is the deployment's, the plan's,
   * the detector's and the alarm case's, so raising it again (a replay after a crash, or a second server
   * replaying the same cases) finds it stored. Then only what is missing is done: the incident link if
   * it has none, and the audit entry if the log has none (`#auditOnce`). Returns the alert when this
   * call stored it or recovered its audit (undefined for a repeat), and announces only then.
   */
  async #raise(key: DeploymentKey, storedPlan: StoredMonitorPlan, plan: MonitorPlan, alert: MonitorAlert, alarmSeq: number): Promise<StoredAlert | undefined> {
    const alertId = `al-${this.#deps.hasher.sha256Hex(`${key.site}\u0000${key.versionId}\u0000${storedPlan.planHash}\u0000${alert.detector}\u0000${alarmSeq}`).slice(0, 32)}`;
    let stored = await this.#deps.store.getAlert(alertId);
    let created = false;
    if (stored === undefined) {
      const windowStartSeq = alert.windowStartTime ?? alarmSeq;
      const windowCases = await this.#deps.store.readCases(key, Math.max(windowStartSeq - 1, alarmSeq - WINDOW_READ), WINDOW_READ);
      const inWindow = windowCases.filter((c) => c.seq <= alarmSeq);
      const first = inWindow.find((c) => c.seq === windowStartSeq) ?? inWindow[0];
      const last = inWindow[inWindow.length - 1];
      const dated: MonitorAlert = {
        ...alert,
        windowStartTime: first === undefined ? null : first.timeMs,
        alarmTime: last === undefined ? null : last.timeMs,
      };
      const fresh: StoredAlert = {
        alertId,
        site: key.site,
        versionId: key.versionId,
        planHash: storedPlan.planHash,
        alarmSeq,
        alert: dated,
        devices: devicesOf(inWindow.filter((c) => c.review === null || c.review === undefined)),
        exampleCaseIds: examplesOf(inWindow, alert, storedPlan, plan),
        incidentId: null,
        createdAt: this.#deps.clock.now().toISOString(),
      };
      created = await this.#deps.store.putAlert(fresh);
      stored = created ? fresh : await this.#deps.store.getAlert(alertId);
      if (stored === undefined) throw new PlatformError('STORE_WRITE_FAILED', 'A stored alert could not be read back', { site: key.site });
    }
    let incidentId = stored.incidentId;
    if (incidentId === null) {
      // Joins the deployment's open incident, or opens one; an alert already in the open incident's
      // timeline (filed before a crash, not yet linked back) is not added twice (linkAlert).
      const incident = await raiseIncident(this.#incidentDeps(), key, {
        alertId,
        detector: alert.detector,
        signal: alert.signal,
        label: alert.label,
        at: stored.createdAt,
      });
      incidentId = incident.incidentId;
      await this.#deps.store.setAlertIncident(alertId, incidentId);
    }
    const event: AuditEvent = {
      type: 'monitor_alert',
      alertId,
      site: key.site,
      versionId: key.versionId,
      planHash: storedPlan.planHash,
      detector: alert.detector,
      statistic: stored.alert.statistic,
      threshold: stored.alert.threshold,
      arl0: Number.isFinite(stored.alert.arl0) ? stored.alert.arl0 : null,
      runLength: stored.alert.runLength,
      effect: stored.alert.effect.kind === 'rate' ? stored.alert.effect.observed : stored.alert.effect.value,
      windowCases: stored.alert.effect.cases,
      incidentId,
    };
    const recovered = created ? (await this.#deps.recordAudit(event), false) : await this.#auditOnce(event);
    // Announced with its audit entry: by the server that stored it, or by the replay that recovered it.
    if (!created && !recovered) return undefined;
    this.#deps.notify({
      kind: 'alert',
      alertId,
      site: key.site,
      versionId: key.versionId,
      detector: alert.detector,
      label: alert.label,
      statistic: alert.statistic,
      threshold: alert.threshold,
      incidentId,
      at: stored.createdAt,
    });
    this.#deps.logger.info({ stage: 'monitor', site: key.site, versionId: key.versionId, status: 'alarm' }, 'monitor alarm');
    return { ...stored, incidentId };
  }

  /**
   * Audits a stored alert this call did not create, unless the log has it: the reconciliation for an
   * alert whose server died between storing and auditing it. The server that stored it audits within
   * milliseconds, so a missing entry is looked for again after `auditSettleMs` before it is written
   * (as Deployments.reconcileAudit does for deployment changes): a live server's entry is not doubled.
   */
  async #auditOnce(event: Extract<AuditEvent, { type: 'monitor_alert' }>): Promise<boolean> {
    const search = this.#deps.auditSearch;
    if (search === undefined) return false;
    const audited = async (): Promise<boolean> => {
      let found = false;
      await scanAudit(search, { type: 'monitor_alert', pageSize: 200 }, ({ event: e }) => {
        found = e.type === 'monitor_alert' && e.alertId === event.alertId;
        return found;
      });
      return found;
    };
    if (await audited()) return false;
    await new Promise((resolve) => setTimeout(resolve, this.#deps.auditSettleMs ?? 1_000));
    if (await audited()) return false;
    await this.#deps.recordAudit(event);
    this.#deps.logger.warn({ stage: 'monitor', site: event.site, status: 'audit_recovered' }, 'an unaudited monitor alert was audited on replay');
    return true;
  }

  #incidentDeps(): IncidentNotices {
    return {
      incidents: this.#deps.incidents,
      recordAudit: this.#deps.recordAudit,
      notify: this.#deps.notify,
      hasher: this.#deps.hasher,
      newId: this.#deps.newId,
    };
  }

  /**
   * The deployment's plan: stored, or designed now from the version's reference, or from its first
   * `baselineCases` cases once it has them (undefined while it collects them). Two servers designing
   * at once design the same plan (seeded); the store keeps the first.
   */
  async plan(key: DeploymentKey): Promise<{ readonly stored: StoredMonitorPlan; readonly plan: MonitorPlan } | undefined> {
    const cached = this.#plans.get(keyText(key));
    if (cached !== undefined) return cached;
    let stored = await this.#deps.store.getPlan(key);
    if (stored === undefined) {
      const designed = await this.#design(key);
      if (designed === undefined) return undefined;
      if (!(await this.#deps.store.putPlan(designed))) stored = await this.#deps.store.getPlan(key);
      stored ??= designed;
    }
    const entry = { stored, plan: decodeMonitorPlan(stored.plan) };
    this.#plans.set(keyText(key), entry);
    return entry;
  }

  async #design(key: DeploymentKey): Promise<StoredMonitorPlan | undefined> {
    const s = this.#deps.settings;
    const design = {
      falseAlarmDays: s.falseAlarmDays,
      casesPerDay: s.casesPerDayBySite.get(key.site) ?? s.casesPerDay,
      states: s.designStates,
    };
    const fromVersion = await this.#deps.versionReference(key.versionId);
    let reference: ReadonlyMap<string, ArrayLike<number>>;
    let acquisition: AcquisitionSignals | undefined;
    let acquisitionNote: string | undefined;
    let source: StoredMonitorPlan['reference'];
    if (fromVersion !== undefined) {
      reference = fromVersion;
      source = { kind: 'version', cases: fromVersion.get(MONITOR_SIGNAL_NAMES[0]!)?.length ?? 0 };
      acquisitionNote = 'the version reference carries no acquisition records: acquisition metadata is not watched';
    } else {
      // The baseline begins after the site's go-live mark when one is set (startBaseline), else with the first case.
      const start = (await this.#deps.store.getBaselineStart(key.site)) ?? 0;
      if ((await this.#deps.store.countCases(key, start)) < s.baselineCases) return undefined;
      const baseline = await this.#deps.store.readCases(key, start, s.baselineCases, { imagesOnly: true });
      reference = new Map(MONITOR_SIGNAL_NAMES.map((name, i) => [name, Float64Array.from(baseline, (c) => c.values[i] ?? Number.NaN)]));
      source = { kind: 'baseline', cases: baseline.length, lastSeq: baseline[baseline.length - 1]!.seq };
      acquisition = statedAcquisitionSignals(designAcquisitionSignals(baseline.map((c) => c.acquisition ?? {})));
      if (acquisition === undefined) acquisitionNote = 'the baseline states no acquisition field: acquisition metadata is not watched';
      else {
        const acq = acquisition;
        const columns = acq.signals.map(() => new Float64Array(baseline.length));
        baseline.forEach((c, i) => acquisitionIndicators(acq, c.acquisition ?? {}).forEach((v, j) => (columns[j]![i] = v)));
        reference = new Map([...reference, ...acq.signals.map((sig, j) => [sig.name, columns[j]!] as const)]);
      }
    }
    const signals = acquisition === undefined ? DEFAULT_SIGNALS : [...DEFAULT_SIGNALS, ...acquisition.signals];
    // The embedding detector comes from the version's embedding reference whatever the signals' reference
    // is: the projection and the reference rows are the version's (a production baseline's summaries are
    // made with that same projection, but the version's rows are the images the projection was fitted on).
    const window = s.embeddingWindow ?? EMBEDDING_DRIFT_WINDOW;
    const versionEmbedding = await this.embeddingReference(key.versionId);
    let embedding: EmbeddingDriftRequest | undefined;
    let embeddingNote: string | undefined;
    if (versionEmbedding.kind === 'none') embeddingNote = `the embedding is not watched: ${versionEmbedding.reason}`;
    else if (!hasEnoughEmbeddingRows(versionEmbedding.reference.projected.length, window))
      embeddingNote = `the embedding is not watched: ${versionEmbedding.reference.projected.length} reference summaries, fewer than the ${4 * window} an online MMD with a window of ${window} needs`;
    else
      embedding = {
        rows: versionEmbedding.reference.projected,
        windowSize: window,
        ...(s.embeddingBootstraps === undefined ? {} : { bootstraps: s.embeddingBootstraps }),
      };
    const { review, reviewNote } = await this.#reviewDesign(key, source.kind === 'baseline' ? reference : undefined);
    // Either reference is a sample (a few hundred validation images, or a window of production): every
    // threshold allows for that, at the quantile measured for its kind. Once per deployment (then
    // stored): ≈ 1–1.6 s of CPU the first time a reference size is seen, ≈ 0.2–0.4 s after
    // (docs/monitoring.md). It runs here, in the judging job's monitor step (never in a request
    // handler), and in the server on a worker thread (`designPlan`), so judging and requests go on.
    const started = performance.now();
    const request = {
      reference: Object.fromEntries([...reference].map(([name, values]) => [name, Float64Array.from(values)])),
      design,
      guarantee: { kind: source.kind, bootstraps: s.guaranteeBootstraps },
      signals,
      ...(embedding === undefined ? {} : { embedding }),
      ...(review === undefined ? {} : { review: { strata: review.strata, sampleRate: review.sampleRate } }),
    };
    const text =
      this.#deps.designPlan === undefined
        ? encodeMonitorPlan(
            designDeploymentPlan(new Map(Object.entries(request.reference)), request.design, request.guarantee, signals, embedding, request.review),
          )
        : await this.#deps.designPlan(request);
    const designMs = Math.round(performance.now() - started);
    this.#deps.logger.info({ stage: 'monitor', site: key.site, durationMs: designMs, status: 'designed' }, 'monitors designed');
    return {
      site: key.site,
      versionId: key.versionId,
      planHash: this.#deps.hasher.sha256Hex(text),
      plan: text,
      reference: source,
      designMs,
      createdAt: this.#deps.clock.now().toISOString(),
      ...(acquisition === undefined ? {} : { acquisition }),
      ...(acquisitionNote === undefined ? {} : { acquisitionNote }),
      ...(embeddingNote === undefined ? {} : { embeddingNote }),
      ...(review === undefined ? {} : { review }),
      ...(reviewNote === undefined ? {} : { reviewNote }),
    };
  }

  /**
   * Go-live at `site`: its production baselines begin after the newest case recorded now (of any of its
   * deployments); what was judged before (commissioning, connection tests, the demo's sample files) stays
   * recorded and shown, but is neither a baseline's reference nor watched. Once per site (a second call
   * keeps the first mark), and it changes no plan designed already. Returns the seq the baselines begin after.
   */
  startBaseline(site: string): Promise<number> {
    return this.#deps.store.startBaseline(site, this.#deps.clock.now());
  }

  /**
   * The review detectors of a new plan: the version's strata (p₀ from its labels) at the configured
   * sample rate of confident decisions, or why there are none. On a production baseline (`baseline`: its
   * signal columns) each stratum's share of cases is the baseline's (what production sends for review),
   * its error rate still the version's; a stratum the baseline never saw keeps the reference's share.
   */
  async #reviewDesign(
    key: DeploymentKey,
    baseline: ReadonlyMap<string, ArrayLike<number>> | undefined,
  ): Promise<{ readonly review?: NonNullable<StoredMonitorPlan['review']>; readonly reviewNote?: string }> {
    const sampleRate = Math.min(1, this.#deps.settings.reviewSampleRate);
    if (!(sampleRate > 0)) return { reviewNote: 'the review sample rate is 0: no confident decision is reviewed at random, so no review detector is designed' };
    const read = this.#deps.versionReviewReference;
    if (read === undefined) return { reviewNote: 'no review reference reader is configured' };
    // A reference that cannot be read costs the plan its review detectors, never its others.
    const found = await read(key.versionId).catch((cause: unknown): VersionReviewReference => ({
      kind: 'none',
      reason: `the version's review reference could not be read (${toPlatformError(cause).code})`,
    }));
    if (found.kind === 'none') return { reviewNote: found.reason };
    let strata = found.strata;
    if (baseline !== undefined) {
      const n = baseline.get(MONITOR_SIGNAL_NAMES[0]!)?.length ?? 0;
      const counts = new Map<string, number>();
      const row = new Float64Array(MONITOR_SIGNAL_NAMES.length);
      for (let i = 0; i < n; i++) {
        MONITOR_SIGNAL_NAMES.forEach((name, j) => (row[j] = baseline.get(name)?.[i] ?? Number.NaN));
        const stratum = reviewStratumOfValues(row);
        if (stratum !== null) counts.set(stratum, (counts.get(stratum) ?? 0) + 1);
      }
      strata = strata.map((st) => {
        const c = counts.get(st.name) ?? 0;
        return c > 0 && n > 0 ? { ...st, share: c / n } : st;
      });
    }
    const known = new Set<string>(REVIEW_STRATA.map((r) => r.name));
    strata = strata.filter((st) => known.has(st.name));
    if (strata.length === 0) return { reviewNote: 'the version reference names no known review stratum' };
    return { review: { strata, source: found.source, sampleRate } };
  }

  /** Every monitored deployment of every configured site: production, and a canary candidate beside it. */
  async overview(): Promise<readonly MonitorStatus[]> {
    const out: MonitorStatus[] = [];
    for (const d of await this.#deps.deployments()) {
      out.push(await this.status(d, 'production'));
      if (d.candidate?.mode === 'canary') out.push(await this.status(d, 'canary'));
    }
    return out;
  }

  async status(d: SiteDeployment, role: 'production' | 'canary'): Promise<MonitorStatus> {
    const versionId = role === 'canary' ? (d.candidate?.versionId ?? null) : d.production;
    const pausedReason = d.paused?.reason ?? null;
    if (versionId === null) {
      return {
        site: d.site,
        versionId: null,
        role,
        state: 'not_deployed',
        baseline: null,
        reference: null,
        cases: 0,
        consumed: 0,
        lastCaseAt: null,
        nearest: null,
        alerts: 0,
        lastAlertAt: null,
        openIncident: null,
        pausedReason,
      };
    }
    const key = { site: d.site, versionId };
    const baselineStart = (await this.#deps.store.getBaselineStart(d.site)) ?? 0;
    const [cases, baselineCases, designed, state, alerts, incident, latest] = await Promise.all([
      this.#deps.store.countCases(key),
      this.#deps.store.countCases(key, baselineStart),
      this.#storedPlanOnly(key),
      this.#deps.store.getState(key),
      this.#deps.store.listAlerts({ site: d.site, versionId, limit: 1 }),
      this.#deps.incidents.openFor(d.site, versionId),
      this.#deps.store.latestCases(key, 1),
    ]);
    const alertCount = alerts.length === 0 ? 0 : (await this.#deps.store.listAlerts({ site: d.site, versionId, limit: 500 })).length;
    let nearest: MonitorStatus['nearest'] = null;
    let consumed = 0;
    if (designed !== undefined && state !== undefined) {
      const decoded = decodeMonitorState(designed.plan, state.state);
      consumed = decoded.cases;
      for (const det of detectorsNow(designed.plan, decoded)) {
        const fraction = det.statistic / det.h;
        if (nearest === null || fraction > nearest.fractionOfThreshold) nearest = { detector: det.id, label: det.label, fractionOfThreshold: fraction };
      }
    }
    const baselineNeeded = this.#deps.settings.baselineCases;
    return {
      site: d.site,
      versionId,
      role,
      state: designed === undefined ? 'collecting_baseline' : 'monitoring',
      baseline: designed === undefined ? { collected: Math.min(baselineCases, baselineNeeded), needed: baselineNeeded } : null,
      reference: designed === undefined ? null : { kind: designed.stored.reference.kind, cases: designed.stored.reference.cases },
      cases,
      consumed,
      lastCaseAt: latest[0] === undefined ? null : new Date(latest[0].timeMs).toISOString(),
      nearest,
      alerts: alertCount,
      lastAlertAt: alerts[0]?.createdAt ?? null,
      openIncident: incident === undefined ? null : { incidentId: incident.incidentId, severity: incident.severity, state: incident.state },
      pausedReason,
    };
  }

  /** A stored plan (never designs: a status read must stay cheap). */
  async #storedPlanOnly(key: DeploymentKey): Promise<{ readonly stored: StoredMonitorPlan; readonly plan: MonitorPlan } | undefined> {
    const cached = this.#plans.get(keyText(key));
    if (cached !== undefined) return cached;
    const stored = await this.#deps.store.getPlan(key);
    if (stored === undefined) return undefined;
    const entry = { stored, plan: decodeMonitorPlan(stored.plan) };
    this.#plans.set(keyText(key), entry);
    return entry;
  }

  /** A site's production deployment key (or its canary candidate's), or MONITORING_NOT_FOUND. */
  async keyOf(site: string, role: 'production' | 'canary' = 'production'): Promise<{ readonly deployment: SiteDeployment; readonly key: DeploymentKey }> {
    const deployment = (await this.#deps.deployments()).find((d) => d.site === site);
    const versionId = role === 'canary' ? (deployment?.candidate?.mode === 'canary' ? deployment.candidate.versionId : null) : (deployment?.production ?? null);
    if (deployment === undefined || versionId === null) throw new PlatformError('MONITORING_NOT_FOUND', 'No monitored deployment at that site', {});
    return { deployment, key: { site, versionId } };
  }

  /** A site's monitors in detail: status, plan with each detector's statistic, alerts, and each signal's time series. */
  async detail(site: string, bucket: 'hour' | 'day' | 'cases50', role: 'production' | 'canary' = 'production') {
    const { deployment, key } = await this.keyOf(site, role);
    const status = await this.status(deployment, role);
    const designed = await this.#storedPlanOnly(key);
    const stored = await this.#deps.store.getState(key);
    const state: MonitorState | undefined = designed === undefined || stored === undefined ? undefined : decodeMonitorState(designed.plan, stored.state);
    const alerts = await this.#deps.store.listAlerts({ site, versionId: key.versionId, limit: 100 });
    const cases = await this.#deps.store.latestCases(key, SERIES_CASES);
    // Case buckets count from the deployment's first case, so a bucket keeps its cases as new ones arrive.
    const bucketing: SeriesBucketing =
      bucket === 'cases50'
        ? { kind: 'cases', size: 50, firstOrdinal: Math.max(0, status.cases - cases.length) }
        : { kind: 'time', ms: bucket === 'hour' ? HOUR_MS : 24 * HOUR_MS };
    return {
      status,
      plan:
        designed === undefined
          ? null
          : {
              planHash: designed.stored.planHash,
              falseAlarmDays: designed.plan.design.falseAlarmDays,
              casesPerDay: designed.plan.design.casesPerDay,
              familyArl0: designed.plan.familyArl0,
              detectorArl0: designed.plan.detectorArl0,
              acquisitionNote: designed.stored.acquisitionNote ?? null,
              embeddingNote: designed.stored.embeddingNote ?? null,
              reviewNote: designed.stored.review === undefined ? (designed.stored.reviewNote ?? 'the plan was designed without review detectors') : null,
              detectors: detectorsNow(designed.plan, state).map((d) => ({
                id: d.id,
                signal: d.signal,
                label: d.label,
                direction: d.direction,
                kind: d.kind,
                h: d.h,
                arl0: Number.isFinite(d.arl0) ? d.arl0 : null,
                statistic: d.statistic,
                p0: d.p0,
              })),
            },
      alerts: alerts.map(alertView),
      performance: await this.performance(key, cases),
      bucket,
      seriesCases: cases.length,
      series: seriesOf(cases, designed?.plan, bucketing),
    };
  }

  /**
   * Performance from reviews (issue 12 §1): the deployment's reviewed images — a review's read joined
   * with the monitor cases of its case — each weighted by 1 / the probability it was reviewed (1 when a
   * rule sent it to the worklist: referred, gate-rejected or warned, not judged; for a randomly sampled
   * confident decision, the sample rate kept with its item when it was sampled, or today's rate for an
   * item stored before that was kept), through `reviewedPerformance` (Hájek ratios, Wilson
   * intervals at the effective n). A study's read applies to each of its monitored images. Reads that
   * could not tell (finding null) are left out. Over `cases` (the deployment's newest, as the series).
   */
  async performance(key: DeploymentKey, cases: readonly MonitorCase[]) {
    const sampleRate = this.#deps.settings.reviewSampleRate;
    const designed = await this.#storedPlanOnly(key);
    const planReview = designed?.stored.review;
    const reviewMonitors =
      designed === undefined
        ? { included: false, reason: 'no plan yet: review CUSUMs are designed with the other detectors' }
        : planReview === undefined
          ? { included: false, reason: designed.stored.reviewNote ?? 'the plan was designed without review detectors' }
          : {
              included: true,
              reason: `${planReview.strata.map((st) => `${st.label}: p₀ ${st.referenceWrong} of ${st.referenceCases}`).join('; ')} (from ${planReview.source}); reviews of confident decisions sampled at ${planReview.sampleRate}`,
            };
    const labelFree = labelFreeView(labelFreePerformance(cases.map((c) => labelFreeCaseOf(c.values))));
    const empty = { reviews: 0, reviewed: 0, sampleRate, rates: null, calibration: null, reviewMonitors, labelFree };
    const source = this.#deps.reviews;
    if (source === undefined || cases.length === 0) return empty;
    const byCase = new Map<string, MonitorCase[]>();
    for (const c of cases) byCase.set(c.caseId, [...(byCase.get(c.caseId) ?? []), c]);
    // The newest read per item (a re-read replaces the earlier one).
    const newest = new Map<string, { readonly caseId: string; readonly itemId: string; readonly findingPresent: boolean | null }>();
    for (const r of await source.listReviews(REVIEWS_READ)) {
      if (!byCase.has(r.caseId)) continue;
      const seen = newest.get(r.itemId);
      if (seen === undefined) newest.set(r.itemId, { caseId: r.caseId, itemId: r.itemId, findingPresent: r.read.findingPresent });
    }
    const reviewed: ReviewedCase[] = [];
    let reviews = 0;
    for (const r of newest.values()) {
      if (r.findingPresent === null) continue;
      const item = await source.get(r.itemId);
      if (item === undefined) continue;
      reviews++;
      // As kept with the item when it was sampled (migration 20); an older item: 1 for a rule, else
      // (sampled only when nothing else sent it, studyWorklistEntry) the rate configured now.
      const inclusionProbability = item.samplingProbability ?? (item.reasons.length === 1 && item.reasons[0] === 'random_sample' ? Math.min(1, sampleRate) : 1);
      if (!(inclusionProbability > 0)) continue; // sampled under a rate since set to 0: its weight is unknown
      for (const c of byCase.get(r.caseId) ?? []) reviewed.push(reviewedCaseOf(c.values, r.findingPresent, inclusionProbability));
    }
    if (reviewed.length === 0) return { ...empty, reviews };
    const p = reviewedPerformance(reviewed);
    const rate = (w: WeightedRate) => ({
      estimate: finite(w.estimate),
      low: finite(w.low),
      high: finite(w.high),
      standardError: finite(w.standardError),
      effectiveN: finite(w.effectiveN),
      reviewed: w.reviewed,
    });
    return {
      reviews,
      reviewed: reviewed.length,
      sampleRate,
      rates: {
        sensitivity: rate(p.sensitivity),
        specificity: rate(p.specificity),
        ppv: rate(p.ppv),
        npv: rate(p.npv),
        prevalence: rate(p.prevalence),
        referRate: rate(p.referRate),
      },
      calibration: {
        inTheLarge: {
          estimate: finite(p.calibration.inTheLarge.estimate),
          low: finite(p.calibration.inTheLarge.low),
          high: finite(p.calibration.inTheLarge.high),
        },
        ece: finite(p.calibration.ece),
        reviewed: p.calibration.reviewed,
      },
      reviewMonitors,
      labelFree,
    };
  }

  /** Each detector's threshold and statistic now (no series: cheap enough for every metrics scrape); empty before a plan. */
  async detectorStatistics(key: DeploymentKey): Promise<readonly { readonly id: string; readonly h: number; readonly statistic: number }[]> {
    const designed = await this.#storedPlanOnly(key);
    if (designed === undefined) return [];
    const stored = await this.#deps.store.getState(key);
    const state = stored === undefined ? undefined : decodeMonitorState(designed.plan, stored.state);
    return detectorsNow(designed.plan, state).map((d) => ({ id: d.id, h: d.h, statistic: d.statistic }));
  }

  /** The cases behind a chart's point: a site's cases in a time range or between two seqs, paged by seq (`next`: the cursor). */
  async cases(
    site: string,
    query: {
      readonly signal?: string;
      readonly fromMs?: number;
      readonly toMs?: number;
      readonly afterSeq?: number;
      readonly throughSeq?: number;
      readonly limit: number;
    },
  ) {
    const { key } = await this.keyOf(site);
    const signalIndex = query.signal === undefined ? -1 : MONITOR_SIGNAL_NAMES.indexOf(query.signal);
    if (query.signal !== undefined && signalIndex < 0) throw new PlatformError('REQUEST_INVALID', 'No monitored signal has that name', {});
    // One case more than the page: `next` is given only when a case follows (no empty last page).
    const read = await this.#deps.store.queryCases(key, {
      limit: query.limit + 1,
      ...(query.fromMs === undefined ? {} : { fromMs: query.fromMs }),
      ...(query.toMs === undefined ? {} : { toMs: query.toMs }),
      ...(query.afterSeq === undefined ? {} : { afterSeq: query.afterSeq }),
      ...(query.throughSeq === undefined ? {} : { throughSeq: query.throughSeq }),
    });
    const page = read.slice(0, query.limit);
    const values = (c: MonitorCase): Record<string, number | null> => {
      const finite = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);
      if (signalIndex >= 0) return { [query.signal!]: finite(c.values[signalIndex]) };
      return Object.fromEntries(MONITOR_SIGNAL_NAMES.map((name, i) => [name, finite(c.values[i])]));
    };
    return {
      cases: page.map((c) => ({
        seq: c.seq,
        caseId: c.caseId,
        studyKey: c.studyKey,
        imageRef: c.imageRef,
        origin: c.origin,
        at: new Date(c.timeMs).toISOString(),
        device: c.device,
        values: values(c),
      })),
      next: read.length > query.limit ? page[page.length - 1]!.seq : null,
    };
  }

  /** Alerts newest first, of one site when given. */
  async alerts(filter: { readonly site?: string; readonly limit: number }) {
    return (await this.#deps.store.listAlerts(filter)).map(alertView);
  }
}

/** Reviews read per performance report (newest first). */
const REVIEWS_READ = 10_000;

/** A monitored image's decision (from its stored signal values) with a reviewer's read, as `reviewedPerformance` takes it. */
function reviewedCaseOf(values: readonly number[], findingPresent: boolean, inclusionProbability: number): ReviewedCase {
  return { ...labelFreeCaseOf(values), findingPresent, inclusionProbability };
}

/** A stored case's decision and calibrated probability, from its signal values. */
function labelFreeCaseOf(values: readonly number[]): LabelFreeCase {
  const at = (name: string): number => values[MONITOR_SIGNAL_NAMES.indexOf(name)] ?? Number.NaN;
  const decision: LabelFreeCase['decision'] =
    at('gateRejected') === 1 || Number.isNaN(at('positive')) ? 'none' : at('referred') === 1 ? 'refer' : at('positive') === 1 ? 'positive' : 'negative';
  return { decision, probability: at('probability') };
}

/** A number the API can carry: null for NaN or an infinity. */
function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** The label-free estimate as the API gives it (contract: labelFreePerformanceSchema): null for what has no case. */
function labelFreeView(p: LabelFreePerformance) {
  const rate = (r: EstimatedRate) => ({
    estimate: finite(r.estimate),
    low: finite(r.low),
    high: finite(r.high),
    standardError: finite(r.standardError),
    cases: r.cases,
  });
  return {
    decided: p.decided,
    rates: { sensitivity: rate(p.sensitivity), specificity: rate(p.specificity), ppv: rate(p.ppv), npv: rate(p.npv), prevalence: rate(p.prevalence) },
    assumption: LABEL_FREE_ASSUMPTION,
  };
}

interface DetectorNow {
  readonly id: string;
  readonly signal: string;
  readonly label: string;
  readonly direction: 'up' | 'down';
  readonly kind: 'continuous' | 'indicator' | 'embedding-mmd';
  readonly h: number;
  readonly arl0: number;
  readonly statistic: number;
  readonly p0: number | null;
}

/** Every detector of a plan with its threshold and statistic now: the CUSUMs, then the embedding detector (its threshold at its current step). */
function detectorsNow(plan: MonitorPlan, state: MonitorState | undefined): DetectorNow[] {
  const out = plan.detectors.map((d, i): DetectorNow => ({
    id: d.id,
    signal: d.signal,
    label: d.label,
    direction: d.direction,
    kind: d.kind,
    h: d.h,
    arl0: d.arl0,
    statistic: state?.statistic[i] ?? 0,
    p0: d.kind === 'indicator' ? d.p0 : null,
  }));
  const e = plan.embedding;
  if (e !== undefined) {
    const t = state?.embedding?.mmd.t ?? 0;
    out.push({
      id: e.id,
      signal: e.signal,
      label: e.label,
      direction: 'up',
      kind: 'embedding-mmd',
      h: onlineMmdThreshold(e.mmd, t),
      arl0: e.mmd.ert,
      statistic: state?.embedding?.mmd.statistic ?? 0,
      p0: null,
    });
  }
  return out;
}

/** Devices of a window's cases, most frequent first, at most 5. */
function devicesOf(cases: readonly MonitorCase[]): StoredAlert['devices'] {
  const counts = new Map<string, { manufacturer: string | null; model: string | null; cases: number }>();
  for (const c of cases) {
    const d = c.device ?? { manufacturer: null, model: null };
    const k = `${d.manufacturer ?? ''}\u0000${d.model ?? ''}`;
    const entry = counts.get(k) ?? { manufacturer: d.manufacturer, model: d.model, cases: 0 };
    entry.cases++;
    counts.set(k, entry);
  }
  return [...counts.values()].sort((a, b) => b.cases - a.cases).slice(0, 5);
}

/**
 * A case's values for its plan's signals: the stored signal vector, then, when the plan watches
 * acquisition metadata, the case's acquisition indicators (computed from its stored record under the
 * plan's categories; a case without a record states no field).
 */
function valuesOf(storedPlan: StoredMonitorPlan, c: MonitorCase): readonly number[] {
  const strata = storedPlan.review?.strata ?? [];
  const event = c.review ?? null;
  if (event !== null) {
    // A review event: no image value (NaN to every label-free and acquisition detector), its outcome to its stratum's.
    const own = MONITOR_SIGNAL_NAMES.length + (storedPlan.acquisition?.signals.length ?? 0);
    return [...new Array<number>(own).fill(Number.NaN), ...strata.map((st) => (st.name === event.stratum ? event.wrong : Number.NaN))];
  }
  const images = storedPlan.acquisition === undefined ? c.values : [...c.values, ...acquisitionIndicators(storedPlan.acquisition, c.acquisition ?? {})];
  return strata.length === 0 ? images : [...images, ...strata.map(() => Number.NaN)];
}

/**
 * The acquisition signals of the fields a reference states: a field no reference image states (every
 * record "none") is dropped, as there is nothing to compare with (undefined when no field is left).
 */
function statedAcquisitionSignals(design: AcquisitionSignals): AcquisitionSignals | undefined {
  const unstated = new Set(design.categories.filter((c) => c.category === null && c.dominant === NONE).map((c) => c.field));
  const keep = design.categories.map((c) => !unstated.has(c.field));
  if (!keep.includes(true)) return undefined;
  return {
    signals: design.signals.filter((_, i) => keep[i]),
    categories: design.categories.filter((_, i) => keep[i]),
    referenceShares: design.referenceShares.filter((_, i) => keep[i]),
  };
}

/**
 * Up to 10 distinct case ids of the window, the most extreme on the alarmed signal (in its direction)
 * first; for the embedding detector, the window's cases with a summary, the least like the reference
 * (lowest mean kernel against its comparison rows) first.
 */
function examplesOf(cases: readonly MonitorCase[], alert: MonitorAlert, storedPlan: StoredMonitorPlan, plan: MonitorPlan): readonly string[] {
  if (storedPlan.review?.strata.some((st) => st.name === alert.signal) === true) {
    // A review alert's examples: the window's cases reviewed wrong in its stratum, newest first.
    const wrong = cases.filter((c) => c.review?.stratum === alert.signal && c.review.wrong === 1).reverse();
    return [...new Set(wrong.map((c) => c.caseId))].slice(0, 10);
  }
  const s = MONITOR_SIGNAL_NAMES.indexOf(alert.signal);
  const a = storedPlan.acquisition?.signals.findIndex((x) => x.name === alert.signal) ?? -1;
  const mmd = alert.effect.kind === 'embedding-mmd' ? plan.embedding?.mmd : undefined;
  const windowStart = alert.windowStartTime ?? Number.NEGATIVE_INFINITY; // a seq in the server (the update's time)
  const valueOf = (c: MonitorCase): number =>
    mmd !== undefined
      ? (c.embedding ?? null) === null || c.embedding!.length !== mmd.dimension || c.seq < windowStart
        ? Number.NaN
        : -onlineMmdReferenceAffinity(mmd, c.embedding!)
      : s >= 0
        ? (c.values[s] ?? Number.NaN)
        : a >= 0
          ? (valuesOf(storedPlan, c)[MONITOR_SIGNAL_NAMES.length + a] ?? Number.NaN)
          : Number.NaN;
  const sign = alert.direction === 'up' ? 1 : -1;
  const scored = cases
    .map((c) => ({ c, v: valueOf(c) }))
    .filter((x) => !Number.isNaN(x.v))
    .sort((a, b) => sign * (b.v - a.v) || b.c.seq - a.c.seq);
  const ids: string[] = [];
  for (const { c } of scored) {
    if (!ids.includes(c.caseId)) ids.push(c.caseId);
    if (ids.length === 10) break;
  }
  return ids;
}

/** How a time series groups cases: by time (`ms` wide, from the epoch), or by `size` cases (the first of `cases` being the deployment's `firstOrdinal`-th, from 0). */
export type SeriesBucketing = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'cases'; readonly size: number; readonly firstOrdinal: number };

/**
 * Each signal's time series over `cases` (in seq order): the mean normal score against the plan's
 * reference (continuous; 0 in control, in reference SDs) or the rate (indicator), per bucket. Before a
 * plan exists, continuous buckets have no value. By time, a bucket is listed when the signal has a value
 * in it; by cases, every bucket is (value null when none of its cases has the signal), so that the small
 * multiples of one deployment share their x positions.
 */
export function seriesOf(cases: readonly MonitorCase[], plan: MonitorPlan | undefined, bucketing: SeriesBucketing) {
  const keyOf =
    bucketing.kind === 'time'
      ? (c: MonitorCase) => Math.floor(c.timeMs / bucketing.ms) * bucketing.ms
      : (_c: MonitorCase, i: number) => Math.floor((bucketing.firstOrdinal + i) / bucketing.size);
  return DEFAULT_SIGNALS.map((signal, s) => {
    const scorer = plan?.scorers[s] ?? null;
    const buckets = new Map<number, { n: number; sum: number; startMs: number; firstSeq: number; lastSeq: number }>();
    cases.forEach((c, i) => {
      const raw = c.values[s] ?? Number.NaN;
      if (Number.isNaN(raw) && bucketing.kind === 'time') return;
      const key = keyOf(c, i);
      const b = buckets.get(key) ?? { n: 0, sum: 0, startMs: bucketing.kind === 'time' ? key : c.timeMs, firstSeq: c.seq, lastSeq: c.seq };
      b.lastSeq = c.seq;
      buckets.set(key, b);
      if (Number.isNaN(raw)) return;
      b.n++;
      b.sum += signal.kind === 'indicator' ? raw : scorer === null ? Number.NaN : normalScore(scorer, raw);
    });
    const indicator = plan?.detectors.find((d) => d.signal === signal.name && d.kind === 'indicator');
    return {
      signal: signal.name,
      label: signal.label,
      kind: signal.kind,
      measure: signal.kind === 'indicator' ? ('rate' as const) : ('mean-normal-score' as const),
      reference: indicator?.kind === 'indicator' ? indicator.p0 : null,
      buckets: [...buckets.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([, b]) => ({
          start: new Date(b.startMs).toISOString(),
          n: b.n,
          value: b.n === 0 || Number.isNaN(b.sum) ? null : b.sum / b.n,
          firstSeq: b.firstSeq,
          lastSeq: b.lastSeq,
        })),
    };
  });
}

/**
 * An image's stored embedding summary: its embedding projected with the version's projection, in float32;
 * null when the version has no projection, the image has no embedding (the gate rejected it), or the
 * embedding is not of the projection's size (a bundle whose reference disagrees with its model).
 */
function embeddingSummaryOf(reference: VersionEmbedding, embedding: Float32Array | undefined): Float32Array | null {
  if (reference.kind === 'none' || embedding === undefined || embedding.length !== reference.reference.projection.dimension) return null;
  return roundSummary(projectEmbedding(reference.reference.projection, embedding));
}
