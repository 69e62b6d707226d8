/**
 * The headline of an evaluation report (`vigil evaluate`'s report.json) for the model page: read
 * leniently, since a report may come from an older or newer Vigil; what is missing is null.
 */
export interface ReportEstimate {
  readonly value: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
}

export interface ReportSummary {
  readonly schema: string | null;
  readonly model: { readonly id: string | null; readonly version: string | null; readonly finding: string | null } | null;
  readonly dataset: string | null;
  readonly n: number | null;
  readonly auroc: ReportEstimate | null;
  readonly sensitivity: ReportEstimate | null;
  readonly specificity: ReportEstimate | null;
  readonly ece: ReportEstimate | null;
  readonly referRate: ReportEstimate | null;
  /** Whether the acceptance criteria written in advance passed; null without criteria. */
  readonly criteriaPassed: boolean | null;
}

type Json = Record<string, unknown>;
const object = (value: unknown): Json | undefined => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
// JSON has no NaN: an undefined metric is written as null.
const number = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function estimate(value: unknown): ReportEstimate | null {
  const e = object(value);
  return e === undefined ? null : { value: number(e['value']), ciLow: number(e['ciLow']), ciHigh: number(e['ciHigh']) };
}

/** @example summarizeReport(JSON.parse(reportJsonText)).auroc?.value */
export function summarizeReport(report: unknown): { readonly createdAt: string | null; readonly summary: ReportSummary } {
  const root = object(report) ?? {};
  const model = object(root['model']);
  const overall = object(object(root['metrics'])?.['overall']);
  const criteria = object(root['criteria']);
  return {
    createdAt: text(root['generatedAt']),
    summary: {
      schema: text(root['schema']),
      model: model === undefined ? null : { id: text(model['id']), version: text(model['version']), finding: text(model['finding']) },
      dataset: text(object(root['dataset'])?.['description']),
      n: number(overall?.['n']),
      auroc: estimate(overall?.['auroc']),
      sensitivity: estimate(overall?.['sensitivity']),
      specificity: estimate(overall?.['specificity']),
      ece: estimate(overall?.['ece']),
      referRate: estimate(overall?.['referRate']),
      criteriaPassed: typeof criteria?.['passed'] === 'boolean' ? criteria['passed'] : null,
    },
  };
}
