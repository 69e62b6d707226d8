import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChartData } from '../ports/evaluation-data.js';
import type { ModelDocuments } from '../ports/model-documents.js';
import { createReportCharts } from './report-charts.js';

const bundled = readFileSync(new URL('../../models/pneumonia-demo/reports/pneumoniamnist-test/report.json', import.meta.url), 'utf8');

function setUp(reports: Record<string, string>) {
  const drawn: ChartData[] = [];
  const documents: ModelDocuments = {
    modelCard: () => Promise.resolve(null),
    listReports: () => Promise.resolve([]),
    reportHtml: () => Promise.resolve(undefined),
    reportJson: (name) => Promise.resolve(reports[name]),
  };
  // The renderer records what it is asked to draw (Vega itself is exercised by the HTTP tests).
  const reportChart = createReportCharts({ documents, charts: { renderSvg: (chart) => (drawn.push(chart), Promise.resolve(`<svg>${chart.kind}</svg>`)) } });
  return { reportChart, drawn };
}

describe('reportChart', () => {
  it('draws the ROC and reliability plots of a report as report.html does', async () => {
    const { reportChart, drawn } = setUp({ test: bundled });
    expect(await reportChart('test', 'roc')).toBe('<svg>roc</svg>');
    expect(await reportChart('test', 'reliability')).toBe('<svg>reliability</svg>');
    const overall = (
      JSON.parse(bundled) as {
        metrics: { overall: { roc: { fpr: number; tpr: number }[]; reliability: { meanPredicted: number; fractionPositive: number; count: number }[] } };
      }
    ).metrics.overall;
    expect(drawn[0]).toMatchObject({
      kind: 'roc',
      title: 'ROC curve (AUROC 0.982) with 95% bootstrap band',
      curve: overall.roc.map(({ fpr, tpr }) => ({ fpr, tpr })),
    });
    expect(drawn[1]).toMatchObject({
      kind: 'reliability',
      title: 'Reliability diagram (15 equal-width bins; ECE 0.094)',
      bins: overall.reliability.map(({ meanPredicted, fractionPositive, count }) => ({ meanPredicted, fractionPositive, count })),
    });
    // Drawn once per report and kind while report.json is unchanged.
    await reportChart('test', 'roc');
    expect(drawn).toHaveLength(2);
  });

  it('thins a very long ROC curve to 2,000 points, keeping both ends', async () => {
    const report = JSON.parse(bundled) as { metrics: { overall: { roc: { fpr: number; tpr: number }[] } } };
    report.metrics.overall.roc = Array.from({ length: 10_001 }, (_, i) => ({ fpr: i / 10_000, tpr: Math.sqrt(i / 10_000) }));
    const { reportChart, drawn } = setUp({ long: JSON.stringify(report) });
    await reportChart('long', 'roc');
    const curve = (drawn[0] as Extract<ChartData, { kind: 'roc' }>).curve;
    expect(curve).toHaveLength(2_000);
    expect([curve[0]?.fpr, curve.at(-1)?.fpr]).toEqual([0, 1]);
  });

  it('answers undefined for an unknown report, and for one that is not JSON or lacks the plot data', async () => {
    const { reportChart, drawn } = setUp({ broken: '{nope', other: JSON.stringify({ schema: 'x', metrics: { overall: {} } }) });
    expect(await reportChart('missing', 'roc')).toBeUndefined();
    expect(await reportChart('broken', 'roc')).toBeUndefined();
    expect(await reportChart('other', 'reliability')).toBeUndefined();
    expect(drawn).toEqual([]);
  });
});
