import { displayProbability, reportedCalibrationError, type DisplayedProbability } from '../../src/domain/calibration/display-probability.js';
import type { FindingDecision, GateCheckBody, GateVerdictKind, ReleaseViewBody, StudyBody, WorklistPriority, WorklistReason } from './api/types.js';

export const REASON_LABELS: Readonly<Record<WorklistReason, string>> = {
  not_judged: 'Not judged by a model',
  model_referred: 'Model referred',
  gate_rejected: 'Gate rejected',
  gate_warned: 'Gate warned',
  gate_unchecked: 'Gate could not check',
  random_sample: 'Random sample',
};

export const REASONS = Object.keys(REASON_LABELS) as WorklistReason[];

/** The worklist's priorities, most urgent first (src/domain/review/worklist.ts). */
export const PRIORITY_LABELS: Readonly<Record<WorklistPriority, string>> = {
  referred: 'Referred',
  warned: 'Gate warned',
  rejected: 'Gate rejected',
  sampled: 'Random sample',
};

export const PRIORITIES = Object.keys(PRIORITY_LABELS) as WorklistPriority[];

export function isWorklistPriority(value: string | null): value is WorklistPriority {
  return value !== null && value in PRIORITY_LABELS;
}

/**
 * The calibration error the current model's manifest reports (worst held-out ECE), for a result of
 * that model; undefined for a result of another model version (shown at the coarsest precision then).
 */
export function calibrationErrorOf(manifest: Record<string, unknown> | undefined, modelSha256?: string): number | undefined {
  if (manifest === undefined) return undefined;
  const model = manifest['model'];
  const sha = typeof model === 'object' && model !== null ? (model as Record<string, unknown>)['sha256'] : undefined;
  if (modelSha256 !== undefined && sha !== modelSha256) return undefined;
  return reportedCalibrationError(manifest);
}

/**
 * A calibrated probability at the precision the model's calibration supports (src/domain/calibration/
 * display-probability.ts): "≈ 0.9", "> 0.95", never "100.0 %".
 */
export function formatProbability(probability: number, calibrationError: number | undefined): DisplayedProbability {
  return displayProbability(probability, calibrationError);
}

/** Why the probability is shown so coarsely, for a title. */
export function probabilityPrecisionNote(shown: DisplayedProbability, calibrationError: number | undefined): string {
  const why =
    calibrationError === undefined
      ? 'the calibration error of the model that judged it is not known here'
      : `the model's calibration error on held-out data is ${calibrationError.toFixed(3)}`;
  return `Shown in steps of ${shown.step}: ${why}.`;
}

export function isWorklistReason(value: string | null): value is WorklistReason {
  return value !== null && value in REASON_LABELS;
}

/** A study's state (src/domain/study/study-state.ts), in words. */
export const STUDY_STATE_LABELS: Readonly<Record<StudyBody['state'], string>> = {
  receiving: 'Receiving',
  queued: 'Queued',
  judging: 'Being judged',
  judged: 'Judged',
  failed: 'Failed',
};

export const DECISION_LABELS: Readonly<Record<FindingDecision, string>> = {
  positive: 'Positive',
  negative: 'Negative',
  refer: 'Refer to a human',
};

export const VERDICT_LABELS: Readonly<Record<GateVerdictKind, string>> = {
  pass: 'Passed',
  warn: 'Warned',
  reject: 'Rejected',
};

/** What each check of the gate looks at, as a reader names it. */
export const CHECK_LABELS: Readonly<Record<GateCheckBody['check'], string>> = {
  modality: 'Modality',
  body_part: 'Body part',
  view: 'View (View Position)',
  patient_age: "Patient's age (years)",
  photometric: 'Greyscale or colour',
  size: 'Image size',
  bit_depth: 'Bit depth',
  constant_image: 'Image not blank',
  saturation: 'Clipped pixels',
  dynamic_range: 'Grey range used',
  sharpness: 'Sharpness',
  distribution: 'Like the training images',
};

/** Why a check was not made. */
export const UNCHECKED_LABELS: Readonly<Record<NonNullable<GateCheckBody['why']>, string>> = {
  value_unknown: 'the image does not tell it',
  not_computable: 'could not be computed',
  not_required: 'not required by this model',
};

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** "3 minutes ago", for how long an item has waited. */
export function formatAge(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

export function formatPercent(probability: number, digits = 1): string {
  return Number.isFinite(probability) ? `${(probability * 100).toFixed(digits)} %` : 'n/a';
}

/** A surrogate key shortened for display (`st-3fa9…c01d`); the full key is in the title. */
export function shortKey(key: string, head = 8, tail = 4): string {
  return key.length <= head + tail + 1 ? key : `${key.slice(0, head)}…${key.slice(-tail)}`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit] ?? 'B'}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'n/a';
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return m > 0 ? `${m} min` : `${Math.round(seconds)} s`;
}

type ReleaseRequestBody = ReleaseViewBody['request'];

/** A release request's state (src/domain/release/release-request.ts), in words. */
export const RELEASE_STATE_LABELS: Readonly<Record<ReleaseRequestBody['state'], string>> = {
  draft: 'Draft',
  validated: 'Gates passed',
  approved: 'Approved',
  shadow: 'In shadow',
  canary: 'In canary',
  production: 'In production',
  retired: 'Retired',
  rejected: 'Rejected',
};

export const CHANGE_TYPE_LABELS: Readonly<Record<ReleaseRequestBody['changeType'], string>> = {
  recalibration: 'Recalibration',
  threshold: 'Threshold change',
  retraining: 'Retraining',
  new_site: 'New site',
  new_model: 'New model',
};

export const GATE_LABELS: Readonly<Record<ReleaseRequestBody['gates'][number]['gate'], string>> = {
  criteria: 'Acceptance criteria',
  non_inferiority: 'Non-inferiority to the baseline',
  shadow_agreement: 'Agreement in shadow',
};

/** A model version id (the bundle's SHA-256) shortened to 12 hex digits, as `git` shortens commits. */
export function shortVersion(versionId: string): string {
  return versionId.slice(0, 12);
}
