import { burnedInRisksOf } from '../domain/deidentification/assess-pixels.js';
import type { ImageFrame, VoiWindow } from '../domain/image/image-frame.js';
import { renderForDisplay, type DisplayImage } from '../domain/image/render-for-display.js';
import { PlatformError } from '../domain/errors.js';
import type { CaseStore } from '../ports/case-store.js';
import type { ImageEncoder } from '../ports/image-encoder.js';
import type { InputKinds } from './input-kinds.js';

export interface CaseImageDependencies {
  readonly cases: CaseStore;
  /** Reads an instance a case result names; refuses any path outside the instance store. */
  readonly readStored: (path: string) => Promise<Uint8Array>;
  /** The kinds of stored file (DICOM, PNG/JPEG). */
  readonly inputs: InputKinds;
  readonly encoder: ImageEncoder;
}

export interface CaseImageRequest {
  readonly caseId: string;
  /** Which judged image: the index into the case's results (as worklist items' `resultIndex`). */
  readonly index: number;
  /** Longest side of the PNG; smaller images are not enlarged. */
  readonly maxSide: number;
  /** Overrides the file's window. */
  readonly window?: VoiWindow;
}

export interface CaseImage {
  readonly png: Uint8Array;
  readonly studyKey: string;
  readonly window: DisplayImage['window'];
  /**
   * Why the pixels may show burned-in text (Burned In Annotation YES, or a modality or SOP class
   * where it is common). Ingest de-identifies headers only, so such text is still in the pixels.
   */
  readonly burnedInRisks: readonly string[];
}

/**
 * Renders the `index`-th judged image of a case for a human reader: the stored, de-identified
 * instance a case result points at, windowed as a viewer would (domain/image/render-for-display.ts),
 * as a PNG. Throws ROUTE_NOT_FOUND for an unknown case or index; reader errors as they come.
 */
export async function renderCaseImage(deps: CaseImageDependencies, request: CaseImageRequest): Promise<CaseImage> {
  const found = await deps.cases.get(request.caseId);
  if (found === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No case has this id');
  const input = inputOf(found.results[request.index]);
  if (input === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'The case has no image at this index', { count: found.results.length });
  const bytes = await deps.readStored(input.file);
  const opened = await deps.inputs.open(bytes);
  const frame: ImageFrame = await opened.decodeFrame(input.frame ?? 0);
  // Ingest de-identifies headers only: what the file's own attributes say about burned-in text.
  const risks = opened.attributes === undefined ? [] : burnedInRisksOf(opened.attributes);
  const display = renderForDisplay(frame, request.window);
  return { png: await deps.encoder.encodePng(display, request.maxSide), studyKey: found.studyKey, window: display.window, burnedInRisks: risks };
}

/** A stored result's input (PredictResult.input), read defensively: results are stored as JSON. */
function inputOf(result: unknown): { file: string; frame: number | null } | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const input = (result as { input?: unknown }).input;
  if (typeof input !== 'object' || input === null) return undefined;
  const { file, frame } = input as { file?: unknown; frame?: unknown };
  if (typeof file !== 'string' || !(frame === null || (typeof frame === 'number' && Number.isInteger(frame) && frame >= 0))) return undefined;
  return { file, frame };
}
