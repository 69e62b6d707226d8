/**
 * Acquisition metadata as monitor signals in the server (issue 12 §1, "Inputs"): each judged image's
 * acquisition record is stored with its monitor case, the baseline's records design indicator signals
 * (acquisition-signals.ts) that join the plan, and a new software version raises an alert that says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/domain/evaluation/random.js';
import { createSteppingClock } from '../../src/ports/audit-log.contract.js';
import { imageMeasures, openMonitoring, SITE, V2, type MonitoringStores } from '../fixtures/monitoring/open-monitoring.js';
import { sqliteMonitoringStores } from '../fixtures/monitoring/sqlite-monitoring-stores.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sqliteStores = (): MonitoringStores => sqliteMonitoringStores(cleanups, 'vigil-monitoring-acq-');

describe('acquisition metadata', () => {
  it('is stored with each case, watched from the baseline, and a new software version raises an alert naming it', async () => {
    const stores = sqliteStores();
    const clock = createSteppingClock(Date.UTC(2026, 11, 7, 12), 60_000);
    const { monitoring } = await openMonitoring(stores, clock);
    const random = new SeededRandom(9);
    let n = 0;
    const judge = (softwareVersion: string) =>
      monitoring.recordJudged({
        site: SITE,
        versionId: V2,
        origin: 'production',
        caseId: `case-${n}`,
        studyKey: `sk-${n}`,
        images: [
          {
            imageRef: `s${n}/i${n++}.dcm`,
            measures: imageMeasures(random),
            device: { manufacturer: 'ACME', model: 'X1' },
            // Two views in the baseline; the software version is one (v1), then an upgrade (v2).
            acquisition: { manufacturer: 'ACME', manufacturerModel: 'X1', softwareVersion, view: n % 3 === 0 ? 'AP' : 'PA' },
          },
        ],
      });
    for (let i = 0; i < 350; i++) expect(await judge('v1')).toEqual([]);
    const key = { site: SITE, versionId: V2 };
    const cases = await stores.monitor.readCases(key, 0, 1);
    expect(cases[0]?.acquisition).toEqual({ manufacturer: 'ACME', manufacturerModel: 'X1', softwareVersion: 'v1', view: 'PA' });
    const plan = await monitoring.plan(key);
    // The fields the baseline states, each watched; the unstated ones (kVp, …) are not.
    const names = plan!.plan.signals.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'acquisition.manufacturer:other',
        'acquisition.manufacturerModel:other',
        'acquisition.softwareVersion:other',
        'acquisition.view=pa',
        'acquisition.view=ap',
        'acquisition.view:other',
      ]),
    );
    expect(names.some((x) => x.startsWith('acquisition.kvp'))).toBe(false);
    expect(plan!.plan.detectors.length).toBeGreaterThan(16);
    const alerts = [];
    for (let i = 0; i < 60; i++) alerts.push(...(await judge('v2')));
    const first = alerts[0];
    expect(first?.alert.detector).toBe('acquisition.softwareVersion:other:up');
    expect(first?.alert.label).toBe('software version other than “v1”');
    expect(first!.alarmSeq - cases[0]!.seq - 350).toBeLessThan(20);
    expect(first?.exampleCaseIds.length).toBeGreaterThan(0);
    // The detail serves the acquisition detectors with the others.
    const detail = await monitoring.detail(SITE, 'cases50');
    expect(detail.plan?.detectors.some((d) => d.id === 'acquisition.softwareVersion:other:up')).toBe(true);
  });

  it('without acquisition records in the baseline, the plan is the default signals only', async () => {
    const stores = sqliteStores();
    const { monitoring } = await openMonitoring(stores, createSteppingClock(Date.UTC(2026, 11, 7, 12), 60_000));
    const random = new SeededRandom(4);
    for (let n = 0; n < 300; n++)
      await monitoring.recordJudged({
        site: SITE,
        versionId: V2,
        origin: 'production',
        caseId: `c${n}`,
        studyKey: `s${n}`,
        images: [{ imageRef: `i${n}`, measures: imageMeasures(random), device: null }],
      });
    const plan = await monitoring.plan({ site: SITE, versionId: V2 });
    expect(plan!.plan.detectors).toHaveLength(16);
    expect(plan!.stored.acquisitionNote).toMatch(/no acquisition field/);
    expect((await monitoring.detail(SITE, 'cases50')).plan?.acquisitionNote).toMatch(/no acquisition field/);
  });
});
