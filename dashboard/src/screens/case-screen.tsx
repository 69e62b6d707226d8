import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client.js';
import type { CaseResult, GateCheckBody, ImageSummary, ReviewRead, WorklistItemDetailBody } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { ImageViewer } from '../components/image-viewer.js';
import { ProbabilityScale, type FindingPolicy } from '../components/probability-scale.js';
import { clearFlash, peekFlash, setFlash } from '../flash.js';
import {
  calibrationErrorOf,
  CHECK_LABELS,
  DECISION_LABELS,
  formatDateTime,
  formatProbability,
  PRIORITY_LABELS,
  probabilityPrecisionNote,
  REASON_LABELS,
  shortKey,
  UNCHECKED_LABELS,
  VERDICT_LABELS,
} from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useResource } from '../use-resource.js';
import { filterSearch, reviewPath, worklistQueryOf } from './worklist-screen.js';

export type CaseMode = { readonly kind: 'review'; readonly itemId: string } | { readonly kind: 'view'; readonly caseId: string };

/** Case review (from the worklist, with the review form) or a read-only case view (from the studies list). */
export function CaseScreen({ mode }: { readonly mode: CaseMode }) {
  const { search } = useLocation();
  const worklist = useResource(
    mode.kind === 'review' ? `item:${mode.itemId}` : 'no-item',
    mode.kind === 'review' ? (signal) => api.worklistItem(mode.itemId, signal) : undefined,
  );
  const item = mode.kind === 'review' ? worklist.data : undefined;
  const caseId = mode.kind === 'review' ? item?.caseId : mode.caseId;
  const kase = useResource(caseId ?? '', caseId === undefined ? undefined : (signal) => api.case(caseId, signal));
  // The decision policy draws the threshold and the abstain band under the probability; the
  // calibration error it reports sets the precision probabilities are shown at.
  const model = useResource('model', (signal) => api.model(signal));
  const [flash] = useState(peekFlash);
  useEffect(() => clearFlash(), []);

  const imageParam = Number.parseInt(search.get('image') ?? '', 10);
  const chosen = Number.isInteger(imageParam) && imageParam >= 0 ? imageParam : undefined;
  const index = chosen ?? item?.resultIndex ?? 0;
  const results = (kase.data?.results ?? []) as CaseResult[];
  const result = results[index];

  if (mode.kind === 'review' && worklist.error !== undefined) return <ErrorMessage error={worklist.error} what="the worklist item" />;
  if (mode.kind === 'review' && item !== undefined && item.state !== 'open') {
    return (
      <div className="notice" role="status">
        <p className="notice-title">This item is not open</p>
        <p>
          {item.state === 'reviewed'
            ? 'It has been reviewed already.'
            : 'Its case was superseded by a newer case of the same study: the study was judged again as a whole, and its new item is on the worklist.'}
        </p>
        <p>
          <Link to={`/worklist${filterSearch(search)}`}>Back to the worklist</Link>
        </p>
      </div>
    );
  }
  const policies: Readonly<Record<string, FindingPolicy | undefined>> = model.data?.manifest.decisionPolicy ?? {};
  const calibrationError = calibrationErrorOf(model.data?.manifest, result?.model.sha256);
  const supersededBy = kase.data?.supersededBy ?? null;
  const supersedes = kase.data?.supersedes ?? null;
  const imageLink = (i: number) =>
    mode.kind === 'review'
      ? `/review/${encodeURIComponent(mode.itemId)}${withImage(filterSearch(search), i)}`
      : `/cases/${encodeURIComponent(caseId ?? '')}?image=${i}`;
  // The images to step through: those the item covers (a cine's frames, a series' instances), or all of a case.
  const listed = item === undefined ? results.map((_, i) => i) : item.resultIndexes;

  return (
    <>
      <div aria-live="polite">{flash === undefined ? null : <p className="notice notice-ok">{flash}</p>}</div>
      <div className="page-head">
        <h1>{mode.kind === 'review' ? 'Case review' : 'Case'}</h1>
        <p className="muted">
          {mode.kind === 'review' ? <Link to={`/worklist${filterSearch(search)}`}>← Worklist</Link> : <Link to="/studies">← Studies</Link>}
          {kase.data === undefined ? null : (
            <>
              {' · '}Study <code title={kase.data.studyKey}>{shortKey(kase.data.studyKey)}</code> · image {index + 1} of {results.length} · judged{' '}
              {formatDateTime(kase.data.createdAt)}
            </>
          )}
        </p>
      </div>
      {supersededBy === null ? null : (
        <div className="notice notice-warn" role="status">
          <p className="notice-title">Superseded: this is not the study&apos;s current result</p>
          <p>
            Instances of the study arrived after this case was judged; the study was judged again as a whole.{' '}
            <Link to={`/cases/${encodeURIComponent(supersededBy)}`}>Open the current case</Link>.
          </p>
        </div>
      )}
      {supersedes === null ? null : (
        <p className="notice" role="status">
          Amended result: this case replaces <Link to={`/cases/${encodeURIComponent(supersedes)}`}>an earlier case</Link> of the study (
          {kase.data?.instances ?? 0} instance(s) judged).
        </p>
      )}
      {kase.error === undefined ? null : <ErrorMessage error={kase.error} what="this case" />}
      {kase.data === undefined || caseId === undefined ? (
        kase.error === undefined ? (
          <p className="muted">Loading the case…</p>
        ) : null
      ) : (
        <div className="case-layout">
          <ImageViewer caseId={caseId} index={index} description={`Image ${index + 1} of study ${shortKey(kase.data.studyKey)}`} />
          <div className="case-side">
            {item === undefined ? null : (
              <p>
                <span className={`priority priority-${item.priority}`}>{PRIORITY_LABELS[item.priority]}</span>{' '}
                {item.reasons.map((r) => (
                  <span key={r} className={`tag tag-${r}`}>
                    {REASON_LABELS[r]}
                  </span>
                ))}
              </p>
            )}
            {result === undefined ? null : <PatientPanel result={result} />}
            {result === undefined ? (
              <p className="notice">This case has no image {index + 1}.</p>
            ) : (
              <Judgement result={result} policies={policies} calibrationError={calibrationError} />
            )}
            {listed.length > 1 ? (
              <nav aria-label={item === undefined ? 'Images of this case' : 'Images this item covers'}>
                <h2>{item === undefined ? 'Images' : `Images in this item (${listed.length} of ${results.length})`}</h2>
                <ul className="inline-list image-list">
                  {listed.map((i) => {
                    const r = results[i];
                    return (
                      <li key={i}>
                        <Link to={imageLink(i)} aria-current={i === index ? 'page' : undefined} title={r === undefined ? undefined : imageTitle(r)}>
                          {i + 1}: {r === undefined ? '?' : r.status === 'decided' ? DECISION_LABELS[r.outputs[0]?.decision ?? 'refer'] : r.status}
                        </Link>
                      </li>
                    );
                  })}
                </ul>
              </nav>
            ) : null}
            {mode.kind === 'review' && item !== undefined ? (
              <ReviewForm
                item={item}
                hasModelOutput={listed.some((i) => (results[i]?.outputs.length ?? 0) > 0)}
                finding={result?.outputs[0]?.finding ?? Object.keys(policies)[0] ?? 'the finding'}
              />
            ) : null}
          </div>
        </div>
      )}
    </>
  );
}

