import { useEffect, useId, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { api, type CaseImage, type ImageView } from '../api/client.js';
import { ErrorMessage } from './error-message.js';

/**
 * Window presets: the image's own window (its DICOM VOI window, or a percentile window when it has
 * none), narrower and wider versions of it, and the usual CT windows in Hounsfield units.
 */
const PRESETS = {
  default: { label: 'Image’s own window' },
  narrow: { label: 'Narrower (more contrast)' },
  wide: { label: 'Wider (less contrast)' },
  lung: { label: 'CT lung (C −600, W 1500)', window: { wc: -600, ww: 1500 } },
  mediastinum: { label: 'CT soft tissue (C 40, W 400)', window: { wc: 40, ww: 400 } },
  bone: { label: 'CT bone (C 400, W 1800)', window: { wc: 400, ww: 1800 } },
  custom: { label: 'Custom…' },
} as const;
type PresetId = keyof typeof PRESETS;

const WINDOW_SOURCES: Readonly<Record<string, string>> = { dicom: 'from the file', percentile: 'from the pixel values', request: 'chosen here' };

const MIN_ZOOM = 1;
const MAX_ZOOM = 8;
/** Pixels the server renders on the longest side: sharp enough to zoom 2–3× on a laptop screen. */
const RENDER_SIZE = 1024;
const PAN_STEP = 40;

interface View {
  readonly zoom: number;
  readonly x: number;
  readonly y: number;
}
const RESET: View = { zoom: 1, x: 0, y: 0 };

function clampZoom(zoom: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

/** Zooms by `factor` keeping the point `(px, py)` (relative to the viewport's centre) still. */
function zoomAt(view: View, factor: number, px = 0, py = 0): View {
  const zoom = clampZoom(view.zoom * factor);
  if (zoom === MIN_ZOOM) return RESET;
  const k = zoom / view.zoom;
  return { zoom, x: px - (px - view.x) * k, y: py - (py - view.y) * k };
}

/**
 * The case's image, rendered by the server with the chosen DICOM window (GET /api/cases/:id/images/:i),
 * zoomed and panned in the browser: wheel or +/− to zoom, drag or arrow keys to pan, 0 to reset.
 */
export function ImageViewer({ caseId, index, description }: { readonly caseId: string; readonly index: number; readonly description: string }) {
  const ids = useId();
  const [view, setView] = useState<View>(RESET);
  const [preset, setPreset] = useState<PresetId>('default');
  const [custom, setCustom] = useState({ wc: '', ww: '' });
  const [image, setImage] = useState<(Omit<CaseImage, 'blob'> & { readonly key: string; readonly url: string }) | undefined>(undefined);
  const [failure, setFailure] = useState<{ key: string; error: unknown } | undefined>(undefined);
  /** The image's own window, once known: the narrower and wider presets are relative to it. */
  const [own, setOwn] = useState<{ wc: number; ww: number } | undefined>(undefined);
  const viewport = useRef<HTMLDivElement>(null);
  const drag = useRef<{ x: number; y: number; view: View } | undefined>(undefined);
  const urlRef = useRef<string | undefined>(undefined);

  const customWc = Number.parseFloat(custom.wc);
  const customWw = Number.parseFloat(custom.ww);
  let window: ImageView = {};
  if (preset === 'custom' && Number.isFinite(customWc) && customWw > 0) window = { wc: customWc, ww: customWw };
  else if ((preset === 'narrow' || preset === 'wide') && own !== undefined) window = { wc: own.wc, ww: preset === 'narrow' ? own.ww / 2 : own.ww * 2 };
  else if (preset === 'lung' || preset === 'mediastinum' || preset === 'bone') window = PRESETS[preset].window;
  const { wc, ww } = window;
  const key = `${caseId}/${index}/${wc ?? ''}/${ww ?? ''}`;

  useEffect(() => {
    const controller = new AbortController();
    api.caseImage(caseId, index, { size: RENDER_SIZE, ...(wc === undefined || ww === undefined ? {} : { wc, ww }) }, controller.signal).then(
      ({ blob, ...rest }) => {
        // A blob: URL (the CSP allows them for images); the previous one is released.
        const url = URL.createObjectURL(blob);
        if (urlRef.current !== undefined) URL.revokeObjectURL(urlRef.current);
        urlRef.current = url;
        setImage({ ...rest, key, url });
        if (wc === undefined && rest.window !== undefined) setOwn({ wc: rest.window.center, ww: rest.window.width });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setFailure({ key, error });
      },
    );
    return () => controller.abort();
  }, [caseId, index, wc, ww, key]);
  useEffect(
    () => () => {
      if (urlRef.current !== undefined) URL.revokeObjectURL(urlRef.current);
    },
    [],
  );
  const status = failure?.key === key ? 'failed' : image?.key === key ? 'ready' : 'loading';

  // The wheel listener must not be passive, or the page would scroll as well as the image zoom.
  useEffect(() => {
    const element = viewport.current;
    if (element === null) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const box = element.getBoundingClientRect();
      const px = event.clientX - box.left - box.width / 2;
      const py = event.clientY - box.top - box.height / 2;
      setView((v) => zoomAt(v, event.deltaY < 0 ? 1.2 : 1 / 1.2, px, py));
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const moves: Record<string, [number, number]> = { ArrowLeft: [PAN_STEP, 0], ArrowRight: [-PAN_STEP, 0], ArrowUp: [0, PAN_STEP], ArrowDown: [0, -PAN_STEP] };
    const move = moves[event.key];
    if (event.key === '+' || event.key === '=') setView((v) => zoomAt(v, 1.25));
    else if (event.key === '-' || event.key === '_') setView((v) => zoomAt(v, 1 / 1.25));
    else if (event.key === '0') setView(RESET);
    else if (move !== undefined && view.zoom > 1) setView((v) => ({ ...v, x: v.x + move[0], y: v.y + move[1] }));
    else return;
    event.preventDefault();
    event.stopPropagation();
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (view.zoom === 1 || event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { x: event.clientX, y: event.clientY, view };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (start === undefined) return;
    setView({ ...start.view, x: start.view.x + event.clientX - start.x, y: start.view.y + event.clientY - start.y });
  };
  const endDrag = () => {
    drag.current = undefined;
  };

  const reset = () => {
    setView(RESET);
    setPreset('default');
  };

  return (
    <section className="viewer" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`} className="visually-hidden">
        Image
      </h2>
      <div className="viewer-tools" role="toolbar" aria-label="Image tools">
        <button type="button" onClick={() => setView((v) => zoomAt(v, 1.25))} disabled={view.zoom >= MAX_ZOOM} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => setView((v) => zoomAt(v, 1 / 1.25))} disabled={view.zoom <= MIN_ZOOM} aria-label="Zoom out">
          −
        </button>
        <output className="zoom-level" aria-label="Zoom">
          {Math.round(view.zoom * 100)} %
        </output>
        <label htmlFor={`${ids}-preset`}>Window</label>
        <select id={`${ids}-preset`} value={preset} onChange={(e) => setPreset(e.target.value as PresetId)}>
          {(Object.keys(PRESETS) as PresetId[]).map((id) => (
            <option key={id} value={id}>
              {PRESETS[id].label}
            </option>
          ))}
        </select>
        {preset === 'custom' ? (
          <>
            <label htmlFor={`${ids}-wc`}>Centre</label>
            <input
              id={`${ids}-wc`}
              className="narrow"
              inputMode="decimal"
              value={custom.wc}
              onChange={(e) => setCustom((c) => ({ ...c, wc: e.target.value }))}
            />
            <label htmlFor={`${ids}-ww`}>Width</label>
            <input
              id={`${ids}-ww`}
              className="narrow"
              inputMode="decimal"
              value={custom.ww}
              onChange={(e) => setCustom((c) => ({ ...c, ww: e.target.value }))}
            />
          </>
        ) : null}
        <button type="button" onClick={reset}>
          Reset
        </button>
      </div>
      <div
        ref={viewport}
        className={`viewport${view.zoom > 1 ? ' pannable' : ''}`}
        tabIndex={0}
        role="group"
        aria-roledescription="image viewer"
        aria-label={`${description}. Plus and minus zoom, arrow keys pan, 0 resets.`}
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
        onDoubleClick={() => setView(RESET)}
      >
        {image === undefined ? null : (
          <img
            src={image.url}
            alt={description}
            draggable={false}
            style={{ transform: `translate(${view.x}px, ${view.y}px) scale(${view.zoom})`, visibility: status === 'failed' ? 'hidden' : 'visible' }}
          />
        )}
        {status === 'loading' ? (
          <p className="viewport-status" role="status">
            Rendering…
          </p>
        ) : null}
      </div>
      {failure?.key === key ? <ErrorMessage error={failure.error} what="the image" /> : null}
      {/* Below the image, so that nothing above it moves when it arrives. */}
      <div className="viewer-notes">
        {image === undefined ? null : (
          <p className="muted small viewer-caption">
            {image.window === undefined
              ? null
              : `Window: centre ${formatNumber(image.window.center)}, width ${formatNumber(image.window.width)} (${WINDOW_SOURCES[image.window.source] ?? image.window.source}). `}
            Wheel or <kbd>+</kbd>/<kbd>−</kbd> to zoom, drag or arrow keys to pan, <kbd>0</kbd> or double-click to reset.
          </p>
        )}
        {image !== undefined && image.burnedInRisks.length > 0 ? (
          <p className="notice notice-warn" role="note">
            This image may show burned-in text ({image.burnedInRisks.join(', ')}). De-identification cleans the header, not the pixels: do not copy anything you
            read in the image into the comment.
          </p>
        ) : null}
      </div>
    </section>
  );
}

function formatNumber(value: number): string {
  return String(Number(value.toPrecision(5)));
}
