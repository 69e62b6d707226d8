import type { StoredAlert } from '../ports/monitor-store.js';

export type { MonitoringNotice } from '../ports/monitor-notices.js';

/** An alert as the API shows it (contract: monitorAlertSchema). */
export function alertView(a: StoredAlert) {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    alertId: a.alertId,
    site: a.site,
    versionId: a.versionId,
    detector: a.alert.detector,
    signal: a.alert.signal,
    label: a.alert.label,
    direction: a.alert.direction,
    statistic: a.alert.statistic,
    threshold: a.alert.threshold,
    arl0: Number.isFinite(a.alert.arl0) ? a.alert.arl0 : null,
    runLength: a.alert.runLength,
    effect: a.alert.effect,
    window: {
      startCase: a.alert.windowStartCase,
      alarmCase: a.alert.alarmCase,
      alarmSeq: a.alarmSeq,
      startAt: iso(a.alert.windowStartTime),
      alarmAt: iso(a.alert.alarmTime),
    },
    contributors: a.alert.contributors,
    devices: a.devices,
    exampleCaseIds: a.exampleCaseIds,
    incidentId: a.incidentId,
    createdAt: a.createdAt,
  };
}
