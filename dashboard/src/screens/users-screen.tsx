import { useId, useState, type FormEvent } from 'react';
import { ROLES, type Role } from '../../../src/domain/access/roles.js';
import { api } from '../api/client.js';
import { ErrorMessage } from '../components/error-message.js';
import { formatDateTime } from '../format.js';
import { useResource } from '../use-resource.js';

/** What each role is for, in the words an administrator chooses by (README, "Access"). */
const ROLE_PURPOSE: Readonly<Record<Role, string>> = {
  admin: 'accounts, system health, models',
  'ml-engineer': 'models, studies, cases, reviews, metrics',
  'clinician-reviewer': 'the worklist: reads cases and records reviews',
  'qa-regulatory': 'studies, reviews, metrics, the audit log',
  integration: 'a sender or result consumer (API token only)',
  auditor: 'the audit log, nothing else',
};

/**
 * Accounts (users:manage). A new account gets an API token, shown here once (only its hash is kept),
 * and optionally a password for the dashboard. There is no default password anywhere.
 */
export function UsersScreen() {
  const [created, setCreated] = useState(0);
  const { data, error } = useResource(`users:${created}`, (signal) => api.users(signal));
  return (
    <>
      <div className="page-head">
        <h1>Users</h1>
        <p className="muted">One role per account, each with only the permissions its work needs. Creating an account is recorded in the audit log.</p>
      </div>
      <div className="columns">
        <section className="panel" aria-labelledby="users-heading">
          <h2 id="users-heading">Accounts</h2>
          {error === undefined ? null : <ErrorMessage error={error} what="the accounts" />}
          {data === undefined ? (
            error === undefined ? (
              <p className="muted">Loading the accounts…</p>
            ) : null
          ) : (
            <table className="table">
              <caption className="visually-hidden">Accounts and their roles</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {data.users.map((u) => (
                  <tr key={u.userId}>
                    <td>
                      {u.name}
                      {u.disabled ? <span className="muted"> (disabled)</span> : null}
                    </td>
                    <td>
                      <span className="role">{u.role}</span>
                    </td>
                    <td>{formatDateTime(u.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <NewUser onCreated={() => setCreated((n) => n + 1)} />
      </div>
    </>
  );
}

function NewUser({ onCreated }: { readonly onCreated: () => void }) {
  const ids = useId();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('clinician-reviewer');
  const [password, setPassword] = useState('');
  const [state, setState] = useState<
    | { readonly kind: 'editing' | 'sending' }
    | { readonly kind: 'failed'; readonly error: unknown }
    | { readonly kind: 'created'; readonly name: string; readonly token: string }
  >({ kind: 'editing' });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setState({ kind: 'sending' });
    api.createUser({ name: name.trim(), role, ...(password === '' ? {} : { password }) }).then(
      (result) => {
        setState({ kind: 'created', name: result.user.name, token: result.token });
        setName('');
        setPassword('');
        onCreated();
      },
      (error: unknown) => setState({ kind: 'failed', error }),
    );
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>New account</h2>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${ids}-name`}>User name</label>
          <input
            id={`${ids}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoComplete="off"
            pattern="[A-Za-z0-9._@\-]+"
            maxLength={64}
            required
          />
          <p className="hint">Letters, digits, “.”, “_”, “@” or “-”; no patient or personal identifiers beyond the person’s own login.</p>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-role`}>Role</label>
          <select id={`${ids}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)} aria-describedby={`${ids}-role-hint`}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <p id={`${ids}-role-hint`} className="hint">
            {ROLE_PURPOSE[role]}
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-password`}>Password for the dashboard (optional)</label>
          <input
            id={`${ids}-password`}
            type="password"
            autoComplete="new-password"
            minLength={12}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={`${ids}-password-hint`}
          />
          <p id={`${ids}-password-hint`} className="hint">
            At least 12 characters. Without one, the account signs in with its API token.
          </p>
        </div>
        <button type="submit" className="button-primary" disabled={state.kind === 'sending' || name.trim() === ''}>
          Create account
        </button>
      </form>
      <div aria-live="polite">
        {state.kind === 'failed' ? <ErrorMessage error={state.error} what="the account" /> : null}
        {state.kind === 'created' ? (
          <div className="notice notice-ok" role="status">
            <p className="notice-title">Account “{state.name}” created</p>
            <p>Its API token, shown this once (only its hash is kept):</p>
            <p>
              <code className="token">{state.token}</code>
            </p>
          </div>
        ) : null}
      </div>
    </section>
  );
}
