import { ApiError } from '../api/client.js';

/**
 * A failed request in words: what happened and what to do. A 403 says the role may not see this,
 * unless `coded`: a refused action (a signature, a pause) shows the server's own reason and its
 * catalogue code (docs/errors.md), which say why better than a generic line would.
 */
export function ErrorMessage({
  error,
  what,
  failed,
  coded = false,
}: {
  readonly error: unknown;
  readonly what: string;
  readonly failed?: string;
  readonly coded?: boolean;
}) {
  if (error instanceof DOMException && error.name === 'AbortError') return null;
  // `failed`: the heading for a change that was refused, rather than a read that failed.
  let title = failed ?? `Could not load ${what}`;
  let detail: string;
  if (error instanceof ApiError) {
    if (coded) {
      detail = error.message;
    } else if (error.status === 403) {
      title = 'Not available to your role';
      detail = `Your role may not see ${what}. Ask an administrator if your work needs it.`;
    } else if (error.status === 404) {
      title = `Not found: ${what}`;
      detail = error.message;
    } else {
      detail = error.message;
    }
  } else {
    detail = error instanceof Error ? error.message : String(error);
  }
  const requestId = error instanceof ApiError ? error.requestId : undefined;
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">{title}</p>
      <p>{detail}</p>
      {coded && error instanceof ApiError ? (
        <p className="small">
          Code <code>{error.code}</code>
        </p>
      ) : null}
      {requestId === undefined ? null : (
        <p className="muted small">
          Request id <code>{requestId}</code> (the server&apos;s log names it).
        </p>
      )}
    </div>
  );
}
