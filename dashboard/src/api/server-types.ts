/** Response shapes of the routes the dashboard reads beyond the original API. */
import type { AuditEntryBody } from './types.js';

export interface AuditQuery {
  readonly type?: string;
  /** ISO 8601 instants. */
  readonly since?: string;
  readonly until?: string;
  readonly limit?: number;
  /** The `next` cursor of the previous page. */
  readonly before?: string;
}

export interface AuditEntriesPage {
  readonly entries: AuditEntryBody[];
  readonly next?: string;
}

export type AuditVerification =
  | { readonly ok: true; readonly treeSize: number; readonly rootHash: string; readonly checkedTreeHeads: number }
  | { readonly ok: false; readonly treeSize: number; readonly firstBadIndex: number; readonly firstBadAuditId: string; readonly reason: string };

export interface ModelSummary {
  readonly hashVerified: true;
  readonly modelBytes: number;
  readonly manifest: Record<string, unknown>;
}

/** A point estimate with its confidence interval (null where the report has none). */
export type Estimate = { readonly value: number | null; readonly ciLow: number | null; readonly ciHigh: number | null } | null;

export interface ReportListing {
  readonly name: string;
  readonly createdAt: string | null;
  readonly summary: {
    readonly schema: string | null;
    readonly model: { readonly id: string | null; readonly version: string | null; readonly finding: string | null } | null;
    readonly dataset: string | null;
    readonly n: number | null;
    readonly auroc: Estimate;
    readonly sensitivity: Estimate;
    readonly specificity: Estimate;
    readonly ece: Estimate;
    readonly referRate: Estimate;
    readonly criteriaPassed: boolean | null;
  };
}

/** GET /api/models/current/card (src/http/routes/model-document-routes.ts, modelCardSchema). */
export interface ModelCard {
  readonly manifest: Record<string, unknown>;
  readonly intendedUse: Record<string, unknown>;
  /** What the gate says when a value the model restricts is unknown, per check. */
  readonly whenUnknown: Readonly<Record<'modality' | 'bodyPart' | 'view' | 'patientAge', 'warn' | 'reject'>>;
  /** MODEL_CARD.md, or null when the bundle has none. */
  readonly modelCard: string | null;
  readonly reports: readonly ReportListing[];
}

type Counts = Readonly<Record<string, number>>;

/** GET /api/system/summary (src/http/routes/system-summary-routes.ts, systemSummarySchema). */
export interface SystemSummary {
  readonly time: string;
  readonly version: string;
  readonly uptimeSeconds: number;
  /** `AE@host:port`, or null when the DICOM receiver is not running. */
  readonly dicomAddress: string | null;
  readonly freeDiskBytes: number;
  readonly queue: {
    readonly byState: Counts;
    readonly byKind: readonly { readonly kind: string; readonly state: string; readonly count: number }[];
    readonly deadLetters: readonly {
      readonly jobId: number;
      readonly kind: string;
      readonly attempts: number;
      readonly errorCode: string | null;
      readonly errorMessage: string | null;
      readonly updatedAt: string;
    }[];
  };
  readonly last24h: {
    readonly images: number;
    readonly commandLineImages: number;
    readonly gateRejected: number;
    readonly byGateVerdict: Counts;
    readonly byDecision: Counts;
    readonly referRate: number | null;
    readonly resultLatencyMs: { readonly count: number; readonly p50: number | null; readonly p95: number | null };
  };
}
