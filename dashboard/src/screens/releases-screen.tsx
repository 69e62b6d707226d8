import { useId, useState, type FormEvent } from 'react';
import { hasPermission, type Role } from '../../../src/domain/access/roles.js';
import { api } from '../api/client.js';
import type { LedgerAnswerBody, ReleaseViewBody, SiteDeploymentBody } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { CHANGE_TYPE_LABELS, formatDateTime, formatPercent, GATE_LABELS, RELEASE_STATE_LABELS, shortVersion } from '../format.js';
import { Link } from '../router.js';
import { useResource } from '../use-resource.js';

type Person = ReleaseViewBody['request']['requestedBy'];
type SignatureMeaning = ReleaseViewBody['request']['signatures'][number]['meaning'];

/** A model version by its short id, linked to its registry record; the full id is in the title. */
export function VersionLink({ versionId }: { readonly versionId: string }) {
  return (
    <Link to={`/model/versions/${versionId}`} title={versionId}>
      <code>{shortVersion(versionId)}</code>
    </Link>
  );
}

const personText = (p: Person) => `${p.userName} (${p.role})`;

/**
 * Deployments and releases (docs/releases.md): what judges each site, the release requests, and the
 * ledger. What the role may do decides the buttons shown; the server checks again on every request.
 */
export function ReleasesScreen({ role }: { readonly role: Role }) {
  const deployments = useResource('deployments', (signal) => api.deployments(signal));
  const releases = useResource('releases', (signal) => api.releases(signal));
  return (
    <>
      <div className="page-head">
        <h1>Deployments &amp; releases</h1>
        <p className="muted">
          Which model version judges each site, the candidate beside it, and the release requests that put them there. Every change is recorded in the audit
          log.
        </p>
      </div>
      <section className="panel" aria-labelledby="sites-heading">
        <h2 id="sites-heading">Sites</h2>
        {deployments.error === undefined ? null : <ErrorMessage error={deployments.error} what="the deployments" />}
        {deployments.data === undefined ? (
          deployments.error === undefined ? (
            <p className="muted">Loading the deployments…</p>
          ) : null
        ) : (
          <div className="site-list">
            {deployments.data.deployments.map((d) => (
              <SiteCard key={d.site} deployment={d} role={role} onChanged={deployments.reload} />
            ))}
          </div>
        )}
      </section>
      <section className="panel" aria-labelledby="requests-heading">
        <h2 id="requests-heading">Release requests</h2>
        {releases.error === undefined ? null : <ErrorMessage error={releases.error} what="the release requests" />}
        {releases.data === undefined ? (
          releases.error === undefined ? (
            <p className="muted">Loading the release requests…</p>
          ) : null
        ) : releases.data.releases.length === 0 ? (
          <p className="muted">
            None yet. An ml-engineer makes one with <code>vigil release request</code> or <code>POST /api/releases</code>.
          </p>
        ) : (
          <ReleaseTable releases={releases.data.releases} />
        )}
      </section>
      {hasPermission(role, 'audit:read') && deployments.data !== undefined ? <LedgerBox sites={deployments.data.deployments.map((d) => d.site)} /> : null}
    </>
  );
}

type Action = { readonly kind: 'idle' } | { readonly kind: 'pausing' } | { readonly kind: 'confirm-rollback' } | { readonly kind: 'busy' };

