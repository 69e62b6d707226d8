import { useState } from 'react';
import { api } from '../api/client.js';
import type { CaseResult, StudyBody } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { DECISION_LABELS, formatDateTime, formatPercent, shortKey, STUDY_STATE_LABELS } from '../format.js';
import { Link } from '../router.js';
import { useResource } from '../use-resource.js';

const PAGE = 25;

export function StudiesScreen() {
  const [limit, setLimit] = useState(PAGE);
  const { data, error } = useResource(`studies:${limit}`, (signal) => api.studies(limit, signal), 10_000);
  const studies = data?.studies ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Studies</h1>
        <p className="muted">Newest first. Keys are pseudonymous; opening a study or a case is recorded in the audit log.</p>
      </div>
      {error === undefined ? null : <ErrorMessage error={error} what="the studies" />}
      {data === undefined && error === undefined ? <p className="muted">Loading the studies…</p> : null}
      {data !== undefined && studies.length === 0 ? (
        <div className="notice" role="status">
          <p className="notice-title">No studies yet</p>
          <p>
            Send one with DICOM C-STORE (<code>storescu -aec VIGIL host 11112 files…</code>), STOW-RS (<code>POST /dicomweb/studies</code>) or a device upload (
            <code>POST /api/images</code>).
          </p>
        </div>
      ) : null}
      {studies.length === 0 ? null : (
        <table className="table">
          <caption className="visually-hidden">Received studies and the decisions on their images</caption>
          <thead>
            <tr>
              <th scope="col">Study</th>
              <th scope="col">Last received</th>
              <th scope="col">Instances</th>
              <th scope="col">State</th>
              <th scope="col">Decisions</th>
            </tr>
          </thead>
          <tbody>
            {studies.map((s) => (
              <StudyRow key={s.studyKey} study={s} />
            ))}
          </tbody>
        </table>
      )}
      {studies.length >= limit ? (
        <button type="button" className="button-quiet" onClick={() => setLimit((l) => l + PAGE)}>
          Show {PAGE} more
        </button>
      ) : null}
    </>
  );
}

function StudyRow({ study }: { readonly study: StudyBody }) {
  // Judged studies do not change; one read per study while the page is open.
  const { data, error } = useResource(`${study.studyKey}:${study.instances}:${study.state}`, (signal) => api.study(study.studyKey, signal));
  // The current case only: a case superseded by a later one (instances arrived after it was judged) is no longer the study's result.
  const current = data?.cases.filter((c) => c.supersededBy === null) ?? [];
  const superseded = (data?.cases.length ?? 0) - current.length;
  return (
    <tr>
      <td>
        <code title={study.studyKey}>{shortKey(study.studyKey, 11, 4)}</code>
      </td>
      <td>{formatDateTime(study.lastReceivedAt)}</td>
      <td className="numeric">{study.instances}</td>
      <td>
        <span className={`study-state study-state-${study.state}`}>{STUDY_STATE_LABELS[study.state]}</span>
      </td>
      <td>
        {error !== undefined ? <span className="muted">not available</span> : null}
        {data === undefined ? null : current.length === 0 ? (
          <span className="muted">{STUDY_WAITING[study.state]}</span>
        ) : (
          <ul className="decision-list">
            {current.map((c) =>
              (c.results as CaseResult[]).map((r, i) => (
                <li key={`${c.caseId}:${i}`}>
                  <Link to={`/cases/${encodeURIComponent(c.caseId)}?image=${i}`} aria-label={`Image ${i + 1}: ${describe(r)}`}>
                    <ResultBadge result={r} />
                  </Link>
                </li>
              )),
            )}
          </ul>
        )}
        {superseded === 0 ? null : (
          <p className="small muted">
            Amended: replaces {superseded === 1 ? 'an earlier result' : `${superseded} earlier results`} (instances arrived after the study was judged)
          </p>
        )}
        {study.state === 'receiving' && current.length > 0 ? <p className="small muted">More instances arrived: it will be judged again as a whole.</p> : null}
      </td>
    </tr>
  );
}

const STUDY_WAITING: Readonly<Record<StudyBody['state'], string>> = {
  receiving: 'waiting for the study to complete',
  queued: 'waiting to be judged',
  judging: 'being judged',
  judged: 'no result',
  failed: 'judging failed: see the health page',
};

function describe(result: CaseResult): string {
  const output = result.outputs[0];
  if (result.status === 'rejected') return 'rejected by the quality gate';
  if (result.status === 'error') return `error ${result.error?.code ?? ''}`;
  return output === undefined ? 'decided' : `${DECISION_LABELS[output.decision]}, ${formatPercent(output.probability)}`;
}

function ResultBadge({ result }: { readonly result: CaseResult }) {
  const output = result.outputs[0];
  if (result.status === 'rejected') return <span className="verdict verdict-reject">Gate rejected</span>;
  if (result.status === 'error') return <span className="verdict verdict-reject">Error</span>;
  if (output === undefined) return <span className="decision">Decided</span>;
  return (
    <span className={`decision decision-${output.decision}`}>
      {DECISION_LABELS[output.decision]} {formatPercent(output.probability)}
    </span>
  );
}
