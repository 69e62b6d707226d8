import type { AuditSearch } from '../../ports/audit-search.js';
import type { ModelDocuments } from '../../ports/model-documents.js';
import type { ReportChartKind } from '../../workflows/report-charts.js';
import type { DashboardSessions } from '../../workflows/dashboard-sessions.js';
import type { SystemSummary } from '../../workflows/system-summary.js';
import type { CaseImage, CaseImageRequest } from '../../workflows/render-case-image.js';

/** What the dashboard's server side needs beyond the core API (wired in composition/dashboard.ts). */
export interface DashboardDependencies {
  readonly sessions: DashboardSessions;
  /** The Secure attribute on the session cookie (VIGIL_COOKIE_SECURE). */
  readonly cookieSecure: boolean;
  /** A case's judged image as a windowed PNG (workflows/render-case-image.ts). */
  readonly renderCaseImage: (request: CaseImageRequest) => Promise<CaseImage>;
  readonly auditSearch: AuditSearch;
  readonly modelDocuments: ModelDocuments;
  /** An evaluation report's ROC or reliability plot as SVG (workflows/report-charts.ts); undefined for an unknown report. */
  readonly reportChart: (name: string, kind: ReportChartKind) => Promise<string | undefined>;
  readonly systemSummary: () => Promise<SystemSummary>;
  /** The built dashboard (index.html, assets/), or a folder that does not exist yet. */
  readonly dashboardDir: string;
}

export const SESSION_COOKIE = 'vigil_session';
export const CSRF_HEADER = 'x-csrf-token';
