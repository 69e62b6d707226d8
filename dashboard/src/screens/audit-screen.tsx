import { useEffect, useId, useState, type FormEvent } from 'react';
import { api } from '../api/client.js';
import type { AuditEntriesPageBody as AuditEntriesPage, AuditQuery, AuditVerificationBody as AuditVerification } from '../api/types.js';
import type { AuditEntryBody } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { formatDateTime } from '../format.js';
import { useResource } from '../use-resource.js';

/** Event types of the log (src/domain/audit/audit-event.ts); the search field takes any other too. */
const KNOWN_TYPES = [
  'decision',
  'review_recorded',
  'case_read',
  'case_superseded',
  'result_delivered',
  'session_started',
  'session_ended',
  'login_failed',
  'password_changed',
  'user_created',
  'user_updated',
  'token_issued',
  'token_revoked',
  'token_rotated',
  'job_retried',
  'model_loaded',
  'config_loaded',
  'error',
  'criteria_registered',
  'evaluation_started',
  'evaluation_completed',
];
const PAGE = 50;

/** `datetime-local` gives local wall time without a zone; the API takes ISO 8601 instants. */
function toInstant(local: string): string | undefined {
  if (local === '') return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function AuditScreen() {
  const ids = useId();
  const [form, setForm] = useState({ type: '', since: '', until: '' });
  const [query, setQuery] = useState<AuditQuery>({ limit: PAGE });
  const [page, setPage] = useState<AuditEntriesPage | undefined>(undefined);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<unknown>(undefined);
  const [selected, setSelected] = useState<string | undefined>(undefined);

  const run = (q: AuditQuery, append: boolean) => {
    setSearching(true);
    setSearchError(undefined);
    api.auditEntries(q).then(
      (result) => {
        setPage((previous) => (append && previous !== undefined ? { entries: [...previous.entries, ...result.entries], ...pick(result) } : result));
        setSearching(false);
      },
      (error: unknown) => {
        setSearchError(error);
        setSearching(false);
      },
    );
  };

  // The newest entries, before any search.
  useEffect(() => run({ limit: PAGE }, false), []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const since = toInstant(form.since);
    const until = toInstant(form.until);
    const q: AuditQuery = {
      limit: PAGE,
      ...(form.type.trim() === '' ? {} : { type: form.type.trim() }),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    };
    setQuery(q);
    setSelected(undefined);
    run(q, false);
  };

  const nextCursor = page?.next;
  return (
    <>
      <div className="page-head">
        <h1>Audit</h1>
        <p className="muted">An append-only Merkle log: every decision, read, review and sign-in, each with a signed tree head.</p>
      </div>
      <Verification />
      <section className="panel" aria-labelledby={`${ids}-search`}>
        <h2 id={`${ids}-search`}>Search the log</h2>
        <form className="search-form" onSubmit={submit}>
          <div className="field">
            <label htmlFor={`${ids}-type`}>Event type</label>
            <input
              id={`${ids}-type`}
              list={`${ids}-types`}
              value={form.type}
              onChange={(e) => setForm((f) => ({ ...f, type: e.target.value }))}
              placeholder="any"
            />
            <datalist id={`${ids}-types`}>
              {KNOWN_TYPES.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor={`${ids}-since`}>From</label>
            <input id={`${ids}-since`} type="datetime-local" value={form.since} onChange={(e) => setForm((f) => ({ ...f, since: e.target.value }))} />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-until`}>Until</label>
            <input id={`${ids}-until`} type="datetime-local" value={form.until} onChange={(e) => setForm((f) => ({ ...f, until: e.target.value }))} />
          </div>
          <button type="submit" className="button-primary" disabled={searching}>
            {searching ? 'Searching…' : 'Search'}
          </button>
        </form>
        {searchError === undefined ? null : <ErrorMessage error={searchError} what="audit entries" />}
        <div aria-live="polite" className="muted small">
          {page === undefined
            ? 'Newest entries first.'
            : `${page.entries.length} entr${page.entries.length === 1 ? 'y' : 'ies'} shown${page.next === undefined ? '' : ', more available'}.`}
        </div>
        {page === undefined || page.entries.length === 0 ? null : (
          <table className="table audit-table">
            <caption className="visually-hidden">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Entry</th>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Details</th>
                <th scope="col">
                  <span className="visually-hidden">Proof</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {page.entries.map((entry) => (
                <tr key={entry.auditId} className={entry.auditId === selected ? 'selected' : undefined}>
                  <td>
                    <code>{entry.auditId}</code>
                  </td>
                  <td>{formatDateTime(entry.time)}</td>
                  <td>{String(entry.event.type)}</td>
                  <td className="details">{summarise(entry)}</td>
                  <td>
                    <button
                      type="button"
                      className="button-quiet"
                      aria-pressed={entry.auditId === selected}
                      onClick={() => setSelected(entry.auditId === selected ? undefined : entry.auditId)}
                    >
                      Proof<span className="visually-hidden"> of {entry.auditId}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {nextCursor === undefined ? null : (
          <button type="button" className="button-quiet" disabled={searching} onClick={() => run({ ...query, before: nextCursor }, true)}>
            Show {PAGE} older
          </button>
        )}
      </section>
      {selected === undefined ? null : <Proof key={selected} auditId={selected} />}
    </>
  );
}

function pick(page: AuditEntriesPage): { next?: string } {
  return page.next === undefined ? {} : { next: page.next };
}

/** The event's fields other than its type, compactly (entries hold no patient identifiers). */
function summarise(entry: AuditEntryBody): string {
  return Object.entries(entry.event)
    .filter(([key]) => key !== 'type')
    .map(([key, value]) => `${key}: ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`)
    .join(' · ');
}

function Verification() {
  const [state, setState] = useState<{ busy: boolean; result?: AuditVerification; error?: unknown }>({ busy: false });
  const verify = () => {
    setState({ busy: true });
    api.auditVerify().then(
      (result) => setState({ busy: false, result }),
      (error: unknown) => setState({ busy: false, error }),
    );
  };
  const result = state.result;
  return (
    <section className="panel verify" aria-labelledby="verify-heading">
      <h2 id="verify-heading">Verify the whole log</h2>
      <p className="muted">Recomputes every leaf hash and the Merkle tree, and checks each signed tree head.</p>
      <button type="button" className="button-primary" onClick={verify} disabled={state.busy}>
        {state.busy ? 'Verifying…' : 'Verify now'}
      </button>
      <div aria-live="polite">
        {result === undefined ? null : result.ok ? (
          <p className="result result-pass" role="status">
            <strong>Pass.</strong> {result.treeSize} entries and {result.checkedTreeHeads} signed tree heads check out. Root hash{' '}
            <code>{result.rootHash.slice(0, 16)}…</code>
          </p>
        ) : (
          <p className="result result-fail" role="alert">
            <strong>Fail.</strong> The log does not verify from entry <code>{result.firstBadAuditId}</code> (index {result.firstBadIndex} of {result.treeSize}):{' '}
            {result.reason}. Treat the log as tampered with from that entry on.
          </p>
        )}
        {state.error === undefined ? null : <ErrorMessage error={state.error} what="the verification" />}
      </div>
    </section>
  );
}

function Proof({ auditId }: { readonly auditId: string }) {
  const state = useResource(`proof:${auditId}`, (signal) => api.auditProof(auditId, signal));
  const proof = state.data;
  return (
    <section className="panel" aria-labelledby="proof-heading" aria-busy={proof === undefined && state.error === undefined}>
      <h2 id="proof-heading">
        Inclusion proof of <code>{auditId}</code>
      </h2>
      {state.error === undefined ? null : <ErrorMessage error={state.error} what="the proof" />}
      {proof === undefined ? null : (
        <>
          <p className={`result ${proof.verified ? 'result-pass' : 'result-fail'}`} role="status">
            <strong>{proof.verified ? 'Verified.' : 'Does not verify.'}</strong> Leaf {proof.leafIndex} of a tree of {proof.treeSize}, against the tree head
            signed at {formatDateTime(proof.treeHead.time)}.
          </p>
          <dl className="facts mono">
            <dt>Leaf hash</dt>
            <dd>{proof.leafHash}</dd>
            <dt>Root hash</dt>
            <dd>{proof.rootHash}</dd>
            <dt>Audit path</dt>
            <dd>
              <ol className="hash-list">
                {proof.auditPath.map((h, i) => (
                  <li key={i}>{h}</li>
                ))}
              </ol>
            </dd>
            <dt>Signature</dt>
            <dd>{proof.treeHead.signature}</dd>
            <dt>Public key</dt>
            <dd>{proof.treeHead.publicKey}</dd>
          </dl>
        </>
      )}
    </section>
  );
}
