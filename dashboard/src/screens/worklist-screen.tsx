import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { api, type WorklistQuery } from '../api/client.js';
import type { WorklistItemBody, WorklistPriority } from '../api/types.js';
import { ErrorMessage } from '../components/error-message.js';
import { clearFlash, peekFlash } from '../flash.js';
import {
  calibrationErrorOf,
  formatAge,
  formatDateTime,
  formatProbability,
  isWorklistPriority,
  isWorklistReason,
  PRIORITIES,
  PRIORITY_LABELS,
  probabilityPrecisionNote,
  REASON_LABELS,
  REASONS,
} from '../format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useResource } from '../use-resource.js';

/** New studies appear without a reload: the list is fetched again this often while the page is visible. */
const REFRESH_MS = 4_000;
/** Items per page: a reading session's worth; the server caps a page at 100. */
const PAGE_SIZE = 25;

/** The worklist's filters, as the page's URL holds them (so a filtered list can be bookmarked and survives a read). */
const FILTER_KEYS = ['priority', 'reason', 'modality', 'site', 'device', 'from', 'to'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];

/** The filters of a URL's query, without the page cursor. */
export function filterSearch(search: URLSearchParams): string {
  const kept = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = search.get(key);
    if (value !== null && value !== '') kept.set(key, value);
  }
  const text = kept.toString();
  return text === '' ? '' : `?${text}`;
}

