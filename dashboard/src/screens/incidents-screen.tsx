import { useId, useState, type FormEvent } from 'react';
import { hasPermission, type Role } from '../../../src/domain/access/roles.js';
import { api } from '../api/client.js';
import type { IncidentActionBodies, IncidentActionName, IncidentBody, IncidentDetailBody } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { formatDateTime } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useResource } from '../use-resource.js';
import { AlertCard, INCIDENT_STATE_LABELS, SEVERITY_LABELS } from './monitoring-screen.js';
import { VersionLink } from './releases-screen.js';

const STATES = ['open', 'acknowledged', 'resolved'] as const;
type StateFilter = (typeof STATES)[number] | 'all';

function isStateFilter(value: string | null): value is StateFilter {
  return value === 'all' || (STATES as readonly string[]).includes(value ?? '');
}

function StateTag({ state }: { readonly state: IncidentBody['state'] }) {
  return (
    <span className={state === 'resolved' ? 'verdict verdict-pass' : state === 'open' ? 'verdict verdict-reject' : 'verdict verdict-warn'}>
      {INCIDENT_STATE_LABELS[state]}
    </span>
  );
}

/** Incidents (GET /api/incidents): what monitoring opened and who is on it. */
export function IncidentsScreen() {
  const { search } = useLocation();
  const asked = search.get('state');
  const state: StateFilter = isStateFilter(asked) ? asked : 'all';
  const { data, error } = useResource(
    `incidents:${state}`,
    (signal) => api.incidents(state === 'all' ? { limit: 200 } : { state, limit: 200 }, signal),
    15_000,
  );
  return (
    <>
      <div className="page-head">
        <h1>Incidents</h1>
        <p className="muted">
          A deployment&apos;s alarms open one incident, and join it until it is resolved. Acknowledge, annotate, pause the site or roll it back, and resolve
          with a postmortem: every step is in the audit log. <Link to="/monitoring">Monitoring</Link> shows the signals.
        </p>
      </div>
      <div className="segmented" role="group" aria-label="Show">
        {(['all', ...STATES] as const).map((s) => (
          <button
            key={s}
            type="button"
            aria-pressed={s === state}
            onClick={() => navigate(s === 'all' ? '/incidents' : `/incidents?state=${s}`, { replace: true })}
          >
            {s === 'all' ? 'All' : INCIDENT_STATE_LABELS[s]}
          </button>
        ))}
      </div>
      <section className="panel" aria-labelledby="incidents-heading">
        <h2 id="incidents-heading" className="visually-hidden">
          Incidents
        </h2>
        {error === undefined ? null : <ErrorMessage error={error} what="the incidents" />}
        {data === undefined ? (
          error === undefined ? (
            <p className="muted">Loading the incidents…</p>
          ) : null
        ) : data.incidents.length === 0 ? (
          <p className="muted">None{state === 'all' ? '' : ` ${INCIDENT_STATE_LABELS[state].toLowerCase()}`}.</p>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <caption className="visually-hidden">Incidents, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Incident</th>
                  <th scope="col">State</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Site</th>
                  <th scope="col">Version</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Opened</th>
                  <th scope="col">Alerts</th>
                </tr>
              </thead>
              <tbody>
                {data.incidents.map((i) => (
                  <tr key={i.incidentId}>
                    <td>
                      <Link to={`/incidents/${encodeURIComponent(i.incidentId)}`}>{i.title}</Link>
                      <br />
                      <code className="small">{i.incidentId}</code>
                    </td>
                    <td>
                      <StateTag state={i.state} />
                    </td>
                    <td>{i.severity}</td>
                    <td>
                      <code>{i.site}</code>
                    </td>
                    <td>
                      <VersionLink versionId={i.versionId} />
                    </td>
                    <td>{i.owner === null ? <span className="muted">nobody</span> : (i.ownerName ?? i.owner)}</td>
                    <td>{formatDateTime(i.openedAt)}</td>
                    <td className="numeric">{i.alertCount}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

const TIMELINE_LABELS: Readonly<Record<string, string>> = {
  opened: 'Opened',
  alert: 'Alert',
  acknowledge: 'Acknowledged',
  assign: 'Assigned',
  note: 'Note',
  pause: 'Site paused',
  rollback: 'Rolled back',
  resolve: 'Resolved',
};

/** One incident: its facts, the actions the role may take, its timeline, and its alerts with example cases. */
export function IncidentScreen({ incidentId, role }: { readonly incidentId: string; readonly role: Role }) {
  const { data, error, reload } = useResource(`incident:${incidentId}`, (signal) => api.incident(incidentId, signal));
  if (error !== undefined && data === undefined) return <ErrorMessage error={error} what={`the incident ${incidentId}`} />;
  if (data === undefined) return <p className="muted">Loading the incident…</p>;
  const i = data.incident;
  return (
    <>
      <div className="page-head">
        <p className="small">
          <Link to="/incidents">Incidents</Link> · <Link to={`/monitoring/${encodeURIComponent(i.site)}`}>Monitoring of site {i.site}</Link>
        </p>
        <h1>Incident: {i.title}</h1>
        <p className="muted">
          <StateTag state={i.state} /> {SEVERITY_LABELS[i.severity]} · site <code>{i.site}</code> · version <VersionLink versionId={i.versionId} /> · opened{' '}
          {formatDateTime(i.openedAt)} · <code className="small">{i.incidentId}</code>
        </p>
      </div>
      <div className="columns">
        <section className="panel" aria-labelledby="facts-heading">
          <h2 id="facts-heading">Summary</h2>
          <dl className="facts">
            <dt>State</dt>
            <dd>{INCIDENT_STATE_LABELS[i.state]}</dd>
            <dt>Severity</dt>
            <dd>{SEVERITY_LABELS[i.severity]}</dd>
            <dt>Owner</dt>
            <dd>{i.owner === null ? <span className="muted">nobody yet (acknowledging takes it)</span> : (i.ownerName ?? i.owner)}</dd>
            <dt>Alerts</dt>
            <dd>{i.alertCount}</dd>
            <dt>Updated</dt>
            <dd>{formatDateTime(i.updatedAt)}</dd>
            {i.resolvedAt === null ? null : (
              <div className="fact-group">
                <dt>Resolved</dt>
                <dd>{formatDateTime(i.resolvedAt)}</dd>
              </div>
            )}
          </dl>
          {i.postmortem === null ? null : (
            <>
              <h3>Postmortem</h3>
              <p className="prose preserve">{i.postmortem}</p>
            </>
          )}
        </section>
        {hasPermission(role, 'incidents:manage') ? <IncidentActions detail={data} role={role} onChanged={reload} /> : null}
      </div>
      <section className="panel" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <ol className="timeline">
          {i.timeline.map((t, n) => (
            <li key={`${t.at}:${n}`}>
              <span className="timeline-kind">{TIMELINE_LABELS[t.kind] ?? t.kind}</span> <span className="muted small">{formatDateTime(t.at)}</span>
              {t.by === null ? null : <span className="small"> by {t.byName ?? t.by}</span>}
              {t.detector === null ? null : (
                <span className="small">
                  {' '}
                  · <code>{t.detector}</code>
                </span>
              )}
              {t.text === null ? null : <p className="preserve">{t.assigneeName ?? t.text}</p>}
            </li>
          ))}
        </ol>
      </section>
      <section className="panel" aria-labelledby="linked-heading">
        <h2 id="linked-heading">Linked alerts</h2>
        {data.alerts.length === 0 ? (
          <p className="muted">None listed.</p>
        ) : (
          <div className="alert-list">
            {data.alerts.map((a) => (
              <AlertCard key={a.alertId} alert={a} showIncident={false} />
            ))}
          </div>
        )}
      </section>
    </>
  );
}

type Pending =
  | { readonly kind: 'idle' }
  | { readonly kind: 'form'; readonly action: 'note' | 'pause' | 'rollback' | 'resolve' }
  | { readonly kind: 'confirm-rollback' }
  | { readonly kind: 'busy' };

const FORM_TEXT = {
  note: { label: 'Note', hint: 'Added to the timeline and the audit log. No patient identifiers.', submit: 'Add note', max: 2000 },
  pause: {
    label: 'Why pause the site?',
    hint: 'Every study at the site then goes to human review; the reason is shown with the pause.',
    submit: 'Pause site',
    max: 500,
  },
  rollback: { label: 'Why roll back?', hint: 'The previous production version judges the next study.', submit: 'Roll back…', max: 2000 },
  resolve: { label: 'Postmortem', hint: 'What happened, why, and what was done. Required to resolve.', submit: 'Resolve incident', max: 20000 },
} as const;

/** The actions on an incident the role may take; each asks for what it needs (a note, a reason, a postmortem, a confirmation). */
function IncidentActions({ detail, role, onChanged }: { readonly detail: IncidentDetailBody; readonly role: Role; readonly onChanged: () => void }) {
  const ids = useId();
  const i = detail.incident;
  const [pending, setPending] = useState<Pending>({ kind: 'idle' });
  const [text, setText] = useState('');
  const [failure, setFailure] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const canPause = hasPermission(role, 'deployments:pause');
  const canRollBack = hasPermission(role, 'deployments:rollback');

  const act = <A extends IncidentActionName>(action: A, body: IncidentActionBodies[A], message: string) => {
    setPending({ kind: 'busy' });
    setFailure(undefined);
    setDone(undefined);
    api.incidentAction(i.incidentId, action, body).then(
      () => {
        setPending({ kind: 'idle' });
        setText('');
        setDone(message);
        onChanged();
      },
      (error: unknown) => {
        setFailure(error);
        setPending({ kind: 'idle' });
      },
    );
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (pending.kind !== 'form') return;
    const value = text.trim();
    switch (pending.action) {
      case 'note':
        act('note', { text: value }, 'Note added.');
        break;
      case 'pause':
        act('pause', { reason: value }, `Site ${i.site} paused: every study goes to human review.`);
        break;
      case 'rollback':
        setPending({ kind: 'confirm-rollback' });
        break;
      case 'resolve':
        act('resolve', { postmortem: value }, 'Incident resolved.');
        break;
    }
  };
  const busy = pending.kind === 'busy';
  const open = (action: 'note' | 'pause' | 'rollback' | 'resolve') => {
    setText('');
    setDone(undefined);
    setPending({ kind: 'form', action });
  };
  const form = pending.kind === 'form' ? FORM_TEXT[pending.action] : undefined;

  return (
    <section className="panel" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Actions</h2>
      {i.state === 'resolved' ? (
        <p className="muted">Resolved: nothing more to do here. A new alarm on this deployment opens a new incident.</p>
      ) : (
        <div className="actions">
          {i.state === 'open' ? (
            <button
              type="button"
              className="button-primary"
              disabled={busy}
              onClick={() => act('acknowledge', {}, 'Acknowledged: the incident is yours if it had no owner.')}
            >
              Acknowledge
            </button>
          ) : null}
          <button type="button" className="button-quiet" disabled={busy} onClick={() => open('note')}>
            Add note
          </button>
          {canPause ? (
            <button type="button" className="button-quiet" disabled={busy} onClick={() => open('pause')}>
              Pause site
            </button>
          ) : null}
          {canRollBack ? (
            <button type="button" className="button-quiet" disabled={busy} onClick={() => open('rollback')}>
              Roll back
            </button>
          ) : null}
          <button type="button" className="button-quiet" disabled={busy} onClick={() => open('resolve')}>
            Resolve
          </button>
        </div>
      )}
      {form === undefined ? null : (
        <form onSubmit={submit} className="inline-form">
          <div className="field">
            <label htmlFor={`${ids}-text`}>{form.label}</label>
            {pending.kind === 'form' && (pending.action === 'note' || pending.action === 'resolve') ? (
              <textarea
                id={`${ids}-text`}
                value={text}
                onChange={(e) => setText(e.target.value)}
                maxLength={form.max}
                rows={pending.action === 'resolve' ? 6 : 3}
                required
                aria-describedby={`${ids}-hint`}
              />
            ) : (
              <input
                id={`${ids}-text`}
                value={text}
                onChange={(e) => setText(e.target.value)}
                maxLength={form.max}
                required
                autoComplete="off"
                aria-describedby={`${ids}-hint`}
              />
            )}
            <p id={`${ids}-hint`} className="hint">
              {form.hint}
            </p>
          </div>
          <div className="actions">
            <button type="submit" className="button-primary" disabled={text.trim() === ''}>
              {form.submit}
            </button>
            <button type="button" className="button-quiet" onClick={() => setPending({ kind: 'idle' })}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {pending.kind === 'confirm-rollback' ? (
        <div className="notice notice-warn" role="alertdialog" aria-labelledby={`${ids}-rollback`}>
          <p className="notice-title" id={`${ids}-rollback`}>
            Roll site {i.site} back to its previous production version?
          </p>
          <p>The version in production now stops judging at once; the request that put it there is retired. Reason: “{text.trim()}”</p>
          <div className="actions">
            <button type="button" className="button-primary" onClick={() => act('rollback', { reason: text.trim() }, `Site ${i.site} rolled back.`)}>
              Confirm roll back
            </button>
            <button type="button" className="button-quiet" onClick={() => setPending({ kind: 'idle' })}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <div aria-live="polite">
        {failure === undefined ? null : <ErrorMessage error={failure} what="the incident" failed="The action was not taken" coded />}
        {done === undefined ? null : (
          <p className="notice notice-ok" role="status">
            {done}
          </p>
        )}
      </div>
    </section>
  );
}
