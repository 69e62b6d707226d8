import type { SignalSpec } from './deployment-monitors.js';

/**
 * Acquisition metadata as monitor signals (issue 12 §1, "Inputs"): how the images were made —
 * manufacturer, model, software version, kVp, pixel spacing, photometric interpretation, body part,
 * view, transfer syntax — compared with the reference's mix.
 *
 * Each field becomes Bernoulli indicators, so the same CUSUM machinery, thresholds from run length and
 * family control (deployment-monitors.ts) cover them with the image and output signals: per field,
 * one indicator per *common* category (reference share ≥ `minShare`, watched up and down: "more / fewer
 * images from scanner X than usual") and one for *anything else* (rarer categories and every value the
 * reference never saw — a new scanner, a software upgrade — watched up). A field the reference shows
 * with one category only (all CR, say) therefore costs one detector: "not CR" rising. Missing values
 * are a category of their own ("none"), so a sender that stops filling a tag is seen too.
 *
 * Continuous metadata is binned before it is compared (kVp to 10 kV, pixel spacing to 0.05 mm), so
 * that a category is a setting a radiographer would name, not every distinct float.
 */

/** The metadata fields watched, in a fixed order (a plan's signals follow it). */
export const ACQUISITION_FIELDS = [
  'manufacturer',
  'manufacturerModel',
  'softwareVersion',
  'kvp',
  'pixelSpacing',
  'photometricInterpretation',
  'bodyPart',
  'view',
  'transferSyntax',
] as const;
export type AcquisitionField = (typeof ACQUISITION_FIELDS)[number];

const FIELD_LABELS: Readonly<Record<AcquisitionField, string>> = {
  manufacturer: 'manufacturer',
  manufacturerModel: 'scanner model',
  softwareVersion: 'software version',
  kvp: 'tube voltage (kVp, 10 kV bins)',
  pixelSpacing: 'pixel spacing (0.05 mm bins)',
  photometricInterpretation: 'photometric interpretation',
  bodyPart: 'body part',
  view: 'view',
  transferSyntax: 'transfer syntax',
};

/** One image's acquisition metadata, as the de-identified header (or a device's declaration) gives it; absent: not stated. */
export type AcquisitionRecord = Partial<Record<AcquisitionField, string | number | readonly number[] | null>>;

/** The category label for "not stated". */
export const NONE = 'none';

/**
 * The category of one field's value: text trimmed and case-folded (DICOM pads with spaces, senders
 * differ in case), kVp in 10 kV bins ("80-90"), pixel spacing (row, column; the first when both equal)
 * in 0.05 mm bins ("0.10-0.15"), anything unusable `none`.
 *
 * @example acquisitionCategory('kvp', 84) === '80-90'
 * @example acquisitionCategory('manufacturer', ' SIEMENS ') === 'siemens'
 */
export function acquisitionCategory(field: AcquisitionField, value: AcquisitionRecord[AcquisitionField]): string {
  if (value === undefined || value === null) return NONE;
  if (field === 'kvp') {
    const kv = typeof value === 'number' ? value : Number(Array.isArray(value) ? value[0] : String(value).trim());
    if (!Number.isFinite(kv) || kv <= 0) return NONE;
    const low = Math.floor(kv / 10) * 10;
    return `${low}-${low + 10}`;
  }
  if (field === 'pixelSpacing') {
    const parts = typeof value === 'number' ? [value] : Array.isArray(value) ? value.map(Number) : String(value).split('\\').map(Number);
    const spacing = parts[0];
    if (spacing === undefined || !Number.isFinite(spacing) || spacing <= 0) return NONE;
    // Integer arithmetic on hundredths, so 0.15 falls in 0.15-0.20 (0.15 / 0.05 is 2.9999… in binary).
    const low = Math.floor(Math.round(spacing * 1e6) / 50_000) * 5;
    const text = (hundredths: number): string => (hundredths / 100).toFixed(2);
    const anisotropic = parts.length > 1 && parts[1] !== spacing ? ' (anisotropic)' : '';
    return `${text(low)}-${text(low + 5)}${anisotropic}`;
  }
  const text = String(Array.isArray(value) ? value.join('\\') : value)
    .trim()
    .toLowerCase();
  // Bounded: a category is a short label, whatever a header holds.
  return text === '' ? NONE : text.slice(0, 64);
}

