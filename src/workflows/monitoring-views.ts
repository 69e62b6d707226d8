import { REVIEW_STRATA } from '../domain/monitoring/case-signals.js';
import type { MonitorAlert } from '../domain/monitoring/deployment-monitors.js';
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
    summary: alertSummaryOf(a.alert),
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

/**
 * A rate as a reader says it: whole percents from 10 %, one decimal from 1 %, two significant digits
 * below (a reference rate of 0.05 % is not "0.0%"), and 0 as 0 %.
 */
export function percent(x: number): string {
  const p = 100 * x;
  if (p >= 10) return `${p.toFixed(0)}%`;
  if (p >= 1) return `${p.toFixed(1)}%`;
  return p > 0 ? `${Number(p.toPrecision(2))}%` : '0%';
}

/**
 * One sentence a clinician can read: for a review detector the reviewed decisions found wrong over the
 * window beside the reference rate ("confident positives reviewed wrong: 5 of 29 in the window, reference
 * 2.0%"); for another rate the rate over the window's images; for a continuous signal the shift in
 * reference standard deviations.
 *
 * @example alertSummaryOf(alert) // 'confident positives reviewed wrong: 5 of 29 in the window, reference 2.0%'
 */
export function alertSummaryOf(alert: MonitorAlert): string {
  const e = alert.effect;
  if (e.kind === 'mean-normal-score') {
    return `${alert.label} ${alert.direction}: mean ${e.value.toFixed(2)} reference SDs over ${e.cases} images in the window`;
  }
  if (e.kind === 'embedding-mmd') {
    return `${alert.label}: MMD² ${e.value.toPrecision(3)} between the last ${e.windowSize} images and the reference, above its threshold ${alert.threshold.toPrecision(3)}`;
  }
  if (REVIEW_STRATA.some((s) => s.name === alert.signal)) {
    return `${alert.label}: ${Math.round(e.observed * e.cases)} of ${e.cases} reviews in the window, reference ${percent(e.reference)}`;
  }
  return `${alert.label} ${alert.direction}: ${percent(e.observed)} of ${e.cases} images in the window, reference ${percent(e.reference)}`;
}
