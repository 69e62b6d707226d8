import Markdown from 'react-markdown';
import { api } from '../api/client.js';
import type { Estimate, ModelCardBody as ModelCard } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import remarkGfm from 'remark-gfm';
import { formatDateTime, formatPercent } from '../format.js';
import { useResource } from '../use-resource.js';

type Json = Record<string, unknown>;

/** The card's own headings sit under this page's "Model card" heading. */
const CARD_HEADINGS = { h1: 'h3', h2: 'h3', h3: 'h4', h4: 'h5' } as const;
const REMARK_PLUGINS = [remarkGfm];

const asObject = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const asText = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');
const asList = (value: unknown): string[] => (Array.isArray(value) ? value.map(asText).filter((s) => s !== '') : []);

/** "AUROC 0.982 (0.97–0.99)": a report's estimate with its interval. */
function estimate(label: string, value: Estimate, percent: boolean): string | null {
  if (value === null || value.value === null) return null;
  const show = (v: number) => (percent ? formatPercent(v) : v.toFixed(3));
  const interval = value.ciLow === null || value.ciHigh === null ? '' : ` (${show(value.ciLow)}–${show(value.ciHigh)})`;
  return `${label} ${show(value.value)}${interval}`;
}

const UNKNOWN_TEXT = { warn: 'warned and referred', reject: 'rejected' } as const;

/** "1–5 years; an unknown age is rejected": the manifest's age range, as the gate applies it. */
function patientAges(use: Json, whenUnknown: ModelCard['whenUnknown']): string {
  const range = asObject(use.patientAgeYears);
  if (range.min === undefined || range.max === undefined) return 'any (not checked)';
  return `${asText(range.min)}–${asText(range.max)} years; an unknown age is ${UNKNOWN_TEXT[whenUnknown.patientAge]}`;
}

/** "PA, AP; an unknown view is warned and referred", or "any (not checked)". */
function views(use: Json, whenUnknown: ModelCard['whenUnknown']): string {
  const listed = asList(use.views);
  return listed.length === 0 ? 'any (not checked)' : `${listed.join(', ')}; an unknown view is ${UNKNOWN_TEXT[whenUnknown.view]}`;
}

