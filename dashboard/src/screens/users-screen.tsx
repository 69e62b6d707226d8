import { useId, useState, type FormEvent } from 'react';
import { ROLES, type Role } from '../../../src/domain/access/roles.js';
import { api } from '../api/client.js';
import type { TokenBody, UserBody } from '../api/types.js';
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
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const { data, error } = useResource(`users:${created}`, (signal) => api.users(signal));
  const selectedUser = data?.users.find((u) => u.userId === selected);
  return (
    <>
      <div className="page-head">
        <h1>Users</h1>
        <p className="muted">
          One role per account, each with only the permissions its work needs. Every change to an account or a token is recorded in the audit log.
        </p>
      </div>
      <div className="columns users-columns">
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
                  <th scope="col">
                    <span className="visually-hidden">Manage</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.users.map((u) => (
                  <tr key={u.userId} className={u.userId === selected ? 'selected' : undefined}>
                    <td>
                      {u.name}
                      {u.disabled ? <span className="muted"> (disabled)</span> : null}
                    </td>
                    <td>
                      <span className="role">{u.role}</span>
                    </td>
                    <td>{formatDateTime(u.createdAt)}</td>
                    <td>
                      <button type="button" className="button-quiet" aria-pressed={u.userId === selected} onClick={() => setSelected(u.userId)}>
                        Tokens<span className="visually-hidden"> of {u.name}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        {selectedUser === undefined ? (
          <NewUser onCreated={() => setCreated((n) => n + 1)} />
        ) : (
          <AccountPanel key={selectedUser.userId} user={selectedUser} onChanged={() => setCreated((n) => n + 1)} onClose={() => setSelected(undefined)} />
        )}
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

type Shown =
  | { readonly kind: 'none' }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'secret'; readonly title: string; readonly token: string };

function tokenState(t: TokenBody): string {
  if (t.state === 'revoked') return `revoked ${formatDateTime(t.revokedAt ?? '')}`;
  if (t.state === 'expired') return `expired ${formatDateTime(t.expiresAt ?? '')}`;
  return t.expiresAt === null ? 'live' : `live until ${formatDateTime(t.expiresAt)}`;
}

/**
 * One account: its role and state, and its API tokens (never their secrets: a new one is shown once,
 * here, when issued or rotated). Disabling ends the account's sessions and stops its tokens at once;
 * the server refuses to disable or demote the last enabled administrator.
 */
function AccountPanel({ user, onChanged, onClose }: { readonly user: UserBody; readonly onChanged: () => void; readonly onClose: () => void }) {
  const ids = useId();
  const [version, setVersion] = useState(0);
  const { data, error } = useResource(`tokens:${user.userId}:${version}`, (signal) => api.userTokens(user.userId, signal));
  const [role, setRole] = useState<Role>(user.role);
  const [label, setLabel] = useState('');
  const [days, setDays] = useState('');
  const [overlap, setOverlap] = useState('0');
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState<Shown>({ kind: 'none' });

  // A token change reloads the token list; an account change reloads the accounts (and this panel with them).
  const act = <T,>(work: () => Promise<T>, then: (result: T) => Shown, accountChanged = false) => {
    setBusy(true);
    work().then(
      (result) => {
        setShown(then(result));
        setBusy(false);
        setVersion((n) => n + 1);
        if (accountChanged) onChanged();
      },
      (failure: unknown) => {
        setShown({ kind: 'failed', error: failure });
        setBusy(false);
      },
    );
  };
  const issue = (event: FormEvent) => {
    event.preventDefault();
    const expiresInDays = days === '' ? undefined : Number(days);
    act(
      () => api.issueToken(user.userId, { label: label.trim(), ...(expiresInDays === undefined ? {} : { expiresInDays }) }),
      (r) => {
        setLabel('');
        return { kind: 'secret', title: `New token for “${user.name}”`, token: r.token };
      },
    );
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-heading`}>
      <div className="panel-head">
        <h2 id={`${ids}-heading`}>“{user.name}”</h2>
        <button type="button" className="button-quiet" onClick={onClose}>
          New account
        </button>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-role`}>Role</label>
        <select id={`${ids}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <p className="hint">{ROLE_PURPOSE[role]}</p>
      </div>
      <p className="actions">
        <button
          type="button"
          className="button-quiet"
          disabled={busy || role === user.role}
          onClick={() =>
            act(
              () => api.updateUser(user.userId, { role }),
              () => ({ kind: 'none' }),
              true,
            )
          }
        >
          Change role
        </button>{' '}
        <button
          type="button"
          className="button-quiet"
          disabled={busy}
          onClick={() =>
            act(
              () => api.updateUser(user.userId, { disabled: !user.disabled }),
              () => ({ kind: 'none' }),
              true,
            )
          }
        >
          {user.disabled ? 'Enable account' : 'Disable account'}
        </button>
      </p>
      <p className="hint">
        {user.disabled
          ? 'Disabled: its sessions ended and its tokens do not work until it is enabled.'
          : 'Disabling ends its sessions and stops its tokens at once.'}
      </p>

      <h3>API tokens</h3>
      {error === undefined ? null : <ErrorMessage error={error} what="the tokens" />}
      {data === undefined ? null : data.tokens.length === 0 ? (
        <p className="muted">No tokens.</p>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <caption className="visually-hidden">API tokens of {user.name}</caption>
            <thead>
              <tr>
                <th scope="col">Label (created)</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.tokens.map((t) => (
                <tr key={t.tokenId}>
                  <td>
                    {t.label}
                    <span className="muted small token-created">created {formatDateTime(t.createdAt)}</span>
                  </td>
                  <td>{t.lastUsedAt === null ? 'never' : formatDateTime(t.lastUsedAt)}</td>
                  <td>{tokenState(t)}</td>
                  <td>
                    {t.state === 'live' ? (
                      <div className="token-actions">
                        <button
                          type="button"
                          className="button-quiet"
                          disabled={busy}
                          onClick={() =>
                            act(
                              () => api.rotateToken(user.userId, t.tokenId, Number(overlap)),
                              (r) => ({
                                kind: 'secret',
                                title: `“${t.label}” rotated; the old token ends ${formatDateTime(r.previousEndsAt)}`,
                                token: r.token,
                              }),
                            )
                          }
                        >
                          Rotate<span className="visually-hidden"> {t.label}</span>
                        </button>{' '}
                        <button
                          type="button"
                          className="button-quiet"
                          disabled={busy}
                          onClick={() =>
                            act(
                              () => api.revokeToken(user.userId, t.tokenId),
                              () => ({ kind: 'none' }),
                            )
                          }
                        >
                          Revoke<span className="visually-hidden"> {t.label}</span>
                        </button>
                      </div>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${ids}-overlap`}>When rotating, the old token keeps working for</label>
        <select id={`${ids}-overlap`} value={overlap} onChange={(e) => setOverlap(e.target.value)}>
          <option value="0">no time: it stops at once</option>
          <option value="300">5 minutes</option>
          <option value="3600">1 hour</option>
        </select>
      </div>
      <form onSubmit={issue}>
        <div className="field">
          <label htmlFor={`${ids}-label`}>New token’s label</label>
          <input id={`${ids}-label`} value={label} onChange={(e) => setLabel(e.target.value)} maxLength={64} required autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-days`}>Expires after (days, optional)</label>
          <input id={`${ids}-days`} type="number" min={1} max={366} value={days} onChange={(e) => setDays(e.target.value)} />
        </div>
        <button type="submit" className="button-primary" disabled={busy || label.trim() === ''}>
          Issue token
        </button>
      </form>
      <div aria-live="polite">
        {shown.kind === 'failed' ? <ErrorMessage error={shown.error} what="the change" failed="The change was not made" /> : null}
        {shown.kind === 'secret' ? (
          <div className="notice notice-ok" role="status">
            <p className="notice-title">{shown.title}</p>
            <p>The new token, shown this once (only its hash is kept):</p>
            <p>
              <code className="token">{shown.token}</code>
            </p>
          </div>
        ) : null}
      </div>
    </section>
  );
}
