import { z } from 'zod';
import type { ChartRenderer } from '../ports/evaluation-data.js';
import type { ModelDocuments } from '../ports/model-documents.js';
import { reliabilityChartOf, rocChartOf } from './evaluate-model.js';

/** The plots the model page shows inline (the report has more; they stay in report.html). */
export const REPORT_CHART_KINDS = ['roc', 'reliability'] as const;
export type ReportChartKind = (typeof REPORT_CHART_KINDS)[number];

// The parts of report.json the two plots need, bounded: a report's ROC has one point per distinct
// score (≤ cases + 1), its band and reliability bins a few dozen; anything larger is not Vigil's report.
const finite = z.number().finite();
const overallSchema = z.object({
  auroc: z.object({ value: finite, notDefined: z.string().max(500).optional() }),
  ece: z.object({ value: finite }),
  roc: z.array(z.object({ fpr: finite, tpr: finite })).max(2_000_000),
  rocBand: z.array(z.object({ fpr: finite, tprLow: finite, tprHigh: finite })).max(10_000),
  reliability: z.array(z.object({ meanPredicted: finite, fractionPositive: finite, count: finite })).max(1_000),
});
const reportSchema = z.object({ metrics: z.object({ options: z.object({ eceBins: z.number().int().min(1).max(1_000) }), overall: overallSchema }) });

/** Curves this long are thinned for the page (a line of 2,000 points is indistinguishable at 300 px). */
const MAX_CURVE_POINTS = 2_000;

function thin<T>(points: readonly T[]): readonly T[] {
  if (points.length <= MAX_CURVE_POINTS) return points;
  const step = (points.length - 1) / (MAX_CURVE_POINTS - 1);
  return Array.from({ length: MAX_CURVE_POINTS }, (_, i) => points[Math.round(i * step)] as T);
}

/**
 * A report's ROC or reliability plot as SVG, drawn from its report.json by the same chart code as
 * report.html (so the page and the report agree). Undefined for an unknown report, or one whose
 * JSON lacks what the plot needs. Rendered SVGs are kept per report and kind while the text is the same.
 */
export function createReportCharts(deps: { readonly documents: ModelDocuments; readonly charts: ChartRenderer }) {
  const cache = new Map<string, { readonly text: string; readonly svg: string }>();
  return async function reportChart(name: string, kind: ReportChartKind): Promise<string | undefined> {
    const text = await deps.documents.reportJson(name);
    if (text === undefined) return undefined;
    const key = `${name}\u0000${kind}`;
    const cached = cache.get(key);
    if (cached?.text === text) return cached.svg;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = reportSchema.safeParse(json);
    if (!parsed.success) return undefined;
    const { overall, options } = parsed.data.metrics;
    const { notDefined, value } = overall.auroc;
    const auroc = notDefined === undefined ? { value } : { value, notDefined };
    const chart = kind === 'roc' ? rocChartOf({ auroc, roc: thin(overall.roc), rocBand: overall.rocBand }) : reliabilityChartOf(overall, options.eceBins);
    const svg = await deps.charts.renderSvg(chart);
    if (cache.size >= 32) cache.delete(cache.keys().next().value as string);
    cache.set(key, { text, svg });
    return svg;
  };
}
