import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { MonitorDesign, SignalSpec } from '../../domain/monitoring/deployment-monitors.js';
import { designDeploymentPlan, type EmbeddingDriftRequest, type ReferenceKind, type ReviewPlanDesign } from '../../domain/monitoring/deployment-plan.js';
import { encodeMonitorPlan } from '../../domain/monitoring/monitor-snapshot.js';

export interface DesignRequest {
  readonly reference: Readonly<Record<string, Float64Array>>;
  readonly design: Omit<MonitorDesign, 'guarantee'>;
  readonly guarantee: { readonly kind: ReferenceKind; readonly bootstraps: number };
  readonly signals: readonly SignalSpec[];
  readonly embedding?: EmbeddingDriftRequest;
  /** The review detectors to design beside them (deployment-plan.ts), when the version's reference gives their error rates. */
  readonly review?: ReviewPlanDesign;
}

/** The compiled worker beside this file (dist/); absent when the TypeScript runs untranspiled (tests). */
const WORKER = new URL('./design-worker.js', import.meta.url);

/**
 * Designs a deployment's plan (domain/monitoring/deployment-plan.ts) on a worker thread, returning it
 * encoded (monitor-snapshot.ts). Why: a guaranteed design takes ≈ 1–2 s of CPU the first time a
 * reference size is seen (the rank bootstrap), up to ≈ 10 s on a loaded machine, and judging and every
 * request share the event loop. When the compiled worker is not there (vitest runs the sources), it
 * designs on the calling thread.
 */
export async function designPlanOnWorker(request: DesignRequest): Promise<string> {
  if (!existsSync(fileURLToPath(WORKER))) {
    return encodeMonitorPlan(
      designDeploymentPlan(new Map(Object.entries(request.reference)), request.design, request.guarantee, request.signals, request.embedding, request.review),
    );
  }
  return new Promise<string>((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: request });
    let settled = false;
    worker.once('message', (text: string) => {
      settled = true;
      resolve(text);
    });
    worker.once('error', (error: Error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`monitor design worker exited with code ${code}`));
    });
  });
}
