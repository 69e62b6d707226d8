import type { RasterDeclaration } from '../domain/image/image-frame.js';
import type { DemoRun } from '../ports/demo-inputs.js';
import type { AuditVerification, InclusionProof } from '../ports/audit-log.js';
import type { ModelInspection } from './inspect-model.js';
import type { PredictProgress, PredictResult } from './predict-images.js';

export interface PredictOptions {
  readonly modelDir?: string;
  /** Attributes declared for PNG/JPEG inputs, which cannot carry them (DICOM inputs keep their own). */
  readonly declared?: RasterDeclaration;
}

export interface PredictCounts {
  readonly decided: number;
  readonly rejected: number;
  readonly errors: number;
}

/**
 * The operations the edges (CLI, later HTTP) offer, each one a workflow wired by main.ts. Parts
 * (store, model session) are opened on first use and closed by `close`.
 */
export interface VigilServices {
  predict(
    paths: readonly string[],
    options: PredictOptions,
    emit: (r: PredictResult) => void,
    onProgress?: (p: PredictProgress) => void,
  ): Promise<PredictCounts>;
  verifyAudit(): Promise<AuditVerification>;
  proveAudit(auditId: string): Promise<{ readonly proof: InclusionProof; readonly verified: boolean }>;
  inspectModel(directory: string): Promise<ModelInspection>;
  /** Prepares the demo's inputs from the public sample data: the paths to predict on, and notes for the reader. */
  prepareDemo(): Promise<{ readonly runs: readonly DemoRun[]; readonly notes: readonly string[] }>;
  close(): Promise<void>;
}
