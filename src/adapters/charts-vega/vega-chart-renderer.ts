import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ChartData, ChartRenderer } from '../../ports/evaluation-data.js';

const WIDTH = 300;
const HEIGHT = 260;

/**
 * Draws the report's charts with Vega-Lite (compiled to Vega) and renders them to SVG in Node with
 * Vega's headless View (renderer "none", then toSVG): no browser, no canvas, no network. Only this
 * folder imports vega.
 */
export class VegaChartRenderer implements ChartRenderer {
  async renderSvg(chart: ChartData): Promise<string> {
    const view = new View(parse(compile(specOf(chart)).spec), { renderer: 'none' });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  }
}

const unit = { type: 'quantitative' as const, scale: { domain: [0, 1] } };

function specOf(chart: ChartData): TopLevelSpec {
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: chart.title, width: WIDTH, height: HEIGHT, background: 'white' } as const;
  switch (chart.kind) {
    case 'roc':
      return {
        ...base,
        layer: [
          {
            data: { values: chart.band.map((b) => ({ ...b })) },
            mark: { type: 'area', opacity: 0.25, color: '#4c78a8' },
            encoding: {
              x: { field: 'fpr', ...unit, title: '1 − specificity (false positive rate)' },
              y: { field: 'tprLow', ...unit, title: 'sensitivity' },
              y2: { field: 'tprHigh' },
            },
          },
          {
            data: { values: chart.curve.map((p) => ({ fpr: p.fpr, tpr: p.tpr })) },
            mark: { type: 'line', color: '#1f4e79' },
            encoding: { x: { field: 'fpr', ...unit }, y: { field: 'tpr', ...unit } },
          },
          {
            data: {
              values: [
                { x: 0, y: 0 },
                { x: 1, y: 1 },
              ],
            },
            mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
            encoding: { x: { field: 'x', ...unit }, y: { field: 'y', ...unit } },
          },
        ],
      };
    case 'reliability':
      return {
        ...base,
        layer: [
          {
            data: {
              values: [
                { x: 0, y: 0 },
                { x: 1, y: 1 },
              ],
            },
            mark: { type: 'line', color: '#999', strokeDash: [4, 4] },
            encoding: {
              x: { field: 'x', ...unit, title: 'mean predicted probability' },
              y: { field: 'y', ...unit, title: 'observed fraction with the finding' },
            },
          },
          {
            data: { values: chart.bins.map((b) => ({ ...b })) },
            mark: { type: 'line', color: '#e45756' },
            encoding: { x: { field: 'meanPredicted', ...unit }, y: { field: 'fractionPositive', ...unit } },
          },
          {
            data: { values: chart.bins.map((b) => ({ ...b })) },
            mark: { type: 'circle', color: '#e45756', opacity: 0.8 },
            encoding: {
              x: { field: 'meanPredicted', ...unit },
              y: { field: 'fractionPositive', ...unit },
              size: { field: 'count', type: 'quantitative', title: 'cases in bin' },
            },
          },
        ],
      };
    case 'decision-curve': {
      const values = chart.points.flatMap((p) => [
        { threshold: p.threshold, strategy: 'model', netBenefit: p.model },
        { threshold: p.threshold, strategy: 'treat all', netBenefit: p.treatAll },
        { threshold: p.threshold, strategy: 'treat none', netBenefit: 0 },
      ]);
      const top = Math.max(0.05, ...chart.points.map((p) => Math.max(p.model, p.treatAll)));
      return {
        ...base,
        data: { values },
        mark: { type: 'line', clip: true },
        encoding: {
          x: { field: 'threshold', ...unit, title: 'threshold probability' },
          y: { field: 'netBenefit', type: 'quantitative', title: 'net benefit', scale: { domain: [-0.05, top * 1.05] } },
          color: { field: 'strategy', type: 'nominal' },
        },
      };
    }
    case 'forest':
      return {
        $schema: base.$schema,
        title: base.title,
        background: base.background,
        data: { values: chart.rows.map((r) => ({ ...r, overall: chart.overall.find((o) => o.metric === r.metric)?.value ?? null })) },
        facet: { column: { field: 'metric', type: 'nominal', title: null } },
        spec: {
          width: 180,
          height: Math.max(60, 22 * new Set(chart.rows.map((r) => r.stratum)).size),
          layer: [
            { mark: { type: 'rule', color: '#999', strokeDash: [4, 4] }, encoding: { x: { field: 'overall', ...unit } } },
            {
              mark: { type: 'rule' },
              encoding: { y: { field: 'stratum', type: 'nominal', title: null }, x: { field: 'low', ...unit, title: null }, x2: { field: 'high' } },
            },
            { mark: { type: 'point', filled: true, color: '#1f4e79' }, encoding: { y: { field: 'stratum', type: 'nominal' }, x: { field: 'value', ...unit } } },
          ],
        },
      };
    case 'confusion': {
      const values = [
        { truth: 'has finding', called: 'positive', count: chart.tp },
        { truth: 'has finding', called: 'negative', count: chart.fn },
        { truth: 'no finding', called: 'positive', count: chart.fp },
        { truth: 'no finding', called: 'negative', count: chart.tn },
      ];
      return {
        ...base,
        width: 220,
        height: 180,
        data: { values },
        encoding: { x: { field: 'called', type: 'nominal', title: 'model says' }, y: { field: 'truth', type: 'nominal', title: 'truth' } },
        layer: [
          { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
          { mark: { type: 'text', fontSize: 16 }, encoding: { text: { field: 'count', type: 'quantitative' } } },
        ],
      };
    }
    case 'shift-bins': {
      const values = chart.bins.flatMap((b, i) => [
        { order: i, bin: b.bin, set: 'reference', share: b.reference },
        { order: i, bin: b.bin, set: 'evaluated', share: b.evaluated },
      ]);
      return {
        ...base,
        width: 420,
        height: 180,
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'bin', type: 'ordinal', sort: { field: 'order' }, title: "bin, by the reference's percentiles", axis: { labelAngle: -45 } },
          xOffset: { field: 'set', type: 'nominal' },
          y: { field: 'share', type: 'quantitative', title: 'share of the set', axis: { format: '%' } },
          color: {
            field: 'set',
            type: 'nominal',
            scale: { domain: ['reference', 'evaluated'], range: ['#9aa5b1', '#b00020'] },
            legend: { orient: 'bottom', title: null },
          },
        },
      };
    }
    case 'shift': {
      const values = chart.rows.map((r) => ({ variable: r.variable, psi: r.psi, verdict: r.differs ? 'differs (Holm p < 0.05)' : 'no detected difference' }));
      return {
        ...base,
        width: 420,
        height: Math.max(120, 16 * values.length),
        layer: [
          {
            data: { values },
            mark: 'bar',
            encoding: {
              y: { field: 'variable', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
              x: { field: 'psi', type: 'quantitative', title: 'population stability index (PSI)' },
              color: {
                field: 'verdict',
                type: 'nominal',
                scale: { domain: ['differs (Holm p < 0.05)', 'no detected difference'], range: ['#b00020', '#9aa5b1'] },
                legend: { orient: 'bottom', title: null, labelLimit: 300 },
              },
            },
          },
          {
            data: { values: [{ x: 0.1 }, { x: 0.25 }] },
            mark: { type: 'rule', color: '#555', strokeDash: [4, 4] },
            encoding: { x: { field: 'x', type: 'quantitative' } },
          },
        ],
      };
    }
  }
}
