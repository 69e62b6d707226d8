/**
 * Production monitoring and incidents (docs/monitoring.md, "In the server"): the workflows over the
 * monitor and incident stores every server shares, the deployments (through the release workflow:
 * its list, pause and rollback), the model registry's archive (a version's monitoring reference), the
 * audit log, and the signed monitoring webhook when one is configured.
 */
import type { Role } from '../domain/access/roles.js';
import { randomUUID } from 'node:crypto';
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import { readWebhookSecret } from '../adapters/crypto-node/webhook-secret.js';
import { designPlanOnWorker } from '../adapters/monitor-design-worker/design-on-worker.js';
import { readManifestMetrics, readMonitoringReference, readMonitoringReferenceFile } from '../adapters/model-bundle-fs/read-monitoring-reference.js';
import { embeddingReferenceOf, reviewReferenceOf } from '../domain/monitoring/monitoring-reference-file.js';
import { HttpWebhookSender } from '../adapters/webhook-http/http-webhook-sender.js';
import { MonitorNotifier } from '../adapters/webhook-http/monitor-notifier.js';
import type { VigilConfig } from '../config/load-config.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import type { AuditSearch } from '../ports/audit-search.js';
import type { SitesConfig } from '../domain/deployment/sites.js';
import type { IncidentStore } from '../ports/incident-store.js';
import { monitorMetricLines } from '../workflows/prometheus-metrics.js';
import type { Logger } from '../ports/logger.js';
import type { MonitorNotices } from '../ports/monitor-notices.js';
import type { MonitorStore } from '../ports/monitor-store.js';
import type { WorklistStore } from '../ports/worklist-store.js';
import type { BundleArchive } from '../ports/model-registry.js';
import { Incidents } from '../workflows/incidents.js';
import { DeploymentMonitoring, type MonitoringSettings } from '../workflows/monitoring.js';
import type { MonitoringParts } from '../workflows/monitoring-parts.js';
import type { Releases } from '../workflows/releases.js';
import { systemClock } from './settings.js';

export type { MonitoringParts };

/** Chain cells for server designs: ~3× faster than the proof's 150 (ARL within a few % of it; measured in docs/monitoring.md). */
const SERVER_DESIGN_STATES = 60;

export function monitoringSettingsOf(config: VigilConfig, sites: SitesConfig): MonitoringSettings {
  return {
    falseAlarmDays: config.monitorFalseAlarmDays,
    casesPerDay: config.monitorCasesPerDay,
    casesPerDayBySite: new Map(sites.sites.flatMap((s) => (s.casesPerDay === undefined ? [] : [[s.id, s.casesPerDay] as const]))),
    baselineCases: config.monitorBaselineCases,
    guaranteeBootstraps: config.monitorGuaranteeBootstraps,
    designStates: SERVER_DESIGN_STATES,
    reviewSampleRate: config.reviewSampleRate,
  };
}

export async function createMonitoringParts(
  config: VigilConfig,
  logger: Logger,
  parts: {
    readonly stores: { readonly monitor: MonitorStore; readonly incidents: IncidentStore; readonly worklist: WorklistStore };
    readonly releases: () => Promise<Releases>;
    readonly archive: () => Promise<BundleArchive>;
    readonly sites: SitesConfig;
    readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
    /** The audit log searched: a stored alert found unaudited on replay is audited once (workflows/monitoring.ts). */
    readonly auditSearch: AuditSearch;
    /** The accounts an incident's owner is checked against. */
    readonly userById: (userId: string) => Promise<{ readonly disabled: boolean; readonly name: string; readonly role: Role } | undefined>;
  },
): Promise<MonitoringParts> {
  let notifier: MonitorNotifier | undefined;
  if (config.monitorWebhookUrl !== undefined && config.monitorWebhookSecretFile !== undefined) {
    const secret = await readWebhookSecret(config.monitorWebhookSecretFile);
    notifier = new MonitorNotifier({
      sender: new HttpWebhookSender({ url: config.monitorWebhookUrl, secret, timeoutMs: 10_000, clock: systemClock, contentType: 'application/json' }),
      logger,
    });
  }
  const notices: MonitorNotices = notifier ?? { notify: () => undefined };
  const newId = (): string => randomUUID();
  const monitoring = new DeploymentMonitoring({
    store: parts.stores.monitor,
    incidents: parts.stores.incidents,
    deployments: async () => (await parts.releases()).deployments(),
    versionReference: async (versionId) => readMonitoringReference(await (await parts.archive()).open(versionId)),
    versionEmbedding: async (versionId) => embeddingReferenceOf(await readMonitoringReferenceFile(await (await parts.archive()).open(versionId))),
    versionReviewReference: async (versionId) => {
      const dir = await (await parts.archive()).open(versionId);
      return reviewReferenceOf(await readMonitoringReferenceFile(dir), await readManifestMetrics(dir));
    },
    hasher: nodeHasher,
    clock: systemClock,
    recordAudit: parts.recordAudit,
    auditSearch: parts.auditSearch,
    reviews: parts.stores.worklist,
    notify: (notice) => notices.notify(notice),
    logger,
    settings: monitoringSettingsOf(config, parts.sites),
    newId,
    designPlan: designPlanOnWorker,
  });
  const incidents = new Incidents({
    incidents: parts.stores.incidents,
    alerts: parts.stores.monitor,
    recordAudit: parts.recordAudit,
    notify: (notice) => notices.notify(notice),
    hasher: nodeHasher,
    newId,
    clock: systemClock,
    pause: async (actor, site, reason) => (await parts.releases()).pause(actor, site, reason),
    rollback: async (actor, site) => (await parts.releases()).rollback(actor, site),
    userById: parts.userById,
  });
  return {
    monitoring,
    incidents,
    metricLines: () => monitorMetricLines(monitoring, parts.stores.incidents),
    notified: async () => notifier?.idle(),
    close: async () => notifier?.close(),
  };
}
