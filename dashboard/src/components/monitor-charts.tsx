/**
 * The monitoring page's charts, as inline SVG: small enough to draw sixteen at once, each an image with
 * a sentence that says what it shows (role="img", aria-label) and a table beside it for anyone who
 * would rather read the numbers (or cannot see the chart). A point of a series is chosen with the
 * mouse on the chart, or with the keyboard from its table.
 */
import { useId } from 'react';
import type { MonitorDetectorBody, SignalSeriesBody } from '../api/types.js';
import { formatDateTime, formatPercent } from '../format.js';

type Bucket = SignalSeriesBody['buckets'][number];

const WIDTH = 320;
const HEIGHT = 132;
const PAD = { left: 38, right: 8, top: 10, bottom: 22 };

/** A value as the series measures it: reference SDs for normal scores, a percentage for rates. */
export function formatMeasure(series: Pick<SignalSeriesBody, 'measure'>, value: number): string {
  if (series.measure === 'rate') return formatPercent(value, 1);
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)} SD`;
}

/** "10:42" or "7 Dec 10:42" when the series spans days. */
function tickLabel(iso: string, withDay: boolean): string {
  const d = new Date(iso);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return withDay ? `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}` : time;
}

function domainOf(series: SignalSeriesBody): { readonly min: number; readonly max: number } {
  const values = series.buckets.flatMap((b) => (b.value === null ? [] : [b.value]));
  if (series.measure === 'rate') {
    const top = Math.max(0.05, (series.reference ?? 0) * 2, ...values);
    return { min: 0, max: Math.min(1, top * 1.1) };
  }
  // Normal scores: symmetric about 0 (the reference), at least ±1 SD so noise does not look like a shift.
  const extent = Math.max(1, ...values.map((v) => Math.abs(v))) * 1.1;
  return { min: -extent, max: extent };
}

/**
 * One signal's series: its buckets, the reference (0 SD, or the reference rate), and the buckets where
 * one of its detectors alarmed (a red ring and a rule). `onSelect`: a bucket was clicked.
 */
export function SignalChart({
  series,
  alarmSeqs,
  selected,
  onSelect,
  bucketWord,
}: {
  readonly series: SignalSeriesBody;
  /** The cases (seq) at which a detector of this signal alarmed. */
  readonly alarmSeqs: readonly number[];
  readonly selected: number | undefined;
  readonly onSelect: (bucket: Bucket) => void;
  /** "per 50 cases", "per hour", "per day". */
  readonly bucketWord: string;
}) {
  const ids = useId();
  const buckets = series.buckets;
  const { min, max } = domainOf(series);
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const step = innerW / Math.max(1, buckets.length);
  const x = (i: number) => PAD.left + step * (i + 0.5);
  const y = (v: number) => PAD.top + innerH * (1 - (Math.min(max, Math.max(min, v)) - min) / (max - min));
  const isAlarm = (b: Bucket) => alarmSeqs.some((s) => s >= b.firstSeq && s <= b.lastSeq);
  const referenceValue = series.measure === 'rate' ? series.reference : 0;

  // The line breaks where a bucket has no value.
  const segments: string[][] = [];
  let current: string[] = [];
  buckets.forEach((b, i) => {
    if (b.value === null) {
      if (current.length > 0) segments.push(current);
      current = [];
    } else current.push(`${x(i).toFixed(1)},${y(b.value).toFixed(1)}`);
  });
  if (current.length > 0) segments.push(current);

  const valued = buckets.filter((b) => b.value !== null);
  const alarms = buckets.filter(isAlarm).length;
  const withDay = buckets.length > 1 && buckets[0]!.start.slice(0, 10) !== buckets[buckets.length - 1]!.start.slice(0, 10);
  const what = series.measure === 'rate' ? `rate ${bucketWord}` : `mean normal score ${bucketWord}, in reference SDs`;
  const label =
    valued.length === 0
      ? `${series.label}: no values yet.`
      : `${series.label}, ${what}: ${valued.length} point${valued.length === 1 ? '' : 's'} from ${formatDateTime(valued[0]!.start)}, ` +
        `lowest ${formatMeasure(series, Math.min(...valued.map((b) => b.value!)))}, highest ${formatMeasure(series, Math.max(...valued.map((b) => b.value!)))}, ` +
        `last ${formatMeasure(series, valued[valued.length - 1]!.value!)}` +
        (referenceValue === null ? '' : `; reference ${formatMeasure(series, referenceValue)}`) +
        (alarms === 0 ? '; no alarm.' : `; alarm in ${alarms} point${alarms === 1 ? '' : 's'}.`);
  const ticks = series.measure === 'rate' ? [min, (min + max) / 2, max] : [min, 0, max];

  return (
    <figure className="signal-chart" aria-labelledby={`${ids}-title`}>
      <figcaption id={`${ids}-title`} className="signal-title">
        {series.label}
        {alarms > 0 ? <span className="verdict verdict-reject">Alarm</span> : null}
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label} className="chart-svg">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} className="chart-gridline" />
            <text x={PAD.left - 4} y={y(t) + 3} className="chart-tick" textAnchor="end">
              {series.measure === 'rate' ? formatPercent(t, 0) : t.toFixed(1)}
            </text>
          </g>
        ))}
        {referenceValue === null ? null : (
          <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(referenceValue)} y2={y(referenceValue)} className="chart-reference" />
        )}
        {buckets.map((b, i) =>
          isAlarm(b) ? <line key={`a${b.firstSeq}`} x1={x(i)} x2={x(i)} y1={PAD.top} y2={PAD.top + innerH} className="chart-alarm-rule" /> : null,
        )}
        {segments.map((points) => (points.length === 1 ? null : <polyline key={points[0]} points={points.join(' ')} className="chart-line" fill="none" />))}
        {buckets.map((b, i) =>
          b.value === null ? null : (
            <circle
              key={b.firstSeq}
              cx={x(i)}
              cy={y(b.value)}
              r={isAlarm(b) ? 4.5 : selected === b.firstSeq ? 4 : 2.5}
              className={isAlarm(b) ? 'chart-point chart-point-alarm' : selected === b.firstSeq ? 'chart-point chart-point-selected' : 'chart-point'}
            />
          ),
        )}
        {buckets.map((b, i) => (
          // Mouse targets: the whole column of a bucket (the table below serves the keyboard).
          <rect key={`h${b.firstSeq}`} x={x(i) - step / 2} y={PAD.top} width={step} height={innerH} className="chart-hit" onClick={() => onSelect(b)}>
            <title>
              {formatDateTime(b.start)}: {b.value === null ? 'no value' : formatMeasure(series, b.value)} ({b.n} cases)
            </title>
          </rect>
        ))}
        {buckets.length === 0 ? null : (
          <>
            <text x={PAD.left} y={HEIGHT - 6} className="chart-tick">
              {tickLabel(buckets[0]!.start, withDay)}
            </text>
            <text x={WIDTH - PAD.right} y={HEIGHT - 6} className="chart-tick" textAnchor="end">
              {tickLabel(buckets[buckets.length - 1]!.start, withDay)}
            </text>
          </>
        )}
      </svg>
      <details className="chart-table">
        <summary>
          Table<span className="visually-hidden"> of {series.label}</span>
        </summary>
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">
              {series.label}, {what}
            </caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">Value</th>
                <th scope="col">Cases</th>
                <th scope="col">
                  <span className="visually-hidden">Drill down</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {buckets.map((b) => (
                <tr key={b.firstSeq}>
                  <td>{formatDateTime(b.start)}</td>
                  <td className="numeric">
                    {b.value === null ? '–' : formatMeasure(series, b.value)}
                    {isAlarm(b) ? <strong className="alarm-word"> alarm</strong> : null}
                  </td>
                  <td className="numeric">{b.n}</td>
                  <td>
                    <button type="button" className="button-quiet button-small" onClick={() => onSelect(b)}>
                      Cases<span className="visually-hidden"> from {formatDateTime(b.start)}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** Each detector's CUSUM statistic as a share of its threshold h (the rule at 1: an alarm). */
export function DetectorChart({ detectors }: { readonly detectors: readonly MonitorDetectorBody[] }) {
  const ids = useId();
  const rowH = 18;
  const labelW = 250;
  const barW = 260;
  const cap = 1.25;
  const height = detectors.length * rowH + 24;
  const sorted = [...detectors].sort((a, b) => b.statistic / b.h - a.statistic / a.h);
  const nearest = sorted[0];
  const label =
    nearest === undefined
      ? 'No detectors.'
      : `Statistics of ${detectors.length} detectors (CUSUMs, and the embedding's MMD when watched) as a share of their thresholds; nearest: ${nearest.label} ${nearest.direction} at ` +
        `${formatPercent(nearest.statistic / nearest.h, 0)} of h = ${nearest.h.toFixed(2)}; ${detectors.filter((d) => d.statistic >= d.h).length} at or over the threshold.`;
  const xOf = (fraction: number) => labelW + (barW * Math.min(cap, Math.max(0, fraction))) / cap;
  return (
    <figure className="detector-chart" aria-labelledby={`${ids}-title`}>
      <figcaption id={`${ids}-title`} className="visually-hidden">
        Detectors against their thresholds
      </figcaption>
      <svg viewBox={`0 0 ${labelW + barW + 40} ${height}`} role="img" aria-label={label} className="chart-svg">
        {sorted.map((d, i) => {
          const f = d.statistic / d.h;
          return (
            <g key={d.id}>
              <text x={labelW - 6} y={i * rowH + 13} className="chart-tick chart-label" textAnchor="end">
                {d.label} {d.direction === 'up' ? '↑' : '↓'}
              </text>
              <rect
                x={labelW}
                y={i * rowH + 3}
                width={Math.max(0, xOf(f) - labelW)}
                height={rowH - 6}
                className={f >= 1 ? 'chart-bar chart-bar-alarm' : f >= 0.5 ? 'chart-bar chart-bar-warn' : 'chart-bar'}
              />
              <text x={xOf(f) + 4} y={i * rowH + 13} className="chart-tick">
                {formatPercent(f, 0)}
              </text>
            </g>
          );
        })}
        <line x1={xOf(1)} x2={xOf(1)} y1={0} y2={detectors.length * rowH} className="chart-threshold" />
        <text x={xOf(1)} y={height - 6} className="chart-tick" textAnchor="middle">
          h (alarm)
        </text>
      </svg>
      <details className="chart-table">
        <summary>Table of detectors</summary>
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Each detector&apos;s CUSUM statistic, threshold h and in-control run length</caption>
            <thead>
              <tr>
                <th scope="col">Detector</th>
                <th scope="col">Statistic</th>
                <th scope="col">Threshold h</th>
                <th scope="col">Share of h</th>
                <th scope="col">ARL₀ (cases)</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((d) => (
                <tr key={d.id}>
                  <td>
                    {d.label} {d.direction} <code className="small">{d.id}</code>
                  </td>
                  <td className="numeric">{d.statistic.toFixed(2)}</td>
                  <td className="numeric">{d.h.toFixed(2)}</td>
                  <td className="numeric">{formatPercent(d.statistic / d.h, 0)}</td>
                  <td className="numeric">{d.arl0 === null ? '∞' : Math.round(d.arl0).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** A fraction of a threshold as a small bar (status tables): amber from one half, red at one. */
export function ThresholdMeter({ fraction, label }: { readonly fraction: number; readonly label: string }) {
  const shown = Math.min(1, Math.max(0, fraction));
  return (
    <span className="meter-wrap">
      <span className="meter" aria-hidden="true">
        <span
          className={fraction >= 1 ? 'meter-fill meter-alarm' : fraction >= 0.5 ? 'meter-fill meter-warn' : 'meter-fill'}
          style={{ width: `${shown * 100}%` }}
        />
      </span>
      <span>
        {formatPercent(fraction, 0)} <span className="muted small">of threshold, {label}</span>
      </span>
    </span>
  );
}
