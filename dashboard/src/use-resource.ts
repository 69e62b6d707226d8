import { useCallback, useEffect, useRef, useState } from 'react';

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** Loads again, keeping the current data on screen meanwhile (no flash, no layout shift). */
  readonly reload: () => void;
}

/**
 * Loads `load(signal)` when `key` changes, aborting the previous request; with `refreshMs`, again
 * at that interval while the page is visible (the worklist follows arriving studies this way).
 * `load` undefined: nothing to load yet (it waits for another resource).
 */
export function useResource<T>(key: string, load: ((signal: AbortSignal) => Promise<T>) | undefined, refreshMs?: number): Resource<T> {
  const [state, setState] = useState<{ key: string; data: T | undefined; error: unknown; loading: boolean }>({
    key,
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const enabled = load !== undefined;
  if (state.key !== key) setState({ key, data: undefined, error: undefined, loading: true });

  useEffect(() => {
    const current = loadRef.current;
    if (current === undefined) return;
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ key, data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState((s) => ({ ...s, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [key, generation, enabled]);

  useEffect(() => {
    if (refreshMs === undefined) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') setGeneration((g) => g + 1);
    }, refreshMs);
    return () => window.clearInterval(timer);
  }, [refreshMs]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
