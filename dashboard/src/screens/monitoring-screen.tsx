import { useState } from 'react';
import { api } from '../api/client.js';
import type { MonitorAlertBody, MonitoringDetailBody, MonitoringOverviewBody, MonitorStatusBody, SeriesBucket, SignalSeriesBody } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { DetectorChart, formatMeasure, SignalChart, ThresholdMeter } from '../components/monitor-charts.js';
import { formatDateTime, formatPercent, shortKey } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useResource } from '../use-resource.js';
import { VersionLink } from './releases-screen.js';

const REFRESH_MS = 15_000;

const BUCKETS: readonly { readonly value: SeriesBucket; readonly label: string; readonly word: string }[] = [
  { value: 'cases50', label: 'Per 50 cases', word: 'per 50 cases' },
  { value: 'hour', label: 'Per hour', word: 'per hour' },
  { value: 'day', label: 'Per day', word: 'per day' },
];

function isBucket(value: string | null): value is SeriesBucket {
  return BUCKETS.some((b) => b.value === value);
}

export const SEVERITY_LABELS = { medium: 'Medium: inputs moved', high: 'High: outputs moved' } as const;
export const INCIDENT_STATE_LABELS = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' } as const;

function formatLatency(ms: number | null): string {
  if (ms === null) return 'n/a';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A deployment's state in a few words: collecting its baseline (n/N), monitoring, not deployed; paused beside it. */
function StateText({ status: s }: { readonly status: MonitorStatusBody }) {
  return (
    <>
      {s.state === 'not_deployed' ? <span className="muted">Nothing deployed</span> : null}
      {s.state === 'collecting_baseline' && s.baseline !== null ? (
        <span className="tag">
          Collecting baseline {s.baseline.collected}/{s.baseline.needed}
        </span>
      ) : null}
      {s.state === 'monitoring' ? <span className="verdict verdict-pass">Monitoring</span> : null}
      {s.pausedReason === null ? null : (
        <>
          {' '}
          <span className="verdict verdict-reject" title={s.pausedReason}>
            Paused
          </span>
        </>
      )}
    </>
  );
}

function OperationsStats({ operations: o }: { readonly operations: MonitoringOverviewBody['operations'] }) {
  return (
    <dl className="stats">
      <div className="stat">
        <dt>Time to result, p50 / p95 (24 h)</dt>
        <dd>
          {formatLatency(o.last24h.resultLatencyMs.p50)} / {formatLatency(o.last24h.resultLatencyMs.p95)}
        </dd>
      </div>
      <div className="stat">
        <dt>Images judged / gate-rejected (24 h)</dt>
        <dd>
          {o.last24h.images} / {o.last24h.gateRejected}
        </dd>
      </div>
      <div className="stat">
        <dt>Queue depth</dt>
        <dd>{o.queueDepth}</dd>
      </div>
      <div className={o.deadLetters > 0 ? 'stat alert' : 'stat'}>
        <dt>Dead letters</dt>
        <dd>{o.deadLetters}</dd>
      </div>
    </dl>
  );
}

/** Every deployment's monitors at a glance (GET /api/monitoring). */
export function MonitoringScreen() {
  const { data, error } = useResource('monitoring', (signal) => api.monitoring(signal), REFRESH_MS);
  if (error !== undefined && data === undefined) return <ErrorMessage error={error} what="the monitors" />;
  if (data === undefined) return <p className="muted">Loading the monitors…</p>;
  return (
    <>
      <div className="page-head">
        <h1>Monitoring</h1>
        <p className="muted">
          Each deployment (model version × site) is watched against its reference: alarms are set to at most one false alarm per {data.design.falseAlarmDays}{' '}
          days at {data.design.casesPerDay} cases a day. Without a reference of its own, a version first collects a baseline of {data.design.baselineCases}{' '}
          cases. <Link to="/incidents">Incidents</Link> collect the alarms.
        </p>
      </div>
      <section className="panel" aria-labelledby="deployments-heading">
        <h2 id="deployments-heading">Deployments</h2>
        {data.deployments.length === 0 ? (
          <p className="muted">No site is configured.</p>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Monitored deployments</caption>
              <thead>
                <tr>
                  <th scope="col">Site</th>
                  <th scope="col">Version</th>
                  <th scope="col">State</th>
                  <th scope="col">Cases</th>
                  <th scope="col">Nearest detector</th>
                  <th scope="col">Alerts</th>
                  <th scope="col">Incident</th>
                </tr>
              </thead>
              <tbody>
                {data.deployments.map((d) => (
                  <tr key={`${d.site}:${d.role}`}>
                    <td>
                      {d.versionId === null || d.role === 'canary' ? (
                        <code>{d.site}</code>
                      ) : (
                        <Link to={`/monitoring/${encodeURIComponent(d.site)}`}>{d.site}</Link>
                      )}
                      {d.role === 'canary' ? <span className="tag"> canary</span> : null}
                    </td>
                    <td>{d.versionId === null ? <span className="muted">none</span> : <VersionLink versionId={d.versionId} />}</td>
                    <td>
                      <StateText status={d} />
                    </td>
                    <td className="numeric">{d.cases}</td>
                    <td>
                      {d.nearest === null ? (
                        <span className="muted">–</span>
                      ) : (
                        <ThresholdMeter fraction={d.nearest.fractionOfThreshold} label={d.nearest.label} />
                      )}
                    </td>
                    <td className="numeric">{d.alerts}</td>
                    <td>
                      {d.openIncident === null ? (
                        <span className="muted">none</span>
                      ) : (
                        <Link to={`/incidents/${encodeURIComponent(d.openIncident.incidentId)}`}>
                          {INCIDENT_STATE_LABELS[d.openIncident.state]} ({d.openIncident.severity})
                        </Link>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="panel" aria-labelledby="operations-heading">
        <h2 id="operations-heading">Operations</h2>
        <OperationsStats operations={data.operations} />
      </section>
    </>
  );
}

/** One alert: what moved, by how much, over which cases, how unlikely by chance, what else moved, where, and examples. */
export function AlertCard({ alert: a, showIncident = true }: { readonly alert: MonitorAlertBody; readonly showIncident?: boolean }) {
  const effect = a.signal.startsWith('reviewWrong:')
    ? a.summary
    : a.effect.kind === 'rate'
      ? `rate ${formatPercent(a.effect.observed, 1)} against ${formatPercent(a.effect.reference, 1)} in the reference, over ${a.effect.cases} cases`
      : a.effect.kind === 'embedding-mmd'
        ? `the images' representation (embedding) moved away from the reference: MMD² ${a.effect.value.toPrecision(3)} over the last ${a.effect.cases} cases (window ${a.effect.windowSize}), threshold ${a.threshold.toPrecision(3)}`
        : `mean ${formatMeasure({ measure: 'mean-normal-score' }, a.effect.value)} (normal score against the reference) over ${a.effect.cases} cases`;
  return (
    <article className="alert-card" aria-label={`Alert: ${a.label} ${a.direction}`}>
      <p className="alert-title">
        <strong>
          {a.label} {a.direction === 'up' ? 'up' : 'down'}
        </strong>{' '}
        <code className="small">{a.detector}</code> <span className="muted small">{formatDateTime(a.createdAt)}</span>
      </p>
      <dl className="facts facts-pairs">
        <dt>Statistic</dt>
        <dd>
          {a.effect.kind === 'embedding-mmd'
            ? `online MMD² ${a.statistic.toPrecision(3)} > threshold ${a.threshold.toPrecision(3)}`
            : `CUSUM ${a.statistic.toFixed(2)} ≥ h ${a.threshold.toFixed(2)}`}
        </dd>
        <dt>Effect</dt>
        <dd>{effect}</dd>
        <dt>Window</dt>
        <dd>
          {a.window.startAt === null ? `case ${a.window.startCase}` : formatDateTime(a.window.startAt)} to{' '}
          {a.window.alarmAt === null ? `case ${a.window.alarmCase}` : formatDateTime(a.window.alarmAt)}
        </dd>
        <dt>Run length</dt>
        <dd>
          {a.runLength.toLocaleString()} cases since the detector last restarted; in control it alarms once per{' '}
          {a.arl0 === null ? '∞' : Math.round(a.arl0).toLocaleString()} cases ({a.effect.kind === 'embedding-mmd' ? 'expected run time, ERT' : 'ARL₀'})
        </dd>
        <dt>Also moving</dt>
        <dd>
          {a.contributors.length === 0
            ? 'nothing else'
            : a.contributors.map((c) => `${c.label} (${c.detector}, ${formatPercent(c.fractionOfThreshold, 0)} of its threshold)`).join('; ')}
        </dd>
        <dt>Site, devices</dt>
        <dd>
          <code>{a.site}</code>
          {a.devices.length === 0
            ? ', device not recorded'
            : `; ${a.devices.map((d) => `${[d.manufacturer, d.model].filter((x) => x !== null).join(' ') || 'unknown device'} (${d.cases} cases)`).join(', ')}`}
        </dd>
      </dl>
      {a.exampleCaseIds.length === 0 ? null : (
        <p className="small">
          Example cases:{' '}
          {a.exampleCaseIds.map((id, i) => (
            <span key={id}>
              {i === 0 ? '' : ', '}
              <Link to={`/cases/${encodeURIComponent(id)}`} title={id}>
                case {i + 1}
              </Link>
            </span>
          ))}
        </p>
      )}
      {showIncident && a.incidentId !== null ? (
        <p className="small">
          Filed in incident <Link to={`/incidents/${encodeURIComponent(a.incidentId)}`}>{a.incidentId}</Link>
        </p>
      ) : null}
    </article>
  );
}

/** One deployment's monitors: status, each signal's series with its alarms, detectors against thresholds, alerts, operations. */
export function DeploymentMonitoringScreen({ site }: { readonly site: string }) {
  const { search } = useLocation();
  const asked = search.get('bucket');
  const bucket: SeriesBucket = isBucket(asked) ? asked : 'cases50';
  const detail = useResource(`monitoring:${site}:${bucket}`, (signal) => api.monitoringDetail(site, bucket, signal), REFRESH_MS);
  const overview = useResource('monitoring', (signal) => api.monitoring(signal), REFRESH_MS);
  if (detail.error !== undefined && detail.data === undefined) return <ErrorMessage error={detail.error} what={`the monitors of site ${site}`} />;
  if (detail.data === undefined) return <p className="muted">Loading the monitors of site {site}…</p>;
  return <DeploymentDetail site={site} bucket={bucket} detail={detail.data} operations={overview.data?.operations} />;
}

const RATES = [
  ['sensitivity', 'Sensitivity'],
  ['specificity', 'Specificity'],
  ['ppv', 'Positive predictive value'],
  ['npv', 'Negative predictive value'],
  ['prevalence', 'Prevalence'],
  ['referRate', 'Refer rate'],
] as const;

/** One estimated rate as a table row: the estimate, its 95 % interval, and the images it is over. */
function RateRow({
  label,
  rate,
  images,
}: {
  readonly label: string;
  readonly rate: { readonly estimate: number | null; readonly low: number | null; readonly high: number | null };
  readonly images: number;
}) {
  const percent = (x: number | null) => (x === null ? '–' : formatPercent(x));
  return (
    <tr>
      <th scope="row">{label}</th>
      <td>{percent(rate.estimate)}</td>
      <td>
        {percent(rate.low)} – {percent(rate.high)}
      </td>
      <td>{images}</td>
    </tr>
  );
}

/** Rates from reviews, each reviewed image weighted by 1 / the probability it was reviewed, with 95 % intervals. */
function ReviewedPerformance({ performance: p }: { readonly performance: MonitoringDetailBody['performance'] }) {
  return (
    <>
      <p className="small">
        {p.reviews} reviews of {p.reviewed} images; a randomly sampled confident decision counts{' '}
        {p.sampleRate > 0 ? `${(1 / p.sampleRate).toFixed(0)} times` : 'as sampled'} (sample rate {formatPercent(p.sampleRate)}), a case every rule sends to
        review once.{' '}
        {p.reviewMonitors.included ? `Review monitors: designed (${p.reviewMonitors.reason}).` : `Review monitors: not designed (${p.reviewMonitors.reason}).`}
      </p>
      {p.rates === null ? (
        <p className="muted">No reviewed case of this deployment yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Performance from reviews</caption>
            <thead>
              <tr>
                <th scope="col">Measure</th>
                <th scope="col">Estimate</th>
                <th scope="col">95 % interval</th>
                <th scope="col">Reviewed images</th>
              </tr>
            </thead>
            <tbody>
              {RATES.map(([key, label]) => (
                <RateRow key={key} label={label} rate={p.rates![key]} images={p.rates![key].reviewed} />
              ))}
              {p.calibration === null ? null : (
                <tr>
                  <th scope="row">Calibration (mean probability − observed rate; ECE)</th>
                  <td>{p.calibration.inTheLarge.estimate === null ? '–' : p.calibration.inTheLarge.estimate.toFixed(3)}</td>
                  <td>
                    {p.calibration.inTheLarge.low === null ? '–' : p.calibration.inTheLarge.low.toFixed(3)} –{' '}
                    {p.calibration.inTheLarge.high === null ? '–' : p.calibration.inTheLarge.high.toFixed(3)}; ECE{' '}
                    {p.calibration.ece === null ? '–' : p.calibration.ece.toFixed(3)}
                  </td>
                  <td>{p.calibration.reviewed}</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

const LABEL_FREE_RATES = [
  ['sensitivity', 'Sensitivity'],
  ['specificity', 'Specificity'],
  ['ppv', 'Positive predictive value'],
  ['npv', 'Negative predictive value'],
  ['prevalence', 'Prevalence (expected)'],
] as const;

/** The label-free estimate (CBPE), with what it assumes: a hint beside the reviewed estimate, never instead of it. */
function LabelFreePerformance({ estimate: e }: { readonly estimate: MonitoringDetailBody['performance']['labelFree'] }) {
  return (
    <>
      <p className="small">{e.assumption}</p>
      {e.decided === 0 ? (
        <p className="muted">No decided image of this deployment yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="table" aria-labelledby="label-free-heading">
            <thead>
              <tr>
                <th scope="col">Measure</th>
                <th scope="col">Estimate</th>
                <th scope="col">95 % interval (labels' sampling only)</th>
                <th scope="col">Images</th>
              </tr>
            </thead>
            <tbody>
              {LABEL_FREE_RATES.map(([key, label]) => (
                <RateRow key={key} label={label} rate={e.rates[key]} images={e.rates[key].cases} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

type Selection = { readonly series: SignalSeriesBody; readonly bucket: SignalSeriesBody['buckets'][number] };

function DeploymentDetail({
  site,
  bucket,
  detail: d,
  operations,
}: {
  readonly site: string;
  readonly bucket: SeriesBucket;
  readonly detail: MonitoringDetailBody;
  readonly operations: MonitoringOverviewBody['operations'] | undefined;
}) {
  const [selection, setSelection] = useState<Selection | undefined>(undefined);
  const s = d.status;
  const word = BUCKETS.find((b) => b.value === bucket)?.word ?? '';
  const alarmsOf = (signal: string) => d.alerts.filter((a) => a.signal === signal).map((a) => a.window.alarmSeq);
  return (
    <>
      <div className="page-head">
        <p className="small">
          <Link to="/monitoring">Monitoring</Link>
        </p>
        <h1>
          Monitoring: site <code>{site}</code>
        </h1>
        <p className="muted">
          {s.versionId === null ? 'No version deployed' : <>Version {<VersionLink versionId={s.versionId} />}</>} · <StateText status={s} /> · {s.cases} cases
          {s.lastCaseAt === null ? '' : `, the last ${formatDateTime(s.lastCaseAt)}`}
          {s.reference === null
            ? ''
            : ` · reference: ${s.reference.kind === 'version' ? "the version's validation data" : 'a baseline window of production'} (${s.reference.cases} cases)`}
        </p>
      </div>
      {s.pausedReason === null ? null : (
        <div className="notice notice-warn" role="status">
          <p className="notice-title">Paused: every study at this site goes to human review</p>
          <p>“{s.pausedReason}”</p>
        </div>
      )}
      {s.openIncident === null ? null : (
        <div className="notice notice-error" role="status">
          <p className="notice-title">
            {INCIDENT_STATE_LABELS[s.openIncident.state]} incident, severity {s.openIncident.severity}
          </p>
          <p>
            <Link to={`/incidents/${encodeURIComponent(s.openIncident.incidentId)}`}>Open incident {s.openIncident.incidentId}</Link>
          </p>
        </div>
      )}
      {d.plan === null ? (
        <div className="notice" role="status">
          <p className="notice-title">Collecting the baseline</p>
          <p>
            {s.baseline === null
              ? 'The monitors are not designed yet.'
              : `${s.baseline.collected} of ${s.baseline.needed} cases collected; the detectors are designed from them once they are all in.`}{' '}
            Rates are shown meanwhile; normal scores need the reference.
          </p>
        </div>
      ) : (
        <p className="muted small">
          {d.plan.detectors.length} detectors; at most one false alarm per {d.plan.falseAlarmDays} days at {d.plan.casesPerDay} cases a day (family ARL₀{' '}
          {Math.round(d.plan.familyArl0).toLocaleString()} cases, each detector {Math.round(d.plan.detectorArl0).toLocaleString()}).
          {d.plan.acquisitionNote === null ? ' Acquisition metadata is watched.' : ` Acquisition metadata: not watched (${d.plan.acquisitionNote}).`}
          {d.plan.reviewNote === null ? ' Reviews of confident decisions are watched.' : ` Reviews: not watched (${d.plan.reviewNote}).`}
        </p>
      )}
      <section className="panel" aria-labelledby="signals-heading">
        <div className="panel-head">
          <h2 id="signals-heading">Signals</h2>
          <div className="segmented" role="group" aria-label="Points">
            {BUCKETS.map((b) => (
              <button
                key={b.value}
                type="button"
                aria-pressed={b.value === bucket}
                onClick={() => navigate(`/monitoring/${encodeURIComponent(site)}?bucket=${b.value}`, { replace: true })}
              >
                {b.label}
              </button>
            ))}
          </div>
        </div>
        <p className="muted small">
          Continuous signals: the mean normal score of each point&apos;s cases against the reference (0 in control; ±1 is a shift of one reference standard
          deviation). Rates: the share of cases, with the reference rate dashed. Red: a detector alarmed there. Choose a point (or a table row) for its cases.
          From the deployment&apos;s newest {d.seriesCases.toLocaleString()} cases.
        </p>
        <div className="chart-grid">
          {d.series.map((series) => (
            <SignalChart
              key={series.signal}
              series={series}
              alarmSeqs={alarmsOf(series.signal)}
              bucketWord={word}
              selected={selection?.series.signal === series.signal ? selection.bucket.firstSeq : undefined}
              onSelect={(b) => setSelection({ series, bucket: b })}
            />
          ))}
        </div>
        {selection === undefined ? null : (
          <CasesBehind
            key={`${selection.series.signal}:${selection.bucket.firstSeq}`}
            site={site}
            selection={selection}
            onClose={() => setSelection(undefined)}
          />
        )}
      </section>
      {d.plan === null ? null : (
        <section className="panel" aria-labelledby="detectors-heading">
          <h2 id="detectors-heading">Detectors against their thresholds</h2>
          <p className="muted small">Each one-sided CUSUM&apos;s statistic now, as a share of its threshold h; it alarms at h and starts again from 0.</p>
          <DetectorChart detectors={d.plan.detectors} />
        </section>
      )}
      <section className="panel" aria-labelledby="alerts-heading">
        <h2 id="alerts-heading">Alerts</h2>
        {d.alerts.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <div className="alert-list">
            {d.alerts.map((a) => (
              <AlertCard key={a.alertId} alert={a} />
            ))}
          </div>
        )}
      </section>
      <section className="panel" aria-labelledby="performance-heading">
        <h2 id="performance-heading">Performance from reviews</h2>
        <ReviewedPerformance performance={d.performance} />
        <h3 id="label-free-heading">Estimated without labels (CBPE)</h3>
        <LabelFreePerformance estimate={d.performance.labelFree} />
      </section>
      {operations === undefined ? null : (
        <section className="panel" aria-labelledby="ops-heading">
          <h2 id="ops-heading">Operations (all sites)</h2>
          <OperationsStats operations={operations} />
        </section>
      )}
    </>
  );
}

/** Cases shown per page of a point's drill-down. */
const CASES_PER_PAGE = 50;

/**
 * The cases of one chart point (GET /api/monitoring/{site}/cases from the bucket's first seq through its
 * last), a page at a time by the API's cursor (`next`), however many the point holds; linked to the case screen.
 */
function CasesBehind({ site, selection, onClose }: { readonly site: string; readonly selection: Selection; readonly onClose: () => void }) {
  const { series, bucket } = selection;
  // The cursors of the pages walked so far: the first page starts after the bucket's first seq − 1.
  const [cursors, setCursors] = useState<readonly number[]>([bucket.firstSeq - 1]);
  const after = cursors[cursors.length - 1] ?? bucket.firstSeq - 1;
  const { data, error } = useResource(`cases:${site}:${series.signal}:${bucket.firstSeq}:${bucket.lastSeq}:${after}`, (signal) =>
    api.monitoringCases(site, { signal: series.signal, after, through: bucket.lastSeq, limit: CASES_PER_PAGE }, signal),
  );
  const cases = data?.cases ?? [];
  const first = (cursors.length - 1) * CASES_PER_PAGE + 1;
  const next = data?.next ?? null;
  const raw = (v: number | null | undefined) => (v === null || v === undefined ? '–' : series.kind === 'indicator' ? (v === 1 ? 'yes' : 'no') : v.toFixed(3));
  return (
    <section className="drill" aria-labelledby="drill-heading">
      <div className="panel-head">
        <h3 id="drill-heading" tabIndex={-1}>
          Cases behind {series.label}, {formatDateTime(bucket.start)} ({bucket.value === null ? 'no value' : formatMeasure(series, bucket.value)})
        </h3>
        <button type="button" className="button-quiet" onClick={onClose}>
          Close<span className="visually-hidden"> the cases</span>
        </button>
      </div>
      {error === undefined ? null : <ErrorMessage error={error} what="the cases" />}
      {data === undefined ? (
        error === undefined ? (
          <p className="muted">Loading the cases…</p>
        ) : null
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">Cases of the chosen point</caption>
            <thead>
              <tr>
                <th scope="col">Study</th>
                <th scope="col">Judged</th>
                <th scope="col">Device</th>
                <th scope="col">{series.label} (as measured)</th>
              </tr>
            </thead>
            <tbody>
              {cases.map((c) => (
                <tr key={c.seq}>
                  <td>
                    <Link to={`/cases/${encodeURIComponent(c.caseId)}`} title={c.caseId}>
                      <code>{shortKey(c.studyKey)}</code>
                      <span className="visually-hidden"> (case {c.seq})</span>
                    </Link>
                  </td>
                  <td>{formatDateTime(c.at)}</td>
                  <td>
                    {c.device === null ? (
                      <span className="muted">not recorded</span>
                    ) : (
                      [c.device.manufacturer, c.device.model].filter((x) => x !== null).join(' ')
                    )}
                  </td>
                  <td className="numeric">{raw(c.values[series.signal])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data === undefined || (cursors.length === 1 && next === null) ? null : (
        <nav className="pager" aria-label="Pages of the cases">
          <span className="muted">
            Cases {cases.length === 0 ? 0 : first}–{first + cases.length - 1}
          </span>{' '}
          {cursors.length > 1 ? (
            <button type="button" className="button-quiet" onClick={() => setCursors((c) => c.slice(0, -1))}>
              Previous {CASES_PER_PAGE}
            </button>
          ) : null}{' '}
          {next === null ? null : (
            <button type="button" className="button-quiet" onClick={() => setCursors((c) => [...c, next])}>
              Next {CASES_PER_PAGE}
            </button>
          )}
        </nav>
      )}
    </section>
  );
}
