/**
 * The dashboard's server side: cookie sessions over the same users and tokens, account
 * administration, case images, audit search, model documents and report charts, and the system
 * summary.
 */
import { join } from 'node:path';
import { NodeCredentials } from '../adapters/crypto-node/node-credentials.js';
import { DcmjsDicomReader } from '../adapters/dicom-dcmjs/dcmjs-dicom-reader.js';
import type { FsInstanceStore } from '../adapters/files-fs/fs-instance-store.js';
import { SharpImageEncoder } from '../adapters/image-sharp/sharp-image-encoder.js';
import { SharpRasterReader } from '../adapters/image-sharp/sharp-raster-reader.js';
import { FsModelDocuments } from '../adapters/model-bundle-fs/fs-model-documents.js';
import { PACKAGE_ROOT, type VigilConfig } from '../config/load-config.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import type { DashboardDependencies } from '../http/dashboard/dashboard-dependencies.js';
import { DashboardSessions } from '../workflows/dashboard-sessions.js';
import { standardInputKinds } from '../workflows/input-kinds.js';
import { AccountAdministration } from '../workflows/manage-accounts.js';
import { renderCaseImage } from '../workflows/render-case-image.js';
import { createReportCharts } from '../workflows/report-charts.js';
import { summarizeSystem } from '../workflows/system-summary.js';
import { inflateLimitsOf, systemClock, VIGIL_VERSION } from './settings.js';
import type { ServerStores } from './stores.js';

export function createDashboardParts(
  config: VigilConfig,
  parts: {
    readonly stores: ServerStores;
    readonly instances: FsInstanceStore;
    /** Appends to the audit log; resolves once the entry is durable. */
    readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
    /** The DICOM receiver's address once it listens (vigil serve); null for a process without one (tests, the CLI). */
    readonly dicomAddress: () => string | null;
    /** The built dashboard; tests point it elsewhere (default <package>/dist/dashboard). */
    readonly dashboardDir: string | undefined;
  },
): { readonly accounts: AccountAdministration; readonly dashboard: DashboardDependencies } {
  const { stores, instances } = parts;
  const dicom = new DcmjsDicomReader({ inflate: inflateLimitsOf(config) });
  const modelDocuments = new FsModelDocuments(config.modelDir, config.reportsDir);
  const credentials = new NodeCredentials();
  const accounts = new AccountAdministration({
    access: stores.access,
    sessions: stores.sessions,
    credentials,
    clock: systemClock,
    audit: (event) => parts.recordAudit(event),
  });
  // The dashboard's server side: cookie sessions over the same users and tokens.
  const dashboard = {
    sessions: new DashboardSessions(
      {
        store: stores.sessions,
        access: stores.access,
        credentials,
        clock: systemClock,
        audit: (event) => parts.recordAudit(event),
      },
      {
        idleTimeoutMs: config.sessionIdleMs,
        absoluteTimeoutMs: config.sessionMaxMs,
        loginLimit: { maxFailures: config.loginMaxFailures, windowMs: config.loginWindowMs },
      },
    ),
    cookieSecure: config.cookieSecure,
    renderCaseImage: renderCaseImage.bind(undefined, {
      cases: stores.cases,
      readStored: (path: string) => instances.read(path),
      inputs: standardInputKinds({ dicom, raster: new SharpRasterReader() }),
      encoder: new SharpImageEncoder(),
    }),
    auditSearch: stores.auditSearch,
    modelDocuments,
    reportChart: createReportCharts({
      documents: modelDocuments,
      // Vega loads on the first plot asked for, as for `vigil evaluate`: a server that never draws one never loads it.
      charts: { renderSvg: async (chart) => new (await import('../adapters/charts-vega/vega-chart-renderer.js')).VegaChartRenderer().renderSvg(chart) },
    }),
    systemSummary: () =>
      summarizeSystem({
        jobs: stores.jobs,
        stats: stores.systemStats(),
        clock: systemClock,
        freeDiskBytes: () => instances.freeBytes(),
        dicomAddress: parts.dicomAddress,
        uptimeSeconds: () => process.uptime(),
        version: VIGIL_VERSION,
      }),
    dashboardDir: parts.dashboardDir ?? join(PACKAGE_ROOT, 'dist', 'dashboard'),
  };
  return { accounts, dashboard };
}
