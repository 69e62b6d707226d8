import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, ApiError, type Credentials } from '../api/client.js';
import type { Session } from '../api/types.js';

type Method = 'password' | 'token';

export function LoginScreen({ onSignedIn }: { readonly onSignedIn: (session: Session) => void }) {
  const [method, setMethod] = useState<Method>('password');
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [retryAt, setRetryAt] = useState<number | undefined>(undefined);
  const [now, setNow] = useState(() => Date.now());
  const ids = useId();

  // Counts the rate limit's wait down, so the button comes back by itself.
  useEffect(() => {
    if (retryAt === undefined) return;
    const timer = window.setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= retryAt) setRetryAt(undefined);
    }, 1000);
    return () => window.clearInterval(timer);
  }, [retryAt]);
  const waitSeconds = retryAt === undefined ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1000));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const credentials: Credentials = method === 'password' ? { userName: userName.trim(), password } : { token: token.trim() };
    setBusy(true);
    setMessage(undefined);
    api.logIn(credentials).then(
      (session) => {
        setPassword('');
        setToken('');
        onSignedIn(session);
      },
      (error: unknown) => {
        setBusy(false);
        if (error instanceof ApiError && error.status === 429) {
          const seconds = error.retryAfterSeconds ?? 60;
          setRetryAt(Date.now() + seconds * 1000);
          setNow(Date.now());
          setMessage('Too many attempts to log in. Wait before trying again.');
        } else if (error instanceof ApiError && error.status === 401) {
          setMessage(method === 'password' ? 'The user name or the password is not right.' : 'This token is not valid, or it has been revoked.');
        } else {
          setMessage(error instanceof Error ? error.message : 'Logging in failed.');
        }
      },
    );
  };

  const blocked = busy || waitSeconds > 0;
  return (
    <main className="login">
      <div className="login-card">
        <h1 className="login-title">
          <span className="brand-mark" aria-hidden="true" />
          Vigil
        </h1>
        <p className="muted">Medical-image AI in clinical use: review, results, audit.</p>
        <form onSubmit={submit} noValidate aria-describedby={message === undefined ? undefined : `${ids}-message`}>
          <fieldset className="segmented">
            <legend className="visually-hidden">Log in with</legend>
            <label>
              <input type="radio" name="method" value="password" checked={method === 'password'} onChange={() => setMethod('password')} />
              User name and password
            </label>
            <label>
              <input type="radio" name="method" value="token" checked={method === 'token'} onChange={() => setMethod('token')} />
              API token
            </label>
          </fieldset>
          {method === 'password' ? (
            <>
              <div className="field">
                <label htmlFor={`${ids}-user`}>User name</label>
                <input id={`${ids}-user`} name="username" autoComplete="username" value={userName} onChange={(e) => setUserName(e.target.value)} required />
              </div>
              <div className="field">
                <label htmlFor={`${ids}-password`}>Password</label>
                <input
                  id={`${ids}-password`}
                  name="password"
                  type="password"
                  autoComplete="current-password"
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                  required
                />
              </div>
            </>
          ) : (
            <div className="field">
              <label htmlFor={`${ids}-token`}>API token</label>
              <input
                id={`${ids}-token`}
                name="token"
                type="password"
                autoComplete="off"
                spellCheck={false}
                value={token}
                onChange={(e) => setToken(e.target.value)}
                aria-describedby={`${ids}-token-hint`}
                required
              />
              <p id={`${ids}-token-hint`} className="hint">
                On its first start, <code>vigil serve</code> prints the administrator&apos;s one-time token.
              </p>
            </div>
          )}
          <div aria-live="polite" id={`${ids}-message`}>
            {message === undefined ? null : (
              <p className="notice notice-error" role="alert">
                {message}
                {waitSeconds > 0 ? ` You can try again in ${waitSeconds} s.` : ''}
              </p>
            )}
          </div>
          <button type="submit" className="button-primary wide" disabled={blocked}>
            {busy ? 'Logging in…' : 'Log in'}
          </button>
        </form>
      </div>
    </main>
  );
}
