/**
 * An alert is never lost nor doubled (docs/monitoring.md, "An alert is never lost"): the alerts of a
 * replay are stored, filed and audited before the state's compare-and-set, idempotently under their
 * deterministic ids. A fault injected once at each step between them (a store or audit call that throws)
 * leaves, after the next study advances the monitors again, exactly the alerts, incident links and
 * audit entries of a run without the fault.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import { SeededRandom } from '../../src/domain/evaluation/random.js';
import { createSteppingClock } from '../../src/ports/audit-log.contract.js';
import type { MonitorStore } from '../../src/ports/monitor-store.js';
import { imageMeasures, openMonitoring, SITE, V2, type MonitoringStores } from '../fixtures/monitoring/open-monitoring.js';
import { sqliteMonitoringStores } from '../fixtures/monitoring/sqlite-monitoring-stores.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sqliteStores = (): MonitoringStores => sqliteMonitoringStores(cleanups, 'vigil-monitoring-dur-');

type Fault = 'putAlert' | 'setAlertIncident' | 'recordAudit' | 'compareAndSetState';

/** The monitor store, throwing once at `fault` after the first alert is stored (the store write itself then succeeded or not, as a crash would leave it). */
function faulty(store: MonitorStore, fault: Fault, armed: { on: boolean }): MonitorStore {
  const once = <T>(name: Fault, call: () => Promise<T>, after: boolean): Promise<T> => {
    if (!armed.on || name !== fault) return call();
    armed.on = false;
    // Fail after the write (the process died before the next step) for writes; before it for the state.
    return after ? call().then(() => Promise.reject(new Error(`injected after ${name}`))) : Promise.reject(new Error(`injected at ${name}`));
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'putAlert') return (a: Parameters<MonitorStore['putAlert']>[0]) => once('putAlert', () => target.putAlert(a), true);
      if (prop === 'setAlertIncident') return (id: string, inc: string) => once('setAlertIncident', () => target.setAlertIncident(id, inc), true);
      if (prop === 'compareAndSetState')
        return (s: Parameters<MonitorStore['compareAndSetState']>[0]) => once('compareAndSetState', () => target.compareAndSetState(s), false);
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Baseline 300, 100 in control, then 150 images with the noise shifted: several alarms, one incident. */
async function run(fault: Fault | null) {
  const stores = sqliteStores();
  const armed = { on: false };
  const monitor = fault === null ? stores.monitor : faulty(stores.monitor, fault, armed);
  const audit = stores.audit;
  const wrappedAudit = new Proxy(audit, {
    get(target, prop, receiver) {
      if (prop === 'append' && fault === 'recordAudit')
        return async (event: AuditEvent) => {
          if (armed.on && event.type === 'monitor_alert') {
            armed.on = false;
            throw new Error('injected at recordAudit');
          }
          return target.append(event);
        };
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const clock = createSteppingClock(Date.UTC(2026, 11, 7, 12), 60_000);
  const { monitoring } = await openMonitoring({ ...stores, monitor, audit: wrappedAudit }, clock);
  const random = new SeededRandom(7);
  let n = 0;
  const judge = (shift: { noise?: number } = {}) =>
    monitoring.recordJudged({
      site: SITE,
      versionId: V2,
      origin: 'production',
      caseId: `case-${n}`,
      studyKey: `sk-${n}`,
      images: [{ imageRef: `s${n}/i${n++}.dcm`, measures: imageMeasures(random, shift), device: { manufacturer: 'ACME', model: 'X1' } }],
    });
  for (let i = 0; i < 400; i++) await judge();
  armed.on = true;
  for (let i = 0; i < 150; i++) await judge({ noise: 2 });
  if (fault !== null) expect(armed.on, 'the fault was injected').toBe(false);
  const alerts = await stores.monitor.listAlerts({ site: SITE, versionId: V2, limit: 500 });
  const audited = (await stores.search.search({ type: 'monitor_alert', limit: 500 })).entries.map((e) => e.event);
  const incidents = await stores.incidents.list({ limit: 10 });
  const state = await stores.monitor.getState({ site: SITE, versionId: V2 });
  return { alerts, audited, incidents, state };
}

describe('an alert is never lost nor doubled', () => {
  it.each(['putAlert', 'setAlertIncident', 'recordAudit', 'compareAndSetState'] as const)(
    'a failure after %s: the next advance completes it, each alert stored, linked and audited once',
    async (fault) => {
      const clean = await run(null);
      const faulted = await run(fault);
      expect(clean.alerts.length).toBeGreaterThanOrEqual(2);
      // The same alert ids at the same cases, as without the fault.
      const ids = (r: typeof clean) => r.alerts.map((a) => [a.alertId, a.alert.detector, a.alarmSeq]).sort();
      expect(ids(faulted)).toEqual(ids(clean));
      // Each linked to the deployment's one incident, whose timeline holds each alert once.
      expect(faulted.incidents).toHaveLength(1);
      const incident = faulted.incidents[0]!;
      for (const a of faulted.alerts) expect(a.incidentId).toBe(incident.incidentId);
      expect([...incident.alertIds].sort()).toEqual(faulted.alerts.map((a) => a.alertId).sort());
      // Audited once each.
      const auditedIds = faulted.audited.flatMap((e) => (e.type === 'monitor_alert' ? [e.alertId] : []));
      expect(auditedIds.sort()).toEqual(faulted.alerts.map((a) => a.alertId).sort());
      // And the state consumed every case.
      expect(faulted.state?.lastSeq).toBe(clean.state?.lastSeq);
    },
    60_000,
  );
});
