import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { api } from '../api/client.js';
import type { SystemSummaryBody as SystemSummary } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { formatBytes, formatDateTime, formatDuration, formatPercent } from '../format.js';
import { useResource } from '../use-resource.js';

const REFRESH_MS = 10_000;

/** Colours of the chart bars, each at least 3:1 against white (WCAG 1.4.11, non-text contrast). */
const SERIES_COLOURS: Readonly<Record<string, string>> = {
  positive: '#a8241a',
  negative: '#136a2c',
  refer: '#9a5700',
  rejected: '#5b2a86',
  ready: '#0b5cad',
  leased: '#0e7c86',
  done: '#8895a3',
  dead: '#a8241a',
};
const DEFAULT_COLOUR = '#4d5b69';

interface Point {
  readonly name: string;
  readonly value: number;
}

function toPoints(record: Readonly<Record<string, number>>): Point[] {
  return Object.entries(record).map(([name, value]) => ({ name, value }));
}

/** `canRetry`: the user may send dead-lettered jobs back to the queue (permission jobs:manage). */
export function HealthScreen({ canRetry }: { readonly canRetry: boolean }) {
  const { data, error } = useResource('system-summary', (signal) => api.systemSummary(signal), REFRESH_MS);
  if (error !== undefined && data === undefined) return <ErrorMessage error={error} what="the system summary" />;
  if (data === undefined) return <p className="muted">Loading the system summary…</p>;
  return <Summary summary={data} canRetry={canRetry} />;
}