/** The model in service: manifest, intended use, its card (Markdown, raw HTML skipped) and evaluation reports. */
export function ModelScreen() {
  const { data, error } = useResource('model-card', (signal) => api.modelCard(signal));
  if (error !== undefined) return <ErrorMessage error={error} what="the model" />;
  if (data === undefined) return <p className="muted">Loading the model…</p>;

  const manifest = data.manifest;
  const use = asObject(data.intendedUse);
  const binary = asObject(manifest.model);
  const policies = Object.entries(asObject(manifest.decisionPolicy));
  const calibration = asObject(manifest.calibration);
  const training = asObject(manifest.trainingData);

  return (
    <>
      <div className="page-head">
        <h1>{asText(manifest.name) || asText(manifest.id)}</h1>
        <p className="muted">
          <code>{asText(manifest.id)}</code> version <strong>{asText(manifest.version)}</strong> · sha256{' '}
          <code title={asText(binary.sha256)}>{asText(binary.sha256).slice(0, 16)}…</code> (checked when loaded)
        </p>
      </div>
      {asText(manifest.description) === '' ? null : <p className="lead">{asText(manifest.description)}</p>}
      <div className="columns">
        <section className="panel" aria-labelledby="use-heading">
          <h2 id="use-heading">Intended use</h2>
          <p>{asText(use.summary)}</p>
          <dl className="facts">
            <dt>Modalities</dt>
            <dd>
              {asList(use.modalities).join(', ')}; an unknown modality is {UNKNOWN_TEXT[data.whenUnknown.modality]}
            </dd>
            <dt>Body parts</dt>
            <dd>
              {asList(use.bodyParts).join(', ')}; an unknown body part is {UNKNOWN_TEXT[data.whenUnknown.bodyPart]}
            </dd>
            <dt>Views</dt>
            <dd>{views(use, data.whenUnknown)}</dd>
            <dt>Population</dt>
            <dd>{asText(use.population)}</dd>
            <dt>Patient ages</dt>
            <dd>{patientAges(use, data.whenUnknown)}</dd>
          </dl>
          {asList(use.notFor).length === 0 ? null : (
            <>
              <h3>Not for</h3>
              <ul>
                {asList(use.notFor).map((n) => (
                  <li key={n}>{n}</li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section className="panel" aria-labelledby="policy-heading">
          <h2 id="policy-heading">Decisions</h2>
          <dl className="facts">
            <dt>Calibration</dt>
            <dd>{asText(calibration.method) || 'none'}</dd>
            {policies.map(([finding, raw]) => {
              const policy = asObject(raw);
              const band = asObject(policy.abstainBand);
              return (
                <div key={finding} className="fact-group">
                  <dt>{finding}</dt>
                  <dd>
                    positive at or above {formatPercent(Number(policy.threshold))}
                    {band.low === undefined ? '' : `; refer to a human between ${formatPercent(Number(band.low))} and ${formatPercent(Number(band.high))}`}
                    {policy.onGateWarn === 'refer' ? '; refer whatever the gate warned about' : ''}
                  </dd>
                </div>
              );
            })}
            <dt>Training data</dt>
            <dd>
              {asText(training.dataset)}
              {asText(training.licence) === '' ? '' : ` (${asText(training.licence)})`}
            </dd>
          </dl>
        </section>
      </div>
      <section className="panel" aria-labelledby="reports-heading">
        <h2 id="reports-heading">Evaluation reports</h2>
        {data.reports.length === 0 ? (
          <p className="muted">
            None yet. Run <code>vigil evaluate</code> and keep the report with the model.
          </p>
        ) : (
          <ul className="report-list">
            {data.reports.map((r) => (
              <li key={r.name}>
                <a href={api.reportUrl(r.name)} target="_blank" rel="noopener">
                  {r.name}
                </a>
                {r.createdAt === null ? null : <span className="muted small"> · {formatDateTime(r.createdAt)}</span>}
                {r.summary.criteriaPassed === null ? null : (
                  <span className={`verdict ${r.summary.criteriaPassed ? 'verdict-pass' : 'verdict-reject'}`}>
                    {r.summary.criteriaPassed ? 'Acceptance criteria met' : 'Acceptance criteria not met'}
                  </span>
                )}
                <p className="small">
                  {[
                    r.summary.dataset,
                    r.summary.n === null ? null : `n = ${r.summary.n}`,
                    estimate('AUROC', r.summary.auroc, false),
                    estimate('sensitivity', r.summary.sensitivity, true),
                    estimate('specificity', r.summary.specificity, true),
                    estimate('refer rate', r.summary.referRate, true),
                  ]
                    .filter((part) => part !== null)
                    .join(' · ')}
                </p>
                <div className="report-plots">
                  {(['roc', 'reliability'] as const).map((kind) => (
                    <figure key={kind}>
                      <img
                        src={api.reportChartUrl(r.name, kind)}
                        alt={`${kind === 'roc' ? 'ROC curve with its 95% bootstrap band' : 'Reliability diagram (calibration)'} of ${r.name}`}
                        loading="lazy"
                      />
                    </figure>
                  ))}
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="panel model-card" aria-labelledby="card-heading">
        <h2 id="card-heading">Model card</h2>
        {data.modelCard === null ? (
          <p className="muted">This model has no card (MODEL_CARD.md beside the manifest).</p>
        ) : (
          <div className="prose">
            {/* skipHtml: the card is Markdown only; raw HTML in it is dropped, never injected. */}
            <Markdown skipHtml components={CARD_HEADINGS} remarkPlugins={REMARK_PLUGINS}>
              {data.modelCard}
            </Markdown>
          </div>
        )}
      </section>
    </>
  );
}
