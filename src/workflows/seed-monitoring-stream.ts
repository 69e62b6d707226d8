import { reduceContrast8 } from '../domain/monitoring/acquisition-shift.js';
import type { RasterDeclaration } from '../domain/image/image-frame.js';
import type { StudyDeclaration } from '../ports/instance-store.js';
import type { Logger } from '../ports/logger.js';
import type { UploadResult } from './ingest-upload.js';
import { DEMO_DECLARATION } from './seed-demo.js';

/** The demo's shifted device: PneumoniaMNIST val images with their contrast reduced to 0.7 about the mean (docs/monitoring.md, severity 2). */
export const DEMO_SHIFT = { device: 'portable-b simulated contrast x0.7', contrast: 0.7 } as const;

export interface MonitoringStreamPlan {
  /** In-distribution images (PneumoniaMNIST val, cycled when more are asked for than val holds), from the demo's device. */
  readonly inDistribution: number;
  /** Then this many val images with the contrast shift, from another device. */
  readonly shifted: number;
  readonly device: string;
}

export interface MonitoringStreamDependencies {
  /** PneumoniaMNIST val: 8-bit greyscale images of one size. */
  readonly source: () => Promise<{ readonly images: readonly Uint8Array[]; readonly width: number; readonly height: number }>;
  readonly encodePng: (pixels: Uint8Array, width: number, height: number) => Promise<Uint8Array>;
  /** The server's device-image upload (the same path as POST /api/images): one image, one study. */
  readonly uploadImages: (declaration: StudyDeclaration, images: readonly Uint8Array[]) => Promise<UploadResult>;
  readonly declared: RasterDeclaration;
  /**
   * In-distribution images to send before the shift: enough for the monitors' reference when it is a
   * production baseline window (its size, plus some in control after it), else the val split once.
   */
  readonly inDistribution: number;
  readonly shifted: number;
  /** Stops sending (the server is closing). */
  readonly signal: AbortSignal;
  /** Milliseconds since the epoch; sending stops at `deadlineMs` whatever is left. */
  readonly now: () => number;
  readonly deadlineMs: number;
  readonly logger: Logger;
}

export type MonitoringStreamOutcome =
  | { readonly status: 'sent'; readonly inDistribution: number; readonly shifted: number; readonly failed: number }
  | { readonly status: 'stopped'; readonly reason: 'aborted' | 'deadline'; readonly inDistribution: number; readonly shifted: number; readonly failed: number };

/**
 * The demo's production stream for monitoring (issue 12, "Done means": `npm start` shows a shift the
 * monitors detected by themselves): PneumoniaMNIST val images as the demo's device sends them, then the
 * same kind of images from another device whose acquisition lowers contrast (× 0.7), each uploaded
 * through the real ingest as one study. Judging, the monitors' design, the alarm and the incident are
 * the server's own work on them; nothing here touches a monitor. Logs counts only.
 */
export async function sendMonitoringStream(deps: MonitoringStreamDependencies): Promise<MonitoringStreamOutcome> {
  const val = await deps.source();
  const counts = { inDistribution: 0, shifted: 0, failed: 0 };
  const total = deps.inDistribution + deps.shifted;
  deps.logger.info({ stage: 'seed', count: total, status: 'streaming' }, 'demo monitoring stream started');
  for (let i = 0; i < total; i++) {
    const stop = deps.signal.aborted ? 'aborted' : deps.now() >= deps.deadlineMs ? 'deadline' : undefined;
    if (stop !== undefined) {
      deps.logger.warn({ stage: 'seed', count: counts.inDistribution + counts.shifted, status: stop }, 'demo monitoring stream stopped early');
      return { status: 'stopped', reason: stop, ...counts };
    }
    const shifted = i >= deps.inDistribution;
    const n = shifted ? i - deps.inDistribution : i;
    const pixels = val.images[n % val.images.length]!;
    const png = await deps.encodePng(shifted ? reduceContrast8(pixels, DEMO_SHIFT.contrast) : pixels, val.width, val.height);
    const device = shifted ? DEMO_SHIFT.device : DEMO_DECLARATION.device;
    const result = await deps.uploadImages({ ...deps.declared, site: DEMO_DECLARATION.site, device }, [png]);
    if (result.stored + result.duplicates === 0) counts.failed++;
    else if (shifted) counts.shifted++;
    else counts.inDistribution++;
  }
  deps.logger.info({ stage: 'seed', count: counts.inDistribution + counts.shifted, status: 'streamed' }, 'demo monitoring stream sent');
  return { status: 'sent', ...counts };
}
