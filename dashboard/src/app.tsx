import { lazy, Suspense, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { hasPermission, type Permission } from '../../src/domain/access/roles.js';
import { api, ApiError, setCsrfToken, setUnauthorizedHandler } from './api/client.js';
import type { Session } from './api/types.js';
import { ErrorMessage } from './components/error-message.js';
import { Link, navigate, useLocation } from './router.js';
import { AuditScreen } from './screens/audit-screen.js';
import { CaseScreen } from './screens/case-screen.js';
import { LoginScreen } from './screens/login-screen.js';
import { StudiesScreen } from './screens/studies-screen.js';
import { WorklistScreen } from './screens/worklist-screen.js';

// The chart library and the Markdown renderer load only with the screens that use them.
const UsersScreen = lazy(() => import('./screens/users-screen.js').then((m) => ({ default: m.UsersScreen })));
const HealthScreen = lazy(() => import('./screens/health-screen.js').then((m) => ({ default: m.HealthScreen })));
const ModelScreen = lazy(() => import('./screens/model-screen.js').then((m) => ({ default: m.ModelScreen })));
const ModelVersionScreen = lazy(() => import('./screens/model-version-screen.js').then((m) => ({ default: m.ModelVersionScreen })));
const ReleasesScreen = lazy(() => import('./screens/releases-screen.js').then((m) => ({ default: m.ReleasesScreen })));
const ReleaseScreen = lazy(() => import('./screens/releases-screen.js').then((m) => ({ default: m.ReleaseScreen })));
const MonitoringScreen = lazy(() => import('./screens/monitoring-screen.js').then((m) => ({ default: m.MonitoringScreen })));
const DeploymentMonitoringScreen = lazy(() => import('./screens/monitoring-screen.js').then((m) => ({ default: m.DeploymentMonitoringScreen })));
const IncidentsScreen = lazy(() => import('./screens/incidents-screen.js').then((m) => ({ default: m.IncidentsScreen })));
const IncidentScreen = lazy(() => import('./screens/incidents-screen.js').then((m) => ({ default: m.IncidentScreen })));

interface Section {
  readonly path: string;
  readonly label: string;
  /** The permission the section's API route needs: the menu shows only what the role may use. */
  readonly permission: Permission;
}

const SECTIONS: readonly Section[] = [
  { path: '/worklist', label: 'Worklist', permission: 'worklist:read' },
  { path: '/studies', label: 'Studies', permission: 'studies:read' },
  { path: '/model', label: 'Model', permission: 'models:read' },
  { path: '/releases', label: 'Deployments & releases', permission: 'releases:read' },
  { path: '/monitoring', label: 'Monitoring', permission: 'monitoring:read' },
  { path: '/incidents', label: 'Incidents', permission: 'monitoring:read' },
  { path: '/audit', label: 'Audit', permission: 'audit:read' },
  { path: '/health', label: 'Health', permission: 'system:read' },
  { path: '/users', label: 'Users', permission: 'users:manage' },
];

type SessionState = { readonly status: 'checking' } | { readonly status: 'anonymous' } | { readonly status: 'signed-in'; readonly session: Session };

export function App() {
  const [state, setState] = useState<SessionState>({ status: 'checking' });
  const [checkError, setCheckError] = useState<unknown>(undefined);

  const signIn = useCallback((session: Session) => {
    setCsrfToken(session.csrfToken);
    setState({ status: 'signed-in', session });
  }, []);
  const signOut = useCallback(() => {
    setCsrfToken(undefined);
    setState({ status: 'anonymous' });
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(signOut);
    api.currentSession().then(signIn, (error: unknown) => {
      if (!(error instanceof ApiError && error.status === 401)) setCheckError(error);
      signOut();
    });
    return () => setUnauthorizedHandler(undefined);
  }, [signIn, signOut]);

  if (state.status === 'checking') return <main className="centered" aria-busy="true" />;
  if (state.status === 'anonymous') {
    return (
      <>
        {checkError === undefined ? null : (
          <div className="page">
            <ErrorMessage error={checkError} what="the session" />
          </div>
        )}
        <LoginScreen onSignedIn={signIn} />
      </>
    );
  }
  return <Shell session={state.session} onSignedOut={signOut} />;
}

function Shell({ session, onSignedOut }: { readonly session: Session; readonly onSignedOut: () => void }) {
  const { path } = useLocation();
  const allowed = SECTIONS.filter((s) => hasPermission(session.user.role, s.permission));
  const home = allowed[0]?.path ?? '/';

  useEffect(() => {
    if (path === '/' || path === '/login') navigate(home, { replace: true });
  }, [path, home]);

  // After a move to another screen, focus goes to its content, so that a screen reader starts there
  // and the keyboard does not stay on a link of the screen that has gone.
  const firstPath = useRef(path);
  useEffect(() => {
    if (path !== firstPath.current) document.getElementById('content')?.focus({ preventScroll: true });
    firstPath.current = '';
  }, [path]);

  const logOut = () => {
    api.logOut().then(onSignedOut, onSignedOut);
  };

  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand" aria-label="Vigil">
          <span className="brand-mark" aria-hidden="true" />
          Vigil
        </span>
        <nav aria-label="Main">
          <ul className="nav">
            {allowed.map((s) => (
              <li key={s.path}>
                <Link to={s.path} aria-current={path.startsWith(s.path) ? 'page' : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="user">
          <span>
            {session.user.name} <span className="role">{session.user.role}</span>
          </span>
          <button type="button" className="button-quiet" onClick={logOut}>
            Log out
          </button>
        </div>
      </header>
      <main id="content" tabIndex={-1} className="page">
        <Suspense fallback={<p className="muted">Loading…</p>}>{route(path, session, allowed)}</Suspense>
      </main>
    </>
  );
}

function route(path: string, session: Session, allowed: readonly Section[]): ReactNode {
  const review = /^\/review\/(.+)$/.exec(path);
  if (review?.[1] !== undefined) return <CaseScreen key={review[1]} mode={{ kind: 'review', itemId: decodeURIComponent(review[1]) }} />;
  const caseMatch = /^\/cases\/(.+)$/.exec(path);
  if (caseMatch?.[1] !== undefined) return <CaseScreen key={caseMatch[1]} mode={{ kind: 'view', caseId: decodeURIComponent(caseMatch[1]) }} />;
  const release = /^\/releases\/(.+)$/.exec(path);
  if (release?.[1] !== undefined)
    return <ReleaseScreen key={release[1]} requestId={decodeURIComponent(release[1])} role={session.user.role} userId={session.user.userId} />;
  const monitored = /^\/monitoring\/(.+)$/.exec(path);
  if (monitored?.[1] !== undefined) return <DeploymentMonitoringScreen key={monitored[1]} site={decodeURIComponent(monitored[1])} />;
  const incident = /^\/incidents\/(.+)$/.exec(path);
  if (incident?.[1] !== undefined) return <IncidentScreen key={incident[1]} incidentId={decodeURIComponent(incident[1])} role={session.user.role} />;
  const version = /^\/model\/versions\/(.+)$/.exec(path);
  if (version?.[1] !== undefined) return <ModelVersionScreen key={version[1]} versionId={decodeURIComponent(version[1])} />;
  switch (path) {
    case '/worklist':
      return <WorklistScreen />;
    case '/studies':
      return <StudiesScreen />;
    case '/model':
      return <ModelScreen />;
    case '/releases':
      return <ReleasesScreen role={session.user.role} />;
    case '/monitoring':
      return <MonitoringScreen />;
    case '/incidents':
      return <IncidentsScreen />;
    case '/audit':
      return <AuditScreen />;
    case '/users':
      return <UsersScreen />;
    case '/health':
      return <HealthScreen canRetry={hasPermission(session.user.role, 'jobs:manage')} />;
    case '/':
    case '/login':
      return allowed.length === 0 ? <NothingToShow role={session.user.role} /> : null;
    default:
      return (
        <div className="notice" role="status">
          <p className="notice-title">No such page</p>
          <p>
            <Link to={allowed[0]?.path ?? '/'}>Go to the start page</Link>
          </p>
        </div>
      );
  }
}

function NothingToShow({ role }: { readonly role: string }) {
  return (
    <div className="notice" role="status">
      <p className="notice-title">Nothing here for the role {role}</p>
      <p>
        This role works through the API (sending studies, fetching results) rather than the dashboard. See <code>docs/api.md</code>.
      </p>
    </div>
  );
}