function withImage(filters: string, image: number): string {
  const params = new URLSearchParams(filters);
  params.set('image', String(image));
  return `?${params.toString()}`;
}

function imageTitle(result: CaseResult): string {
  const where = result.input.frame === null ? 'instance' : `frame ${result.input.frame + 1}`;
  return `${where}; gate ${result.quality === null ? 'did not run' : VERDICT_LABELS[result.quality.verdict].toLowerCase()}`;
}

/**
 * The patient and the acquisition, as kept after de-identification (src/domain/image/image-summary.ts):
 * age in whole years, sex only where the ingest profile keeps it, view, modality and body part, site
 * and device. Never an identifier.
 */
function PatientPanel({ result }: { readonly result: CaseResult }) {
  const image: ImageSummary | undefined = result.image;
  // Results judged before the summary was recorded still say some of it in the gate's checks.
  const measured = (check: GateCheckBody['check']) => {
    const value = result.quality?.checks?.find((c) => c.check === check)?.measured;
    return value === undefined ? undefined : String(value);
  };
  const age = image?.patientAgeYears ?? measured('patient_age');
  const device = image?.device ?? ([image?.manufacturer, image?.manufacturerModel].filter((x) => x !== undefined).join(' ') || undefined);
  const rows: [string, string | undefined, string][] = [
    ['Age', age === undefined ? undefined : age === '90' ? '90 years or over' : `${age} years`, 'not known'],
    ['Sex', image?.patientSex === undefined ? undefined : SEX_LABELS[image.patientSex], 'not kept (de-identified)'],
    ['Modality', image?.modality ?? measured('modality'), 'not stated'],
    ['Body part', image?.bodyPart ?? measured('body_part'), 'not stated'],
    ['View', image?.view ?? measured('view'), 'not stated'],
    ['Site', image?.site, 'not known'],
    ['Device', device, 'not stated'],
  ];
  if (image !== undefined && image.frames > 1) rows.push(['Frames', `${image.frames} (this is frame ${(result.input.frame ?? 0) + 1})`, '']);
  return (
    <section className="panel" aria-labelledby="patient-heading">
      <h2 id="patient-heading">Patient and acquisition</h2>
      <dl className="facts facts-pairs">
        {rows.map(([label, value, missing]) => (
          <div key={label} className="fact-group">
            <dt>{label}</dt>
            <dd>{value ?? <span className="muted">{missing}</span>}</dd>
          </div>
        ))}
      </dl>
      <p className="muted small">As kept after de-identification: ages in whole years, no dates, no identifiers.</p>
    </section>
  );
}