function formatLatency(ms: number | null): string {
  if (ms === null) return 'n/a';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function Summary({ summary, canRetry }: { readonly summary: SystemSummary; readonly canRetry: boolean }) {
  const { queue, last24h } = summary;
  // What the images of the last day came to: each decision, and the gate's refusals beside them.
  const decisionPoints = toPoints({ positive: 0, negative: 0, refer: 0, ...last24h.byDecision, rejected: last24h.gateRejected });
  const waiting = (queue.byState.queued ?? 0) + (queue.byState.leased ?? 0);
  const latency = last24h.resultLatencyMs;
  return (
    <>
      <div className="page-head">
        <h1>System health</h1>
        <p className="muted">
          Vigil {summary.version} · up {formatDuration(summary.uptimeSeconds)} · DICOM{' '}
          {summary.dicomAddress === null ? 'receiver not running' : <code>{summary.dicomAddress}</code>} · refreshed every {REFRESH_MS / 1000} s
        </p>
      </div>
      <dl className="stats">
        <Stat label="Jobs waiting or running" value={String(waiting)} />
        <Stat label="Dead letters" value={String(queue.deadLetters.length)} alert={queue.deadLetters.length > 0} />
        <Stat label="Images judged, 24 h" value={String(last24h.images)} />
        <Stat label="Gate rejections, 24 h" value={String(last24h.gateRejected)} />
        <Stat label="Refer rate, 24 h" value={last24h.referRate === null ? 'n/a' : formatPercent(last24h.referRate)} />
        <Stat label="Time to result, p50" value={formatLatency(latency.p50)} />
        <Stat label="Time to result, p95" value={formatLatency(latency.p95)} />
        <Stat label="Free disk" value={formatBytes(summary.freeDiskBytes)} />
      </dl>
      {last24h.commandLineImages > 0 && (
        <p className="note">
          Not counted above: {last24h.commandLineImages} image{last24h.commandLineImages === 1 ? '' : 's'} judged from the command line (
          <code>vigil predict</code>) on this store in the last 24 h. They are in the audit log, marked as such.
        </p>
      )}
      <div className="columns">
        <QueuePanel byKind={queue.byKind} />
        <ChartPanel title="Decisions in the last 24 hours" points={decisionPoints} empty="No image judged in the last 24 hours." />
      </div>
      <section className="panel" aria-labelledby="dead-heading">
        <h2 id="dead-heading">Dead letters</h2>
        {queue.deadLetters.length === 0 ? (
          <p className="muted">None: every job has succeeded or is still being retried.</p>
        ) : (
          <table className="table">
            <caption className="visually-hidden">Jobs that failed too often and were set aside</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Kind</th>
                <th scope="col">Attempts</th>
                <th scope="col">Error</th>
                <th scope="col">Last tried</th>
                {canRetry ? (
                  <th scope="col">
                    <span className="visually-hidden">Action</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {queue.deadLetters.map((d) => (
                <tr key={d.jobId}>
                  <td className="numeric">{d.jobId}</td>
                  <td>{d.kind}</td>
                  <td className="numeric">{d.attempts}</td>
                  <td className="details">
                    {d.errorCode ?? 'unknown'}
                    {d.errorMessage === null ? '' : `: ${d.errorMessage}`}
                  </td>
                  <td>{formatDateTime(d.updatedAt)}</td>
                  {canRetry ? (
                    <td>
                      <RetryButton jobId={d.jobId} />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

const QUEUE_STATES = ['ready', 'leased', 'dead', 'done'] as const;

/** Jobs per kind (judging a study, sending a result…), stacked by state: the waiting part is the queue's depth. */
function QueuePanel({ byKind }: { readonly byKind: SystemSummary['queue']['byKind'] }) {
  const kinds = [...new Set(byKind.map((k) => k.kind))].sort();
  const rows = kinds.map((kind) => ({
    kind,
    ...Object.fromEntries(QUEUE_STATES.map((state) => [state, byKind.find((k) => k.kind === kind && k.state === state)?.count ?? 0])),
  }));
  return (
    <section className="panel" aria-labelledby="queue-heading">
      <h2 id="queue-heading">Job queue by kind and state</h2>
      {rows.length === 0 ? (
        <p className="muted">No job yet.</p>
      ) : (
        <>
          <div className="chart" aria-hidden="true">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart accessibilityLayer={false} data={rows} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
                <CartesianGrid stroke="#e3e8ee" vertical={false} />
                <XAxis dataKey="kind" tick={{ fill: '#1b2631', fontSize: 13 }} tickLine={false} axisLine={{ stroke: '#8895a3' }} />
                <YAxis allowDecimals={false} tick={{ fill: '#4d5b69', fontSize: 12 }} tickLine={false} axisLine={false} width={40} />
                <Tooltip cursor={{ fill: '#f4f6f9' }} />
                <Legend wrapperStyle={{ fontSize: 13 }} formatter={(value: string) => <span className="legend-text">{value}</span>} />
                {QUEUE_STATES.map((state) => (
                  <Bar key={state} dataKey={state} stackId="jobs" fill={SERIES_COLOURS[state] ?? DEFAULT_COLOUR} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
          <table className="visually-hidden">
            <caption>Jobs by kind and state</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                {QUEUE_STATES.map((state) => (
                  <th key={state} scope="col">
                    {state}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.kind}>
                  <th scope="row">{row.kind}</th>
                  {QUEUE_STATES.map((state) => (
                    <td key={state}>{(row as Record<string, unknown>)[state] as number}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** Sends one dead-lettered job back to the queue; the list drops it at its next refresh. */
function RetryButton({ jobId }: { readonly jobId: number }) {
  const [state, setState] = useState<{ readonly kind: 'idle' | 'sending' | 'sent' } | { readonly kind: 'failed'; readonly error: unknown }>({ kind: 'idle' });
  if (state.kind === 'sent') return <span role="status">Queued again</span>;
  return (
    <>
      <button
        type="button"
        className="button-quiet"
        disabled={state.kind === 'sending'}
        aria-label={`Retry job ${jobId}`}
        onClick={() => {
          setState({ kind: 'sending' });
          api.retryJob(jobId).then(
            () => setState({ kind: 'sent' }),
            (error: unknown) => setState({ kind: 'failed', error }),
          );
        }}
      >
        Retry
      </button>
      {state.kind === 'failed' ? <ErrorMessage error={state.error} what={`job ${jobId}`} /> : null}
    </>
  );
}

function Stat({ label, value, alert = false }: { readonly label: string; readonly value: string; readonly alert?: boolean }) {
  return (
    <div className={`stat${alert ? ' alert' : ''}`}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function ChartPanel({ title, points, empty }: { readonly title: string; readonly points: readonly Point[]; readonly empty: string }) {
  const id = title.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-');
  const total = points.reduce((n, p) => n + p.value, 0);
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {total === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <>
          <div className="chart" aria-hidden="true">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart accessibilityLayer={false} data={[...points]} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
                <CartesianGrid stroke="#e3e8ee" vertical={false} />
                <XAxis dataKey="name" tick={{ fill: '#1b2631', fontSize: 13 }} tickLine={false} axisLine={{ stroke: '#8895a3' }} />
                <YAxis allowDecimals={false} tick={{ fill: '#4d5b69', fontSize: 12 }} tickLine={false} axisLine={false} width={40} />
                <Tooltip cursor={{ fill: '#f4f6f9' }} />
                <Bar dataKey="value" name="count" isAnimationActive={false} radius={[3, 3, 0, 0]}>
                  {points.map((p) => (
                    <Cell key={p.name} fill={SERIES_COLOURS[p.name] ?? DEFAULT_COLOUR} />
                  ))}
                </Bar>
              </BarChart>
            </ResponsiveContainer>
          </div>
          {/* The chart's numbers as a table, for screen readers and for copying. */}
          <table className="visually-hidden">
            <caption>{title}</caption>
            <tbody>
              {points.map((p) => (
                <tr key={p.name}>
                  <th scope="row">{p.name}</th>
                  <td>{p.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
