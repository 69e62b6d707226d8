import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import type { WorklistItemBody, WorklistReason } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { clearFlash, peekFlash } from '../flash.js';
import { formatAge, formatDateTime, isWorklistReason, REASON_LABELS, REASONS, shortKey } from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useResource } from '../use-resource.js';

/** New studies appear without a reload: the list is fetched again this often while the page is visible. */
const REFRESH_MS = 4_000;

export function reviewPath(item: WorklistItemBody, reason: WorklistReason | undefined): string {
  return `/review/${encodeURIComponent(item.itemId)}${reason === undefined ? '' : `?reason=${reason}`}`;
}

export function filterItems(items: readonly WorklistItemBody[], reason: WorklistReason | undefined): WorklistItemBody[] {
  // Oldest first: the item that has waited longest is read first.
  const open = items.filter((i) => i.state === 'open' && (reason === undefined || i.reasons.includes(reason)));
  return open.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.caseId.localeCompare(b.caseId) || a.resultIndex - b.resultIndex);
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

export function WorklistScreen() {
  const { search } = useLocation();
  const reasonParam = search.get('reason');
  const reason = isWorklistReason(reasonParam) ? reasonParam : undefined;
  const { data, error } = useResource('worklist', (signal) => api.worklist(signal), REFRESH_MS);
  const all = data?.items ?? [];
  const items = filterItems(all, reason);
  const [selected, setSelected] = useState(0);
  const [flash] = useState(peekFlash);
  useEffect(() => clearFlash(), []);
  const rows = useRef<(HTMLAnchorElement | null)[]>([]);
  const current = Math.min(selected, Math.max(0, items.length - 1));

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event.target) || event.altKey || event.ctrlKey || event.metaKey || items.length === 0) return;
      let next: number | undefined;
      if (event.key === 'j' || event.key === 'ArrowDown') next = Math.min(items.length - 1, current + 1);
      else if (event.key === 'k' || event.key === 'ArrowUp') next = Math.max(0, current - 1);
      else if (event.key === 'Enter' && !(event.target instanceof HTMLAnchorElement || event.target instanceof HTMLButtonElement)) {
        const item = items[current];
        if (item !== undefined) navigate(reviewPath(item, reason));
        return;
      }
      if (next === undefined) return;
      event.preventDefault();
      setSelected(next);
      rows.current[next]?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [items, current, reason]);

  const setReason = (value: WorklistReason | undefined) => {
    setSelected(0);
    navigate(value === undefined ? '/worklist' : `/worklist?reason=${value}`, { replace: true });
  };
  const count = (r: WorklistReason | undefined) => filterItems(all, r).length;

  return (
    <>
      <div aria-live="polite">{flash === undefined ? null : <p className="notice notice-ok">{flash}</p>}</div>
      <div className="page-head">
        <h1>Worklist</h1>
        <p className="muted" id="worklist-keys">
          <kbd>j</kbd>/<kbd>k</kbd> or <kbd>↓</kbd>/<kbd>↑</kbd> to move, <kbd>Enter</kbd> to open. Updates by itself.
        </p>
      </div>
      <fieldset className="segmented filter">
        <legend>Why the image is here</legend>
        {[undefined, ...REASONS].map((r) => (
          <label key={r ?? 'all'}>
            <input type="radio" name="reason" checked={reason === r} onChange={() => setReason(r)} />
            {r === undefined ? 'All' : REASON_LABELS[r]} <span className="count">{data === undefined ? '' : count(r)}</span>
          </label>
        ))}
      </fieldset>
      {error === undefined ? null : <ErrorMessage error={error} what="the worklist" />}
      {data === undefined && error === undefined ? <p className="muted">Loading the worklist…</p> : null}
      {data !== undefined && items.length === 0 ? (
        <div className="notice" role="status">
          <p className="notice-title">{reason === undefined ? 'Nothing to review' : `Nothing to review for “${REASON_LABELS[reason]}”`}</p>
          <p>
            Images the model referred, the gate rejected or warned about, and a random sample of confident decisions appear here as studies arrive. Studies are
            sent by DICOM C-STORE (<code>storescu -aec VIGIL host 11112 files…</code>) or STOW-RS.
          </p>
        </div>
      ) : null}
      {items.length === 0 ? null : (
        <table className="table worklist" aria-describedby="worklist-keys">
          <caption className="visually-hidden">Open review items, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Why</th>
              <th scope="col">Study</th>
              <th scope="col">Image</th>
              <th scope="col">Waiting since</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item, i) => (
              <tr key={item.itemId} className={i === current ? 'selected' : undefined} onClick={() => navigate(reviewPath(item, reason))}>
                <td>
                  <Link
                    to={reviewPath(item, reason)}
                    ref={(el) => {
                      rows.current[i] = el;
                    }}
                    onFocus={() => setSelected(i)}
                    aria-label={`Review item ${i + 1}: ${item.reasons.map((r) => REASON_LABELS[r]).join(', ')}`}
                  >
                    Review {i + 1}
                  </Link>
                </td>
                <td>
                  {item.reasons.map((r) => (
                    <span key={r} className={`tag tag-${r}`}>
                      {REASON_LABELS[r]}
                    </span>
                  ))}
                </td>
                <td>
                  <code title={item.studyKey}>{shortKey(item.studyKey)}</code>
                </td>
                <td>{item.resultIndex + 1}</td>
                <td>
                  <time dateTime={item.createdAt} title={formatDateTime(item.createdAt)}>
                    {formatAge(item.createdAt)}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
