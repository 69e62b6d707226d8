import type { MonitorAlert } from '../domain/monitoring/deployment-monitors.js';
import type { AcquisitionRecord, AcquisitionSignals } from '../domain/monitoring/acquisition-signals.js';
import type { ReviewStratumName } from '../domain/monitoring/case-signals.js';
import type { ReviewStratum } from '../domain/monitoring/review-monitors.js';

/** A deployment: the model version judging at a site. Monitors, their cases, state and alerts are kept per key. */
export interface DeploymentKey {
  readonly site: string;
  readonly versionId: string;
}

/**
 * One judged image's monitor values, as stored: pseudonymous ids only (the case, the image's name in
 * the instance store, the study key), the deployment, the time, and the device when the de-identified
 * metadata named one. `values` follow MONITOR_SIGNAL_NAMES (NaN: none).
 */
export interface NewMonitorCase {
  readonly site: string;
  readonly versionId: string;
  /** `production`, or `canary` for a study the candidate judged (its values belong to the candidate's key). */
  readonly origin: 'production' | 'canary';
  readonly caseId: string;
  /** The image's name in the instance store (`<study>/<instance>.dcm`), with `#frame` for a frame of a multi-frame instance. */
  readonly imageRef: string;
  readonly studyKey: string;
  /** ms since the epoch. */
  readonly timeMs: number;
  readonly device: { readonly manufacturer: string | null; readonly model: string | null } | null;
  readonly values: readonly number[];
  /**
   * How the image was made, from the de-identified header or the upload's declaration (a field absent:
   * not stated); null or absent when not recorded (an image recorded before migration 17).
   */
  readonly acquisition?: AcquisitionRecord | null;
  /**
   * The image's embedding summary (domain/monitoring/embedding-summary.ts): its projection onto the top
   * k principal components of the version reference's embeddings, float32 (k = 8). Null or absent when
   * it has none: the model declares no embedding output, the version's monitoring reference carries no
   * projection, the gate rejected the image (it never reached the model), or it was recorded before
   * migration 18.
   */
  readonly embedding?: Float32Array | null;
  /**
   * Set on a **review event**, not an image (migration 21): a clinician's review of the image `imageRef`
   * names with `review:` before it, sampled at the rate (a confident decision), entering the deployment's
   * stream in seq order for the review detectors (review-monitors.ts): its stratum and whether the
   * reviewed decision was wrong (1) or right (0). Its `values` are all NaN (it is no image). Image
   * counts, series, performance and the drill-down count images only; the detectors read both. Null or
   * absent: an image.
   */
  readonly review?: { readonly stratum: ReviewStratumName; readonly wrong: 0 | 1 } | null;
}

export interface MonitorCase extends NewMonitorCase {
  /** Store-wide order of appending: a deployment's cases, in seq order, are its stream. */
  readonly seq: number;
}

/**
 * How a deployment's monitors were designed: from the version's own reference (validation images,
 * `monitoring-reference.json` in its bundle) or from the first `baselineCases` of its own production.
 */
export interface StoredMonitorPlan {
  readonly site: string;
  readonly versionId: string;
  /** SHA-256 of `plan` (the canonical document): a state belongs to one plan. */
  readonly planHash: string;
  /** The plan, as domain/monitoring/monitor-snapshot.ts encodes it. */
  readonly plan: string;
  readonly reference: { readonly kind: 'version'; readonly cases: number } | { readonly kind: 'baseline'; readonly cases: number; readonly lastSeq: number };
  /** How long designing took (ms), for the record. */
  readonly designMs: number;
  readonly createdAt: string;
  /**
   * The acquisition signals the plan watches after its own (domain/monitoring/acquisition-signals.ts:
   * which category each indicator stands for), designed from the baseline's acquisition records; absent
   * when none (a version reference carries no acquisition records, or the baseline stated no field).
   */
  readonly acquisition?: AcquisitionSignals;
  /** Why the plan has no acquisition signals, when it has none. */
  readonly acquisitionNote?: string;
  /** Why the plan has no embedding detector (online MMD), when it has none (e.g. the version has no embedding reference). */
  readonly embeddingNote?: string;
  /**
   * The review detectors the plan runs after the label-free and acquisition ones (one signal per stratum,
   * in this order): the strata with their reference error counts, where they came from, and the sample
   * rate of confident decisions they were designed for. Absent when none (then `reviewNote` says why).
   */
  readonly review?: { readonly strata: readonly ReviewStratum[]; readonly source: string; readonly sampleRate: number };
  readonly reviewNote?: string;
}