const SEX_LABELS: Readonly<Record<'M' | 'F' | 'O', string>> = { M: 'Male', F: 'Female', O: 'Other' };

function Judgement({
  result,
  policies,
  calibrationError,
}: {
  readonly result: CaseResult;
  readonly policies: Readonly<Record<string, FindingPolicy | undefined>>;
  readonly calibrationError: number | undefined;
}) {
  return (
    <>
      <section className="panel" aria-labelledby="model-heading">
        <h2 id="model-heading">Model</h2>
        {result.outputs.length === 0 ? (
          <p>{result.status === 'rejected' ? 'Not judged: the gate rejected this image, so the model did not see it.' : 'No output.'}</p>
        ) : (
          result.outputs.map((o) => {
            const shown = formatProbability(o.probability, calibrationError);
            return (
              <div key={o.finding} className="finding">
                <p className="finding-line">
                  <span className="finding-name">{o.finding}</span>
                  <span className={`decision decision-${o.decision}`}>{DECISION_LABELS[o.decision]}</span>
                </p>
                <p>
                  Probability <strong className="probability">{shown.text}</strong> (calibrated)
                </p>
                <p className="muted small">{probabilityPrecisionNote(shown, calibrationError)}</p>
                <ProbabilityScale probability={o.probability} shown={shown.text} policy={policies[o.finding]} />
              </div>
            );
          })
        )}
        <p className="muted small">
          {result.model.id} {result.model.version} · <span title={result.model.sha256}>sha256 {result.model.sha256.slice(0, 12)}…</span>
          {result.auditId === null ? null : <> · audit {result.auditId}</>}
        </p>
        {result.error === undefined ? null : (
          <p className="notice notice-error">
            {result.error.code}: {result.error.message}
          </p>
        )}
      </section>
      <GatePanel quality={result.quality} />
    </>
  );
}

/**
 * The gate, check by check: what failed, what could not be checked (the image did not tell a value the
 * model's intended use restricts, or a measure could not be computed), what was checked and passed, and
 * what this model does not require. It says "passed" only of checks that were made.
 */
function GatePanel({ quality }: { readonly quality: CaseResult['quality'] }) {
  const verdict = quality?.verdict;
  return (
    <section className="panel" aria-labelledby="gate-heading">
      <h2 id="gate-heading">
        Intended use and quality gate {verdict === undefined ? null : <span className={`verdict verdict-${verdict}`}>{VERDICT_LABELS[verdict]}</span>}
      </h2>
      {quality === null ? (
        <p>The gate did not run.</p>
      ) : quality.checks === undefined ? (
        <>
          {quality.reasons.length === 0 ? null : <ReasonList reasons={quality.reasons} />}
          <p className="muted small">Judged before Vigil recorded each check: which checks were made for this image is not known.</p>
        </>
      ) : (
        <GateChecks quality={quality} checks={quality.checks} />
      )}
    </section>
  );
}

/** Checks whose value a reader understands at a glance (the image measures are numbers without a scale). */
const SHOWN_WHEN_PASSED: ReadonlySet<GateCheckBody['check']> = new Set(['modality', 'body_part', 'view', 'patient_age', 'photometric', 'size', 'bit_depth']);

