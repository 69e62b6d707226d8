import { createMonitorState, type EmbeddingDetectorPlan, type MonitorPlan, type MonitorState } from './deployment-monitors.js';

/**
 * Plans and running states as JSON documents, for a store: a plan is kept whole (its scorers' tables
 * and thresholds, not the reference it came from), so every server runs the same detectors without
 * designing them again, and a state round-trips exactly (JSON numbers are shortest round-trip
 * decimals; the non-finite ones are written as strings).
 */

/** A JSON value with Infinity/NaN as strings. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}
function decodeNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (v === 'NaN' || v === null) return Number.NaN;
  throw new RangeError('not a number in a monitor document');
}
const encodeArray = (a: ArrayLike<number>): (number | string)[] => Array.from(a, encodeNumber);
const decodeArray = (a: unknown): Float64Array => {
  if (!Array.isArray(a)) throw new RangeError('not an array in a monitor document');
  return Float64Array.from(a, decodeNumber);
};

function encodeDeep(value: unknown): Json {
  if (typeof value === 'number') return encodeNumber(value);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(encodeDeep);
  if (ArrayBuffer.isView(value)) return encodeArray(value as unknown as ArrayLike<number>);
  if (typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encodeDeep(v);
    return out;
  }
  throw new RangeError('unsupported value in a monitor document');
}
function decodeNumbersDeep(value: unknown, numericKeys: ReadonlySet<string>, key = ''): unknown {
  if (numericKeys.has(key) && (typeof value === 'string' || typeof value === 'number' || value === null)) return decodeNumber(value);
  if (Array.isArray(value)) return value.map((v) => decodeNumbersDeep(v, numericKeys));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeNumbersDeep(v, numericKeys, k)]));
  }
  return value;
}
const DETECTOR_NUMBERS = new Set(['h', 'arl0', 'k', 'p0', 'p1', 'incrementOne', 'incrementZero', 'step']);

/** A plan as a JSON document (canonical: the same plan always gives the same text). */
export function encodeMonitorPlan(plan: MonitorPlan): string {
  return JSON.stringify(
    encodeDeep({
      signals: plan.signals,
      scorers: plan.scorers.map((s) => (s === null ? null : { sorted: s.sorted, table: s.table, n: s.n })),
      detectors: plan.detectors,
      design: plan.design,
      familyArl0: plan.familyArl0,
      detectorArl0: plan.detectorArl0,
      ...(plan.embedding === undefined ? {} : { embedding: plan.embedding }),
    }),
  );
}

export function decodeMonitorPlan(text: string): MonitorPlan {
  const raw = JSON.parse(text) as {
    signals: MonitorPlan['signals'];
    scorers: ({ sorted: unknown; table: unknown; n: number } | null)[];
    detectors: unknown[];
    design: MonitorPlan['design'];
    familyArl0: unknown;
    detectorArl0: unknown;
    embedding?: EmbeddingDetectorPlan;
  };
  // The online MMD's numbers are all finite (JSON numbers as written); its kind says it is one.
  if (raw.embedding !== undefined && raw.embedding.mmd.kind !== 'online-mmd') throw new RangeError('an embedding detector of an unknown kind');
  return {
    ...(raw.embedding === undefined ? {} : { embedding: raw.embedding }),
    signals: raw.signals,
    scorers: raw.scorers.map((s) => (s === null ? null : { sorted: decodeArray(s.sorted), table: decodeArray(s.table), n: s.n })),
    detectors: raw.detectors.map((d) => decodeNumbersDeep(d, DETECTOR_NUMBERS)) as unknown as MonitorPlan['detectors'],
    design: raw.design,
    familyArl0: decodeNumber(raw.familyArl0),
    detectorArl0: decodeNumber(raw.detectorArl0),
  };
}

/** A running state as a JSON document (the scratch row is not kept: it is rewritten by every update). */
export function encodeMonitorState(state: MonitorState): string {
  return JSON.stringify({
    cases: state.cases,
    statistic: encodeArray(state.statistic),
    excursionStart: encodeArray(state.excursionStart),
    excursionStartTime: encodeArray(state.excursionStartTime),
    excursionSum: encodeArray(state.excursionSum),
    excursionCases: encodeArray(state.excursionCases),
    runStart: encodeArray(state.runStart),
    ...(state.embedding === undefined
      ? {}
      : {
          embedding: {
            mmd: state.embedding.mmd,
            windowCases: state.embedding.windowCases,
            windowTimes: encodeArray(state.embedding.windowTimes),
          },
        }),
  });
}

/** A stored state for `plan`; a document of another plan's shape (detector count) is refused. */
export function decodeMonitorState(plan: MonitorPlan, text: string): MonitorState {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const state = createMonitorState(plan);
  if (typeof raw.cases !== 'number') throw new RangeError('a monitor state without a case count');
  state.cases = raw.cases;
  for (const key of ['statistic', 'excursionStart', 'excursionStartTime', 'excursionSum', 'excursionCases', 'runStart'] as const) {
    const values = decodeArray(raw[key]);
    if (values.length !== state[key].length) throw new RangeError('a monitor state of another plan');
    state[key].set(values);
  }
  if (state.embedding !== undefined) {
    const e = raw.embedding as { mmd?: Record<string, unknown>; windowCases?: unknown; windowTimes?: unknown } | undefined;
    const mmd = e?.mmd;
    if (e === undefined || mmd === undefined) throw new RangeError('a monitor state of another plan');
    const target = state.embedding;
    const fill = (to: number[], from: unknown): void => {
      const values = decodeArray(from);
      if (values.length !== to.length) throw new RangeError('a monitor state of another plan');
      to.splice(0, to.length, ...values);
    };
    fill(target.mmd.window, mmd.window);
    fill(target.mmd.crossSums, mmd.crossSums);
    fill(target.windowCases, e.windowCases);
    fill(target.windowTimes, e.windowTimes);
    for (const key of ['t', 'cases', 'runStart', 'next', 'withinSum', 'statistic'] as const) {
      const v = mmd[key];
      if (typeof v !== 'number') throw new RangeError('a monitor state without its embedding detector');
      target.mmd[key] = v;
    }
  }
  return state;
}