/** The running state of a deployment's detectors, after consuming its cases up to `lastSeq`. */
export interface StoredMonitorState {
  readonly site: string;
  readonly versionId: string;
  readonly planHash: string;
  /** The state, as monitor-snapshot.ts encodes it. */
  readonly state: string;
  /** The seq of the last case consumed (0: none). */
  readonly lastSeq: number;
  /** 1 for the first state written, +1 per update: the compare-and-set key. */
  readonly revision: number;
  readonly updatedAt: string;
}

/** An alarm as stored: the domain's alert, its deployment, where it stands in the stream, and what it names. */
export interface StoredAlert {
  /** `al-` + site, version and the alarm's case: the same alarm raised by two servers has one id. */
  readonly alertId: string;
  readonly site: string;
  readonly versionId: string;
  readonly planHash: string;
  /** The seq of the case that raised it. */
  readonly alarmSeq: number;
  readonly alert: MonitorAlert;
  /** Devices (manufacturer/model) of the window's cases, most frequent first, at most 5. */
  readonly devices: readonly { readonly manufacturer: string | null; readonly model: string | null; readonly cases: number }[];
  /** Example cases of the window (pseudonymous case ids), at most 10, the most extreme on the signal first. */
  readonly exampleCaseIds: readonly string[];
  readonly incidentId: string | null;
  readonly createdAt: string;
}

/** Filter and page of a deployment's stored cases (the drill-down behind a chart's point). */
export interface MonitorCaseQuery {
  readonly fromMs?: number;
  readonly toMs?: number;
  /** Cases after this seq (paging). */
  readonly afterSeq?: number;
  /** Cases up to and including this seq (the last case of a chart's point). */
  readonly throughSeq?: number;
  readonly limit: number;
}

/**
 * Per-case monitor values, designed plans, running states and alerts, shared by every server of the
 * store (SQLite: one file; PostgreSQL: one database). Written incrementally as studies are judged; the
 * images are never read again.
 */
export interface MonitorStore {
  /**
   * Appends judged images and review events; one already recorded for the deployment, case and image
   * ref (a re-run job; a review recorded again) is kept once.
   */
  appendCases(cases: readonly NewMonitorCase[]): Promise<void>;
  /** A deployment's stream — images and review events — with seq > `afterSeq`, in seq order, at most `limit`; `imagesOnly`: images only. */
  readCases(key: DeploymentKey, afterSeq: number, limit: number, options?: { readonly imagesOnly?: boolean }): Promise<readonly MonitorCase[]>;
  /** A deployment's images in a time range, in seq order (paged by `afterSeq`). */
  queryCases(key: DeploymentKey, query: MonitorCaseQuery): Promise<readonly MonitorCase[]>;
  /** A deployment's newest images, at most `limit`, in seq order (for time series). */
  latestCases(key: DeploymentKey, limit: number): Promise<readonly MonitorCase[]>;
  /** A deployment's images (review events not counted; with seq > `afterSeq` when given). */
  countCases(key: DeploymentKey, afterSeq?: number): Promise<number>;
  /** The images recorded for a case (pseudonymous case id), of whichever deployment judged it, in seq order. */
  caseImages(caseId: string): Promise<readonly MonitorCase[]>;
  /**
   * Where a site's production baselines begin (migration 19): its deployments' cases with seq > the
   * returned seq; undefined when not set (a baseline is then its deployment's first cases).
   */
  getBaselineStart(site: string): Promise<number | undefined>;
  /**
   * Sets, once per site, that its baselines begin after the newest case recorded now (any deployment of
   * the site), and returns the seq stored; when a start is set already it stays, and is returned.
   */
  startBaseline(site: string, at: Date): Promise<number>;
  /** Every deployment that has cases or a plan, by site then version. */
  listKeys(): Promise<readonly DeploymentKey[]>;

  getPlan(key: DeploymentKey): Promise<StoredMonitorPlan | undefined>;
  /** Stores a deployment's plan once: false (nothing written) when it has one already; read it then. */
  putPlan(plan: StoredMonitorPlan): Promise<boolean>;

  getState(key: DeploymentKey): Promise<StoredMonitorState | undefined>;
  /**
   * Writes `next` only over revision `next.revision - 1` (no row for revision 1). False when another
   * server advanced the state first: nothing written; reload and replay from the stored seq.
   */
  compareAndSetState(next: StoredMonitorState): Promise<boolean>;

  /** Stores an alert once per id: false when it is stored already. */
  putAlert(alert: StoredAlert): Promise<boolean>;
  setAlertIncident(alertId: string, incidentId: string): Promise<void>;
  getAlert(alertId: string): Promise<StoredAlert | undefined>;
  /** Alerts newest first (of one deployment or site when given), at most `limit`. */
  listAlerts(filter: { readonly site?: string; readonly versionId?: string; readonly limit: number }): Promise<readonly StoredAlert[]>;
}