function GateChecks({ quality, checks }: { readonly quality: NonNullable<CaseResult['quality']>; readonly checks: readonly GateCheckBody[] }) {
  const failed = checks.filter((c) => c.outcome === 'failed');
  const unchecked = checks.filter((c) => c.outcome === 'unchecked' && c.why !== 'not_required');
  const passed = checks.filter((c) => c.outcome === 'passed');
  const notRequired = checks.filter((c) => c.outcome === 'unchecked' && c.why === 'not_required');
  const reasonOf = (check: GateCheckBody) => quality.reasons.find((r) => r.check === check.check);
  const summary =
    failed.length === 0 && unchecked.length === 0
      ? `Every check this model requires was made and passed (${passed.length} of ${passed.length}).`
      : [
          failed.length === 0 ? null : `${failed.length} failed`,
          unchecked.length === 0 ? null : `${unchecked.length} could not be checked`,
          `${passed.length} checked and passed`,
        ]
          .filter((x) => x !== null)
          .join(', ') + '.';
  return (
    <>
      <p className="gate-summary">{summary}</p>
      {failed.length === 0 ? null : (
        <>
          <h3 className="gate-group">Failed</h3>
          <ul className="reasons">
            {failed.map((c) => {
              const reason = reasonOf(c);
              return (
                <li key={c.check}>
                  {reason === undefined ? null : <span className={`verdict verdict-${reason.verdict}`}>{VERDICT_LABELS[reason.verdict]}</span>}{' '}
                  <strong>{CHECK_LABELS[c.check]}</strong>: {reason?.message ?? 'outside what the model allows'}
                  <Measure measured={c.measured} threshold={c.threshold} />
                </li>
              );
            })}
          </ul>
        </>
      )}
      {unchecked.length === 0 ? null : (
        <>
          <h3 className="gate-group">Could not be checked</h3>
          <ul className="reasons">
            {unchecked.map((c) => {
              const reason = reasonOf(c);
              return (
                <li key={c.check}>
                  {reason === undefined ? null : <span className={`verdict verdict-${reason.verdict}`}>{VERDICT_LABELS[reason.verdict]}</span>}{' '}
                  <strong>{CHECK_LABELS[c.check]}</strong>: {c.why === undefined ? 'not checked' : UNCHECKED_LABELS[c.why]}
                  {c.threshold === undefined ? null : <span className="muted small"> (the model is for {formatMeasure(c.threshold)})</span>}
                </li>
              );
            })}
          </ul>
        </>
      )}
      {passed.length === 0 ? null : (
        <>
          <h3 className="gate-group">Checked and passed</h3>
          <ul className="inline-list check-list">
            {passed.map((c) => (
              <li key={c.check}>
                {CHECK_LABELS[c.check]}
                {c.measured === undefined || !SHOWN_WHEN_PASSED.has(c.check) ? null : <span className="muted small"> ({formatMeasure(c.measured)})</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {notRequired.length === 0 ? null : (
        <p className="muted small">Not required by this model, so not checked: {notRequired.map((c) => CHECK_LABELS[c.check]).join(', ')}.</p>
      )}
    </>
  );
}

function ReasonList({ reasons }: { readonly reasons: NonNullable<CaseResult['quality']>['reasons'] }) {
  return (
    <ul className="reasons">
      {reasons.map((r, i) => (
        <li key={i}>
          <span className={`verdict verdict-${r.verdict}`}>{VERDICT_LABELS[r.verdict]}</span> {r.message}
          <Measure measured={r.measured} threshold={r.threshold} />
        </li>
      ))}
    </ul>
  );
}

function Measure({ measured, threshold }: { readonly measured: number | string | undefined; readonly threshold: number | string | undefined }) {
  if (measured === undefined) return null;
  return (
    <span className="muted small">
      {' '}
      (measured {formatMeasure(measured)}
      {threshold === undefined ? '' : `, limit ${formatMeasure(threshold)}`})
    </span>
  );
}

function formatMeasure(value: number | string): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(4))) : value;
}

type Choice = 'yes' | 'no' | 'unsure';

function ReviewForm({ item, hasModelOutput, finding }: { readonly item: WorklistItemDetailBody; readonly hasModelOutput: boolean; readonly finding: string }) {
  const ids = useId();
  const { search } = useLocation();
  const [findingPresent, setFindingPresent] = useState<Choice | undefined>(undefined);
  const [quality, setQuality] = useState<'yes' | 'no' | undefined>(undefined);
  const [agrees, setAgrees] = useState<Choice | undefined>(hasModelOutput ? undefined : 'unsure');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (findingPresent === undefined || quality === undefined || agrees === undefined) {
      setProblem('Answer the three questions before recording the read.');
      return;
    }
    setProblem(undefined);
    setError(undefined);
    setBusy(true);
    const read: ReviewRead = {
      findingPresent: findingPresent === 'unsure' ? null : findingPresent === 'yes',
      imageQualityAdequate: quality === 'yes',
      agreesWithModel: agrees === 'unsure' ? null : agrees === 'yes',
      comment: comment.trim(),
    };
    api
      .review(item.itemId, read)
      .then(
        () => goToNext(item, search, 'Read recorded.'),
        (e: unknown) => {
          if (e instanceof ApiError && e.code === 'REVIEW_ALREADY_RECORDED')
            return goToNext(item, search, 'Someone had already recorded a read for that item.');
          if (e instanceof ApiError && e.code === 'REVIEW_ITEM_SUPERSEDED')
            return goToNext(
              item,
              search,
              'That item was closed: newer images of its study arrived, and the study was judged again. Its new items are on the worklist.',
            );
          setError(e);
          setBusy(false);
        },
      )
      .catch((e: unknown) => {
        setError(e);
        setBusy(false);
      });
  };

  return (
    <form className="panel review-form" onSubmit={submit} aria-labelledby={`${ids}-title`} noValidate>
      <h2 id={`${ids}-title`}>Your read</h2>
      <Question name={`${ids}-finding`} legend={`Is ${finding} present?`} value={findingPresent} onChange={setFindingPresent} unsureLabel="Cannot tell" />
      <Question name={`${ids}-quality`} legend="Is the image quality adequate for reading?" value={quality} onChange={setQuality} />
      <Question
        name={`${ids}-agree`}
        legend="Do you agree with the model?"
        value={agrees}
        onChange={setAgrees}
        unsureLabel={hasModelOutput ? 'Cannot say' : 'No model output'}
      />
      <div className="field">
        <label htmlFor={`${ids}-comment`}>Comment (optional)</label>
        <textarea
          id={`${ids}-comment`}
          rows={3}
          maxLength={2000}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          aria-describedby={`${ids}-phi`}
        />
        <p id={`${ids}-phi`} className="hint warning">
          Do not enter names, patient IDs, dates of birth, accession numbers or other identifiers.
        </p>
      </div>
      <div aria-live="assertive">
        {problem === undefined ? null : (
          <p className="notice notice-error" role="alert">
            {problem}
          </p>
        )}
      </div>
      {error === undefined ? null : <ErrorMessage error={error} what="the read" />}
      <button type="submit" className="button-primary wide" disabled={busy}>
        {busy ? 'Recording…' : 'Record read and open next'}
      </button>
    </form>
  );
}

function Question<T extends string>({
  name,
  legend,
  value,
  onChange,
  unsureLabel,
}: {
  readonly name: string;
  readonly legend: string;
  readonly value: T | undefined;
  readonly onChange: (value: T) => void;
  readonly unsureLabel?: string;
}) {
  const options: [string, string][] = [['yes', 'Yes'], ['no', 'No'], ...(unsureLabel === undefined ? [] : ([['unsure', unsureLabel]] as [string, string][]))];
  return (
    <fieldset className="question">
      <legend>{legend}</legend>
      <div className="choices">
        {options.map(([v, label]) => (
          <label key={v} className="choice">
            <input type="radio" name={name} value={v} checked={value === v} onChange={() => onChange(v as T)} required />
            {label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** After a read: the most urgent open item under the same filters, or the worklist when none is left. */
function goToNext(done: WorklistItemDetailBody, search: URLSearchParams, message: string): Promise<void> {
  const filters = new URLSearchParams(filterSearch(search));
  return api.worklist(worklistQueryOf(filters, 2)).then(
    ({ items }) => {
      const next = items.find((i) => i.itemId !== done.itemId);
      setFlash(next === undefined ? `${message} Nothing else is waiting.` : message);
      navigate(next === undefined ? `/worklist${filterSearch(search)}` : reviewPath(next, filters));
    },
    () => {
      setFlash(message);
      navigate('/worklist');
    },
  );
}