export interface AcquisitionSignals {
  /** The indicator signals, in ACQUISITION_FIELDS order, common categories by descending share, then `other`. */
  readonly signals: readonly SignalSpec[];
  /**
   * Per signal: its field and the category it stands for; `null` for the field's `other` indicator,
   * which stands for every category not listed — and, for a field with one dominant category
   * (`dominant`), for everything but that one.
   */
  readonly categories: readonly { readonly field: AcquisitionField; readonly category: string | null; readonly dominant?: string }[];
  /** Per signal, the reference share of what it stands for (for an alert's "reference rate"). */
  readonly referenceShares: readonly number[];
}

/**
 * The acquisition signals a reference calls for. `minShare` (default 5 %) decides which categories are
 * common: a rarer one is watched only through its field's `other` indicator, so that a detector is not
 * spent on a category a few images a week belong to.
 */
export function designAcquisitionSignals(reference: readonly AcquisitionRecord[], minShare = 0.05): AcquisitionSignals {
  if (reference.length === 0) throw new RangeError('an acquisition reference needs at least one image');
  if (!(minShare > 0 && minShare < 1)) throw new RangeError('minShare must be in (0, 1)');
  const signals: SignalSpec[] = [];
  const categories: { field: AcquisitionField; category: string | null; dominant?: string }[] = [];
  const referenceShares: number[] = [];
  for (const field of ACQUISITION_FIELDS) {
    const counts = new Map<string, number>();
    for (const record of reference) {
      const category = acquisitionCategory(field, record[field]);
      counts.set(category, (counts.get(category) ?? 0) + 1);
    }
    const n = reference.length;
    // Descending share, then by name: the order (and so the plan) is a function of the reference alone.
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const common = sorted.filter(([, c]) => c / n >= minShare);
    // A category that is (nearly) everything is watched through `other` alone: "fewer of X" is "more of the rest".
    const dominant = common.length === 1 && common[0]![1] / n > 1 - minShare;
    const listed = dominant ? [] : common;
    let listedCount = 0;
    for (const [category, count] of listed) {
      listedCount += count;
      signals.push({
        name: `acquisition.${field}=${category}`,
        label: `${FIELD_LABELS[field]} “${category}”`,
        kind: 'indicator',
        directions: ['up', 'down'],
      });
      categories.push({ field, category });
      referenceShares.push(count / n);
    }
    signals.push({
      name: `acquisition.${field}:other`,
      label: listed.length === 0 ? `${FIELD_LABELS[field]} other than “${sorted[0]![0]}”` : `${FIELD_LABELS[field]}: another value (rare or new)`,
      kind: 'indicator',
      directions: ['up'],
    });
    categories.push(dominant ? { field, category: null, dominant: common[0]![0] } : { field, category: null });
    referenceShares.push((n - (dominant ? common[0]![1] : listedCount)) / n);
  }
  return { signals, categories, referenceShares };
}

/**
 * One image's indicator values for `design`'s signals: per field exactly one of its indicators is 1
 * (the image's category if listed, else `other`), except a field with a dominant category, whose single
 * `other` indicator is 0 for that category.
 */
export function acquisitionIndicators(design: AcquisitionSignals, record: AcquisitionRecord): Float64Array {
  const out = new Float64Array(design.signals.length);
  let start = 0;
  while (start < design.categories.length) {
    const field = design.categories[start]!.field;
    let end = start;
    while (end < design.categories.length && design.categories[end]!.field === field) end++;
    const category = acquisitionCategory(field, record[field]);
    const other = end - 1;
    let hit = -1;
    for (let i = start; i < other; i++) if (design.categories[i]!.category === category) hit = i;
    if (hit >= 0) out[hit] = 1;
    else out[other] = category === design.categories[other]!.dominant ? 0 : 1;
    start = end;
  }
  return out;
}
