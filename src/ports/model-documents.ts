import type { ReportSummary } from '../domain/evaluation/report-summary.js';

export interface EvaluationReportListing {
  /** The report's folder name: what GET /api/models/current/reports/{name} takes. */
  readonly name: string;
  readonly createdAt: string | null;
  readonly summary: ReportSummary;
}

/** The human-readable documents around the configured model: its card and its evaluation reports. */
export interface ModelDocuments {
  /** MODEL_CARD.md (markdown), or null when the bundle has none. */
  modelCard(): Promise<string | null>;
  /** Reports found as `<folder>/<name>/report.json`, newest first. */
  listReports(): Promise<readonly EvaluationReportListing[]>;
  /** The report's self-contained report.html, or undefined for an unknown name. */
  reportHtml(name: string): Promise<string | undefined>;
  /** The report's report.json as text (at most 32 MiB), or undefined for an unknown name. */
  reportJson(name: string): Promise<string | undefined>;
}