/** One site: production, candidate, pause; Pause/Resume and Roll back for the roles that may. */
function SiteCard({ deployment: d, role, onChanged }: { readonly deployment: SiteDeploymentBody; readonly role: Role; readonly onChanged: () => void }) {
  const ids = useId();
  const [action, setAction] = useState<Action>({ kind: 'idle' });
  const [reason, setReason] = useState('');
  const [failure, setFailure] = useState<unknown>(undefined);
  const canPause = hasPermission(role, 'deployments:pause');
  const canRollBack = hasPermission(role, 'deployments:rollback');
  const previous = d.history.at(-1);

  const act = (work: () => Promise<SiteDeploymentBody>) => {
    setAction({ kind: 'busy' });
    setFailure(undefined);
    work().then(
      () => {
        setAction({ kind: 'idle' });
        setReason('');
        onChanged();
      },
      (error: unknown) => {
        setFailure(error);
        setAction({ kind: 'idle' });
      },
    );
  };
  const pause = (event: FormEvent) => {
    event.preventDefault();
    act(() => api.pauseSite(d.site, { reason: reason.trim() }));
  };
  const busy = action.kind === 'busy';

  return (
    <article className="site-card" aria-labelledby={`${ids}-site`}>
      <div className="panel-head">
        <h3 id={`${ids}-site`}>
          Site <code>{d.site}</code>
        </h3>
        {d.paused === null ? <span className="verdict verdict-pass">Judging</span> : <span className="verdict verdict-reject">Paused</span>}
      </div>
      <dl className="facts">
        <dt>Production</dt>
        <dd>
          {d.production === null ? <span className="muted">none: every study goes to human review</span> : <VersionLink versionId={d.production} />}
          {d.productionRequestId === null ? null : (
            <span className="small">
              {' '}
              by <Link to={`/releases/${d.productionRequestId}`}>{d.productionRequestId}</Link>
            </span>
          )}
        </dd>
        <dt>Candidate</dt>
        <dd>
          {d.candidate === null ? (
            <span className="muted">none</span>
          ) : (
            <>
              <VersionLink versionId={d.candidate.versionId} />{' '}
              {d.candidate.mode === 'shadow'
                ? 'in shadow (judges every study; its decisions are recorded, not used)'
                : `in canary, judging ${d.candidate.fraction === null ? 'a share' : formatPercent(d.candidate.fraction, 0)} of studies`}
              {d.candidate.requestId === null ? null : (
                <span className="small">
                  {' '}
                  for <Link to={`/releases/${d.candidate.requestId}`}>{d.candidate.requestId}</Link>
                </span>
              )}
            </>
          )}
        </dd>
        <dt>Rollback to</dt>
        <dd>{previous === undefined ? <span className="muted">no earlier version</span> : <VersionLink versionId={previous} />}</dd>
        <dt>Last change</dt>
        <dd>
          {formatDateTime(d.updatedAt)} by {d.updatedBy} <span className="muted small">(generation {d.generation})</span>
        </dd>
      </dl>
      {d.paused === null ? null : (
        <div className="notice notice-warn" role="status">
          <p className="notice-title">Paused: every study at this site goes to human review</p>
          <p>
            “{d.paused.reason}” — {d.paused.by}, {formatDateTime(d.paused.at)}
          </p>
        </div>
      )}
      {canPause || canRollBack ? (
        <div className="actions">
          {canPause && d.paused === null && action.kind !== 'pausing' ? (
            <button type="button" className="button-quiet" disabled={busy} onClick={() => setAction({ kind: 'pausing' })}>
              Pause<span className="visually-hidden"> site {d.site}</span>
            </button>
          ) : null}
          {canPause && d.paused !== null ? (
            <button type="button" className="button-quiet" disabled={busy} onClick={() => act(() => api.resumeSite(d.site))}>
              Resume<span className="visually-hidden"> site {d.site}</span>
            </button>
          ) : null}
          {canRollBack && action.kind !== 'confirm-rollback' ? (
            <button type="button" className="button-quiet" disabled={busy || previous === undefined} onClick={() => setAction({ kind: 'confirm-rollback' })}>
              Roll back<span className="visually-hidden"> site {d.site}</span>
            </button>
          ) : null}
        </div>
      ) : null}
      {action.kind === 'pausing' ? (
        <form onSubmit={pause} className="inline-form">
          <div className="field">
            <label htmlFor={`${ids}-reason`}>Why pause site {d.site}?</label>
            <input id={`${ids}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} required autoComplete="off" />
            <p className="hint">Recorded in the audit log and shown to everyone who sees the site. No patient identifiers.</p>
          </div>
          <div className="actions">
            <button type="submit" className="button-primary" disabled={reason.trim() === ''}>
              Pause site
            </button>
            <button type="button" className="button-quiet" onClick={() => setAction({ kind: 'idle' })}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      {action.kind === 'confirm-rollback' && previous !== undefined ? (
        <div className="notice notice-warn" role="alertdialog" aria-labelledby={`${ids}-rollback`}>
          <p className="notice-title" id={`${ids}-rollback`}>
            Roll site {d.site} back to <code title={previous}>{shortVersion(previous)}</code>?
          </p>
          <p>The version in production now stops judging at once; the request that put it there is retired.</p>
          <div className="actions">
            <button type="button" className="button-primary" onClick={() => act(() => api.rollBackSite(d.site))}>
              Confirm roll back
            </button>
            <button type="button" className="button-quiet" onClick={() => setAction({ kind: 'idle' })}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <div aria-live="polite">{failure === undefined ? null : <ErrorMessage error={failure} what="the change" failed="The change was not made" coded />}</div>
    </article>
  );
}

function ReleaseTable({ releases }: { readonly releases: readonly ReleaseViewBody[] }) {
  return (
    <div className="table-scroll">
      <table className="table release-table">
        <caption className="visually-hidden">Release requests, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">State</th>
            <th scope="col">Change</th>
            <th scope="col">Site</th>
            <th scope="col">Candidate</th>
            <th scope="col">Baseline</th>
            <th scope="col">Requested by</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {releases.map(({ request: r }) => (
            <tr key={r.requestId}>
              <td className="request-id">
                {/* The whole id, broken over lines where it must: it is what people quote. */}
                <Link to={`/releases/${r.requestId}`}>{r.requestId}</Link>
              </td>
              <td>
                <span className="tag">{RELEASE_STATE_LABELS[r.state]}</span>
              </td>
              <td>{CHANGE_TYPE_LABELS[r.changeType]}</td>
              <td>
                <code>{r.site}</code>
              </td>
              <td>
                <VersionLink versionId={r.candidateVersionId} />
              </td>
              <td>{r.baselineVersionId === null ? <span className="muted">none</span> : <VersionLink versionId={r.baselineVersionId} />}</td>
              <td className="wrap">{personText(r.requestedBy)}</td>
              <td className="wrap">{formatDateTime(r.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A `datetime-local` value for now to the second, in the browser's time zone (what the input shows and reads). */
function localNow(): string {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
}

/**
 * The ledger (audit:read): which version judged a site's studies at a moment, and who approved it,
 * each part citing the audit entry it was read from.
 */
function LedgerBox({ sites }: { readonly sites: readonly string[] }) {
  const ids = useId();
  const [site, setSite] = useState(sites[0] ?? '');
  const [when, setWhen] = useState(localNow);
  const [state, setState] = useState<
    | { readonly kind: 'idle' | 'asking' }
    | { readonly kind: 'failed'; readonly error: unknown }
    | { readonly kind: 'answered'; readonly answer: LedgerAnswerBody }
  >({ kind: 'idle' });

  const ask = (event: FormEvent) => {
    event.preventDefault();
    const at = new Date(when);
    if (Number.isNaN(at.getTime())) return;
    setState({ kind: 'asking' });
    api.ledger(site, at.toISOString()).then(
      (answer) => setState({ kind: 'answered', answer }),
      (error: unknown) => setState({ kind: 'failed', error }),
    );
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Ledger</h2>
      <p className="muted">Which model version judged a site’s studies at a moment, and who approved it, read from the audit log.</p>
      <form onSubmit={ask} className="ledger-form">
        <div className="field">
          <label htmlFor={`${ids}-site`}>Site</label>
          <select id={`${ids}-site`} value={site} onChange={(e) => setSite(e.target.value)}>
            {sites.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-at`}>Date and time</label>
          <input id={`${ids}-at`} type="datetime-local" step={1} value={when} onChange={(e) => setWhen(e.target.value)} required />
        </div>
        <button type="submit" className="button-primary" disabled={state.kind === 'asking' || site === ''}>
          Ask the ledger
        </button>
      </form>
      <div aria-live="polite">
        {state.kind === 'failed' ? <ErrorMessage error={state.error} what="the ledger" coded /> : null}
        {state.kind === 'answered' ? <LedgerAnswer answer={state.answer} /> : null}
      </div>
    </section>
  );
}

function Citation({ citation }: { readonly citation: { readonly auditId: string; readonly time: string } }) {
  return (
    <span className="muted small">
      {' '}
      (audit <code>{citation.auditId}</code>, {formatDateTime(citation.time)})
    </span>
  );
}

/** The ledger's answer in one sentence, then its signatures (name, role, meaning and time: 21 CFR 11.50). */
function LedgerAnswer({ answer: a }: { readonly answer: LedgerAnswerBody }) {
  const d = a.deployment;
  if (d === null) {
    return (
      <p className="ledger-sentence">
        No deployment of site <code>{a.site}</code> was recorded by {formatDateTime(a.at)}.
      </p>
    );
  }
  const judgedBy =
    a.model !== null ? (
      <>
        {a.model.id} {a.model.version} (
        {a.model.versionId === undefined ? <code>{a.model.sha256.slice(0, 12)}</code> : <VersionLink versionId={a.model.versionId} />})
      </>
    ) : d.production !== null ? (
      <VersionLink versionId={d.production} />
    ) : null;
  return (
    <>
      <p className="ledger-sentence">
        At {formatDateTime(a.at)}, {judgedBy === null ? <>no model judged studies at site </> : <>studies at site </>}
        <code>{a.site}</code>
        {judgedBy === null ? null : <> were judged by {judgedBy}</>}
        {d.candidate === null ? null : (
          <>
            , with <VersionLink versionId={d.candidate.versionId} /> in {d.candidate.mode}
            {d.candidate.fraction === null ? '' : ` at ${formatPercent(d.candidate.fraction, 0)}`}
          </>
        )}
        {d.pausedReason === null ? null : <>, paused (“{d.pausedReason}”)</>}; set by {d.changedBy} (
        {d.change === 'rollback' ? 'restored by a rollback' : d.change}, generation {d.generation})
        <Citation citation={d.citation} />
        {a.release === null ? null : (
          <>
            , under release request <Link to={`/releases/${a.release.requestId}`}>{a.release.requestId}</Link> ({a.release.changeType}) requested by{' '}
            {a.release.requestedBy} ({a.release.requesterRole})
            <Citation citation={a.release.citation} />
          </>
        )}
        .
      </p>
      {a.approvals.length === 0 ? (
        <p className="muted">No signatures approved it.</p>
      ) : (
        <>
          <h3>Signatures</h3>
          <LedgerSignatures approvals={a.approvals} />
        </>
      )}
      {d.candidate === null ? null : (
        <>
          <h3>Candidate</h3>
          {a.candidateRelease === null ? (
            <p className="muted">The candidate runs under no release request (an operator’s direct change).</p>
          ) : (
            <p>
              Under release request <Link to={`/releases/${a.candidateRelease.requestId}`}>{a.candidateRelease.requestId}</Link> (
              {a.candidateRelease.changeType}) requested by {a.candidateRelease.requestedBy} ({a.candidateRelease.requesterRole})
              <Citation citation={a.candidateRelease.citation} />.
            </p>
          )}
          {a.candidateApprovals.length === 0 ? null : <LedgerSignatures approvals={a.candidateApprovals} />}
        </>
      )}
    </>
  );
}

function LedgerSignatures({ approvals }: { readonly approvals: LedgerAnswerBody['approvals'] }) {
  return (
    <ul className="signature-list">
      {approvals.map((s) => (
        <li key={s.citation.auditId}>
          <strong>{s.signerName}</strong> ({s.role}) — <em>{s.meaning}</em> — {formatDateTime(s.citation.time)}
          <span className="muted small">
            {' '}
            · re-authenticated by {s.reauthenticatedBy} · audit <code>{s.citation.auditId}</code>
          </span>
        </li>
      ))}
    </ul>
  );
}

/** One release request: protocol, gates with evidence, signatures, what it still needs, and the Sign form. */
export function ReleaseScreen({ requestId, role, userId }: { readonly requestId: string; readonly role: Role; readonly userId: string }) {
  const { data, error, reload } = useResource(`release:${requestId}`, (signal) => api.release(requestId, signal));
  if (error !== undefined && data === undefined) return <ErrorMessage error={error} what={`the release request ${requestId}`} />;
  if (data === undefined) return <p className="muted">Loading the release request…</p>;
  const r = data.request;
  return (
    <>
      <div className="page-head">
        <p className="small">
          <Link to="/releases">Deployments &amp; releases</Link>
        </p>
        <h1>Release request {r.requestId}</h1>
        <p className="muted">
          <span className="tag">{RELEASE_STATE_LABELS[r.state]}</span> {CHANGE_TYPE_LABELS[r.changeType]} at site <code>{r.site}</code>, requested by{' '}
          {personText(r.requestedBy)} {formatDateTime(r.createdAt)}
        </p>
      </div>
      <div className="columns">
        <section className="panel" aria-labelledby="request-heading">
          <h2 id="request-heading">Request</h2>
          <dl className="facts">
            <dt>Candidate</dt>
            <dd>
              <VersionLink versionId={r.candidateVersionId} />
            </dd>
            <dt>Baseline</dt>
            <dd>{r.baselineVersionId === null ? <span className="muted">none</span> : <VersionLink versionId={r.baselineVersionId} />}</dd>
            <dt>Protocol</dt>
            <dd>
              {data.protocol.description}
              <br />
              <span className="small">
                sha256 <code className="hash">{r.protocolSha256}</code>
              </span>
            </dd>
            <dt>Validation data</dt>
            <dd>
              {data.validationDataSha256 === null ? <span className="muted">none named</span> : <code className="hash">{data.validationDataSha256}</code>}
            </dd>
            {r.canaryFraction === null ? null : (
              <div className="fact-group">
                <dt>Canary</dt>
                <dd>{formatPercent(r.canaryFraction, 0)} of studies</dd>
              </div>
            )}
            <dt>Updated</dt>
            <dd>{formatDateTime(r.updatedAt)}</dd>
          </dl>
        </section>
        <section className="panel" aria-labelledby="signatures-heading">
          <h2 id="signatures-heading">Signatures</h2>
          {r.signatures.length === 0 ? (
            <p className="muted">Not signed yet.</p>
          ) : (
            <ul className="signature-list">
              {r.signatures.map((s) => (
                <li key={`${s.signer.userId}:${s.meaning}`}>
                  <strong>{s.signer.userName}</strong> ({s.signer.role}) — <em>{s.meaning}</em> — {formatDateTime(s.at)}
                </li>
              ))}
            </ul>
          )}
          <h3>Still needed</h3>
          {data.missingApprovals.length === 0 ? (
            <p className="muted">Every approval the protocol asks for is given.</p>
          ) : (
            <ul>
              {data.missingApprovals.map((m) => (
                <li key={`${m.role}:${m.meaning}`}>
                  {m.role}: <em>{m.meaning}</em>
                </li>
              ))}
            </ul>
          )}
          {hasPermission(role, 'releases:sign') ? <Signing view={data} role={role} userId={userId} onSigned={reload} /> : null}
        </section>
      </div>
      <section className="panel" aria-labelledby="gates-heading">
        <h2 id="gates-heading">Gates</h2>
        {r.gates.length === 0 ? <p className="muted">No gate has run yet.</p> : <GateTable view={data} />}
        {data.pendingGates.length === 0 ? null : <p className="small">Still to run: {data.pendingGates.map((g) => GATE_LABELS[g]).join(', ')}.</p>}
      </section>
    </>
  );
}

function GateTable({ view }: { readonly view: ReleaseViewBody }) {
  const r = view.request;
  return (
    <div className="table-scroll">
      <table className="table gate-table">
        <caption className="visually-hidden">Gates run for {r.requestId}</caption>
        <thead>
          <tr>
            <th scope="col">Gate</th>
            <th scope="col">Result</th>
            <th scope="col">Summary</th>
            <th scope="col">Evidence</th>
            <th scope="col">Run</th>
          </tr>
        </thead>
        <tbody>
          {r.gates.map((g) => (
            <tr key={`${g.gate}:${g.at}`}>
              <td>{GATE_LABELS[g.gate]}</td>
              <td>{g.passed ? <span className="verdict verdict-pass">Passed</span> : <span className="verdict verdict-reject">Failed</span>}</td>
              <td className="wrap">{g.summary}</td>
              <td>
                <a href={api.evidenceUrl(r.requestId, g.evidenceSha256)} download={`${g.gate}-${g.evidenceSha256.slice(0, 12)}.json`} title={g.evidenceSha256}>
                  <code>{g.evidenceSha256.slice(0, 12)}</code>
                  <span className="visually-hidden"> evidence of the {GATE_LABELS[g.gate]} gate</span>
                </a>
              </td>
              <td>{formatDateTime(g.at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The Sign form only where this user can and need sign (the server decides again): the request is
 * validated, this user has not signed it and did not request it, and the protocol still asks a
 * signature of their role. Otherwise a line says why there is nothing to sign.
 */
function Signing({
  view,
  role,
  userId,
  onSigned,
}: {
  readonly view: ReleaseViewBody;
  readonly role: Role;
  readonly userId: string;
  readonly onSigned: () => void;
}) {
  const r = view.request;
  const mine = r.signatures.find((s) => s.signer.userId === userId);
  if (mine !== undefined) {
    return (
      <p className="notice notice-ok" role="status">
        Signed. You signed this request as “{mine.meaning}” on {formatDateTime(mine.at)}.
      </p>
    );
  }
  if (r.state !== 'validated') {
    const why = r.state === 'draft' ? 'once every gate has passed' : 'only while the request is validated';
    return (
      <p className="muted small">
        Not open for signing: it is {RELEASE_STATE_LABELS[r.state].toLowerCase()}; a request is signed {why}.
      </p>
    );
  }
  if (r.requestedBy.userId === userId) return <p className="muted small">You requested this change: another person signs it.</p>;
  const meanings = [...new Set(view.missingApprovals.filter((m) => m.role === role).map((m) => m.meaning))];
  if (meanings.length === 0) return <p className="muted small">The protocol asks no further signature of a {role}.</p>;
  return <SignForm view={view} meanings={meanings} onSigned={onSigned} />;
}

/**
 * Signing re-authenticates (21 CFR 11.200): the signer types their password again. The password lives
 * only in this form's state while it is typed and is cleared the moment the request is sent.
 */
function SignForm({
  view,
  meanings,
  onSigned,
}: {
  readonly view: ReleaseViewBody;
  /** The meanings the protocol still asks of this user's role. */
  readonly meanings: readonly SignatureMeaning[];
  readonly onSigned: () => void;
}) {
  const ids = useId();
  const [meaning, setMeaning] = useState(meanings[0] ?? 'reviewed');
  const [password, setPassword] = useState('');
  const [state, setState] = useState<{ readonly kind: 'idle' | 'sending' | 'signed' } | { readonly kind: 'failed'; readonly error: unknown }>({ kind: 'idle' });

  const sign = (event: FormEvent) => {
    event.preventDefault();
    const body = { meaning, password };
    setPassword('');
    setState({ kind: 'sending' });
    api.signRelease(view.request.requestId, body).then(
      () => {
        setState({ kind: 'signed' });
        onSigned();
      },
      (error: unknown) => setState({ kind: 'failed', error }),
    );
  };

  return (
    <form onSubmit={sign} className="sign-form" aria-labelledby={`${ids}-heading`}>
      <h3 id={`${ids}-heading`}>Sign</h3>
      <div className="field">
        <label htmlFor={`${ids}-meaning`}>Meaning of your signature</label>
        <select id={`${ids}-meaning`} value={meaning} onChange={(e) => setMeaning(e.target.value as typeof meaning)}>
          {meanings.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-password`}>Your password, again</label>
        <input
          id={`${ids}-password`}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          aria-describedby={`${ids}-password-hint`}
        />
        <p id={`${ids}-password-hint`} className="hint">
          Your signature is recorded with your name, role, this meaning and the time, and is linked to this request.
        </p>
      </div>
      <button type="submit" className="button-primary" disabled={state.kind === 'sending' || password === ''}>
        Sign as {meaning}
      </button>
      <div aria-live="polite">
        {state.kind === 'failed' ? <ErrorMessage error={state.error} what="the signature" failed="Not signed" coded /> : null}
        {state.kind === 'signed' ? (
          <p className="notice notice-ok" role="status">
            Signed.
          </p>
        ) : null}
      </div>
    </form>
  );
}
