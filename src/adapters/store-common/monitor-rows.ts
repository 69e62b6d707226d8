import type { Incident } from '../../domain/incident/incident.js';
import type { AcquisitionRecord } from '../../domain/monitoring/acquisition-signals.js';
import type { MonitorCase, NewMonitorCase, StoredAlert, StoredMonitorPlan, StoredMonitorState } from '../../ports/monitor-store.js';

/** The columns of `monitor_cases` (migrations 16, 17, 18, 19) a case is written with, in order. */
export const MONITOR_CASE_COLUMNS =
  'site, version_id, origin, case_id, image_ref, study_key, time_ms, manufacturer, device_model, has_device, vals, acquisition, embedding, review';
export const MONITOR_CASE_SELECT = `seq, ${MONITOR_CASE_COLUMNS}`;
/** How many values `monitorCaseValues` gives (one per column). */
export const MONITOR_CASE_COLUMN_COUNT = MONITOR_CASE_COLUMNS.split(',').length;

/** Values as JSON text: NaN (no value) as null. Text in both stores, so every double round-trips exactly. */
export function encodeValues(values: readonly number[]): string {
  return JSON.stringify(values.map((v) => (Number.isFinite(v) ? v : null)));
}

/** An embedding summary as its column's bytes (BLOB / bytea): float32 little-endian, 4 bytes a value. */
export function encodeEmbedding(summary: Float32Array): Buffer {
  const bytes = Buffer.alloc(summary.length * 4);
  summary.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes;
}

export function decodeEmbedding(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength >>> 2 }, (_, i) => view.getFloat32(i * 4, true));
}

export function monitorCaseValues(c: NewMonitorCase): unknown[] {
  return [
    c.site,
    c.versionId,
    c.origin,
    c.caseId,
    c.imageRef,
    c.studyKey,
    c.timeMs,
    c.device?.manufacturer ?? null,
    c.device?.model ?? null,
    c.device === null ? 0 : 1,
    encodeValues(c.values),
    c.acquisition === undefined || c.acquisition === null ? null : JSON.stringify(c.acquisition),
    c.embedding === undefined || c.embedding === null ? null : encodeEmbedding(c.embedding),
    c.review === undefined || c.review === null ? null : JSON.stringify({ stratum: c.review.stratum, wrong: c.review.wrong }),
  ];
}

export interface MonitorCaseRow {
  readonly seq: number | string;
  readonly site: string;
  readonly version_id: string;
  readonly origin: string;
  readonly case_id: string;
  readonly image_ref: string;
  readonly study_key: string;
  readonly time_ms: number | string;
  readonly manufacturer: string | null;
  readonly device_model: string | null;
  readonly has_device: number | string;
  readonly vals: string;
  readonly acquisition: string | null;
  readonly embedding: Uint8Array | null;
  readonly review: string | null;
}

export function monitorCaseOf(row: MonitorCaseRow): MonitorCase {
  return {
    seq: Number(row.seq),
    site: row.site,
    versionId: row.version_id,
    origin: row.origin === 'canary' ? 'canary' : 'production',
    caseId: row.case_id,
    imageRef: row.image_ref,
    studyKey: row.study_key,
    timeMs: Number(row.time_ms),
    device: Number(row.has_device) === 1 ? { manufacturer: row.manufacturer, model: row.device_model } : null,
    values: (JSON.parse(row.vals) as (number | null)[]).map((v) => (v === null ? Number.NaN : v)),
    acquisition: row.acquisition === null ? null : (JSON.parse(row.acquisition) as AcquisitionRecord),
    embedding: row.embedding === null ? null : decodeEmbedding(row.embedding),
    review: row.review === null ? null : (JSON.parse(row.review) as NonNullable<MonitorCase['review']>),
  };
}

export function planDocument(plan: StoredMonitorPlan): string {
  return JSON.stringify(plan);
}
export function planOf(document: string): StoredMonitorPlan {
  return JSON.parse(document) as StoredMonitorPlan;
}

export interface MonitorStateRow {
  readonly site: string;
  readonly version_id: string;
  readonly plan_hash: string;
  readonly state: string;
  readonly last_seq: number | string;
  readonly revision: number | string;
  readonly updated_at_ms: number | string;
}
export function monitorStateOf(row: MonitorStateRow): StoredMonitorState {
  return {
    site: row.site,
    versionId: row.version_id,
    planHash: row.plan_hash,
    state: row.state,
    lastSeq: Number(row.last_seq),
    revision: Number(row.revision),
    updatedAt: new Date(Number(row.updated_at_ms)).toISOString(),
  };
}

/** An alert's document: the domain alert's non-finite numbers (an unbounded ARL, a time not given) as strings. */
export function alertDocument(alert: StoredAlert): string {
  return JSON.stringify(alert, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value));
}
const NON_FINITE: Readonly<Record<string, number>> = { Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, NaN: Number.NaN };
export function alertOf(document: string, incidentId: string | null): StoredAlert {
  const alert = JSON.parse(document, (_key, value: unknown) => (typeof value === 'string' && value in NON_FINITE ? NON_FINITE[value] : value)) as StoredAlert;
  return { ...alert, incidentId };
}

export function incidentOf(document: string): Incident {
  return JSON.parse(document) as Incident;
}
