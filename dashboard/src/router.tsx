/**
 * Routing by URL with the History API: the server answers every non-API path with index.html, so a
 * reload or a shared link opens the same screen. A handful of screens need no routing library.
 */
import { useSyncExternalStore, type ComponentPropsWithRef, type MouseEvent, type ReactNode } from 'react';

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

/** The current path and query, e.g. `/worklist?reason=gate_rejected`. */
export function useLocation(): { readonly path: string; readonly search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { path: url.pathname, search: url.searchParams };
}

export function navigate(to: string, options: { readonly replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace === true) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const listener of listeners) listener();
  if (options.replace !== true) window.scrollTo(0, 0);
}

/** An ordinary link (open in a new tab still works) that navigates without a page load. */
export function Link({ to, children, ...rest }: { readonly to: string; readonly children: ReactNode } & Omit<ComponentPropsWithRef<'a'>, 'href'>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    rest.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} {...rest} onClick={onClick}>
      {children}
    </a>
  );
}