/** A local calendar day (YYYY-MM-DD) as the instant it starts; `next` gives the start of the day after (so "to" includes its day). */
function dayStart(day: string | null, next = false): string | undefined {
  if (day === null || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return undefined;
  if (next) date.setDate(date.getDate() + 1);
  return date.toISOString();
}

/** The API query for the URL's filters (and cursor). */
export function worklistQueryOf(search: URLSearchParams, limit = PAGE_SIZE): WorklistQuery {
  const text = (key: FilterKey) => {
    const value = search.get(key)?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const priority = search.get('priority');
  const reason = search.get('reason');
  const from = dayStart(search.get('from'));
  const to = dayStart(search.get('to'), true);
  const cursor = search.get('cursor') ?? undefined;
  const modality = text('modality')?.toUpperCase();
  const site = text('site');
  const device = text('device');
  return {
    limit,
    ...(cursor === undefined || cursor === '' ? {} : { cursor }),
    ...(isWorklistPriority(priority) ? { priority } : {}),
    ...(isWorklistReason(reason) ? { reason } : {}),
    ...(modality === undefined ? {} : { modality }),
    ...(site === undefined ? {} : { site }),
    ...(device === undefined ? {} : { device }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}

export function reviewPath(item: Pick<WorklistItemBody, 'itemId'>, search: URLSearchParams): string {
  return `/review/${encodeURIComponent(item.itemId)}${filterSearch(search)}`;
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function withParams(search: URLSearchParams, changes: Partial<Record<FilterKey | 'cursor', string | undefined>>): string {
  const next = new URLSearchParams(filterSearch(search));
  const cursor = search.get('cursor');
  if (cursor !== null) next.set('cursor', cursor);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') next.delete(key);
    else next.set(key, value);
  }
  const text = next.toString();
  return `/worklist${text === '' ? '' : `?${text}`}`;
}

export function WorklistScreen() {
  const { search } = useLocation();
  const query = worklistQueryOf(search);
  const key = `worklist:${JSON.stringify(query)}`;
  const { data, error } = useResource(key, (signal) => api.worklist(query, signal), REFRESH_MS);
  const model = useResource('model', (signal) => api.model(signal));
  const calibrationError = calibrationErrorOf(model.data?.manifest);
  const items = useMemo(() => data?.items ?? [], [data]);
  const [selected, setSelected] = useState(0);
  const [flash] = useState(peekFlash);
  useEffect(() => clearFlash(), []);
  const rows = useRef<(HTMLAnchorElement | null)[]>([]);
  const current = Math.min(selected, Math.max(0, items.length - 1));
  const priority = search.get('priority');
  const onFirstPage = !search.has('cursor');

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event.target) || event.altKey || event.ctrlKey || event.metaKey || items.length === 0) return;
      let next: number | undefined;
      if (event.key === 'j' || event.key === 'ArrowDown') next = Math.min(items.length - 1, current + 1);
      else if (event.key === 'k' || event.key === 'ArrowUp') next = Math.max(0, current - 1);
      else if (event.key === 'Enter' && !(event.target instanceof HTMLAnchorElement || event.target instanceof HTMLButtonElement)) {
        const item = items[current];
        if (item !== undefined) navigate(reviewPath(item, search));
        return;
      }
      if (next === undefined) return;
      event.preventDefault();
      setSelected(next);
      rows.current[next]?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [items, current, search]);

  const setPriority = (value: WorklistPriority | undefined) => {
    setSelected(0);
    navigate(withParams(search, { priority: value, cursor: undefined }), { replace: true });
  };
  const total = data === undefined ? undefined : PRIORITIES.reduce((sum, p) => sum + data.counts[p], 0);
  const count = (p: WorklistPriority | undefined) => (data === undefined ? '' : p === undefined ? total : data.counts[p]);

  return (
    <>
      <div aria-live="polite">{flash === undefined ? null : <p className="notice notice-ok">{flash}</p>}</div>
      <div className="page-head">
        <h1>Worklist</h1>
        <p className="muted" id="worklist-keys">
          One row per study, most urgent first: referred, then gate warnings, then gate rejections, then random samples; oldest first within each. <kbd>j</kbd>/
          <kbd>k</kbd> or <kbd>↓</kbd>/<kbd>↑</kbd> to move, <kbd>Enter</kbd> to open. Updates by itself.
        </p>
      </div>
      <fieldset className="segmented filter">
        <legend>Priority</legend>
        {[undefined, ...PRIORITIES].map((p) => (
          <label key={p ?? 'all'}>
            <input type="radio" name="priority" checked={(isWorklistPriority(priority) ? priority : undefined) === p} onChange={() => setPriority(p)} />
            {p === undefined ? 'All' : PRIORITY_LABELS[p]} <span className="count">{count(p)}</span>
          </label>
        ))}
      </fieldset>
      <FilterForm key={filterSearch(search)} search={search} />
      {error === undefined ? null : <ErrorMessage error={error} what="the worklist" />}
      {data === undefined && error === undefined ? <p className="muted">Loading the worklist…</p> : null}
      {data !== undefined && items.length === 0 ? (
        <div className="notice" role="status">
          <p className="notice-title">{filterSearch(search) === '' ? 'Nothing to review' : 'Nothing to review with these filters'}</p>
          <p>
            Studies the model referred, the gate rejected or warned about, and a random sample of confident decisions appear here as studies arrive. Studies are
            sent by DICOM C-STORE (<code>storescu -aec VIGIL host 11112 files…</code>) or STOW-RS.
          </p>
        </div>
      ) : null}
      {items.length === 0 ? null : (
        <div className="table-scroll">
          <table className="table worklist" aria-describedby="worklist-keys">
            <caption className="visually-hidden">Open review items by priority, oldest first within a priority</caption>
            <thead>
              <tr>
                <th scope="col">Item</th>
                <th scope="col">Priority</th>
                <th scope="col">Why</th>
                <th scope="col">Modality</th>
                <th scope="col">Body part</th>
                <th scope="col">Age</th>
                <th scope="col">Site</th>
                <th scope="col">Device</th>
                <th scope="col" className="numeric">
                  Probability
                </th>
                <th scope="col">Waiting since</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item, i) => {
                const shown = item.probability === null ? undefined : formatProbability(item.probability, calibrationError);
                return (
                  <tr key={item.itemId} className={i === current ? 'selected' : undefined} onClick={() => navigate(reviewPath(item, search))}>
                    <td>
                      <Link
                        to={reviewPath(item, search)}
                        ref={(el) => {
                          rows.current[i] = el;
                        }}
                        onFocus={() => setSelected(i)}
                        aria-label={`Review item ${i + 1}: ${item.reasons.map((r) => REASON_LABELS[r]).join(', ')} (priority: ${PRIORITY_LABELS[item.priority]})`}
                      >
                        Review {i + 1}
                      </Link>
                    </td>
                    <td>
                      <span className={`priority priority-${item.priority}`}>{PRIORITY_LABELS[item.priority]}</span>
                    </td>
                    <td className="why">
                      {item.reasons.map((r) => (
                        <span key={r} className={`tag tag-${r}`}>
                          {REASON_LABELS[r]}
                        </span>
                      ))}
                      {item.imageCount > 1 ? <span className="muted small nowrap">{item.imageCount} images</span> : null}
                    </td>
                    <td>{item.modalities.length === 0 ? <Unknown /> : item.modalities.join(', ')}</td>
                    <td>{item.bodyPart ?? <Unknown />}</td>
                    <td>{item.patientAgeYears === null ? <Unknown /> : `${item.patientAgeYears === '90' ? '≥ 90' : item.patientAgeYears} y`}</td>
                    <td>{item.site ?? <Unknown />}</td>
                    <td className="device">{item.device ?? <Unknown />}</td>
                    <td className="numeric">
                      {shown === undefined ? (
                        <span className="muted">not judged</span>
                      ) : (
                        <span title={probabilityPrecisionNote(shown, calibrationError)}>{shown.text}</span>
                      )}
                    </td>
                    <td>
                      <time dateTime={item.createdAt} title={formatDateTime(item.createdAt)}>
                        {formatAge(item.createdAt)}
                      </time>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {data === undefined || (onFirstPage && data.next === null) ? null : (
        <nav className="pager" aria-label="Worklist pages">
          {onFirstPage ? null : <Link to={withParams(search, { cursor: undefined })}>← First page</Link>}
          {data.next === null ? null : <Link to={withParams(search, { cursor: data.next })}>Next page →</Link>}
        </nav>
      )}
    </>
  );
}

function Unknown() {
  return (
    <span className="muted" title="Not known, or not kept after de-identification">
      —
    </span>
  );
}

/** Filters other than the priority: applied on the server (GET /api/worklist), kept in the URL. */
function FilterForm({ search }: { readonly search: URLSearchParams }) {
  const initial = (key: FilterKey) => search.get(key) ?? '';
  const [values, setValues] = useState<Record<Exclude<FilterKey, 'priority'>, string>>({
    reason: initial('reason'),
    modality: initial('modality'),
    site: initial('site'),
    device: initial('device'),
    from: initial('from'),
    to: initial('to'),
  });
  const set = (key: keyof typeof values) => (event: { target: { value: string } }) => setValues((v) => ({ ...v, [key]: event.target.value }));
  const apply = (event: FormEvent) => {
    event.preventDefault();
    navigate(withParams(search, { ...values, modality: values.modality.trim().toUpperCase(), cursor: undefined }), { replace: true });
  };
  const clear = () => {
    setValues({ reason: '', modality: '', site: '', device: '', from: '', to: '' });
    navigate(
      withParams(search, { reason: undefined, modality: undefined, site: undefined, device: undefined, from: undefined, to: undefined, cursor: undefined }),
      {
        replace: true,
      },
    );
  };
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter the worklist">
      <label>
        Reason
        <select value={values.reason} onChange={set('reason')}>
          <option value="">Any</option>
          {REASONS.map((r) => (
            <option key={r} value={r}>
              {REASON_LABELS[r]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Modality
        <input value={values.modality} onChange={set('modality')} placeholder="CR" size={5} maxLength={16} pattern="[A-Za-z]{2,16}" />
      </label>
      <label>
        Site
        <input value={values.site} onChange={set('site')} size={10} maxLength={128} />
      </label>
      <label>
        Device
        <input value={values.device} onChange={set('device')} size={12} maxLength={128} />
      </label>
      <label>
        From
        <input type="date" value={values.from} onChange={set('from')} />
      </label>
      <label>
        To
        <input type="date" value={values.to} onChange={set('to')} />
      </label>
      <button type="submit">Apply</button>
      <button type="button" onClick={clear}>
        Clear
      </button>
    </form>
  );
}
