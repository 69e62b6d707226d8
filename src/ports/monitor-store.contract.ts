/**
 * The behaviour every `MonitorStore` and `IncidentStore` must show, written once and run against each
 * backend (STYLE.md, "Contract suites"). The fixture gives two of each on one database, as two servers'.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openIncident } from '../domain/incident/incident.js';
import type { IncidentStore } from './incident-store.js';
import type { MonitorStore, NewMonitorCase, StoredAlert, StoredMonitorPlan, StoredMonitorState } from './monitor-store.js';

export interface MonitorStoreFixture {
  readonly store: MonitorStore;
  readonly second: MonitorStore;
  readonly incidents: IncidentStore;
  readonly secondIncidents: IncidentStore;
  dispose(): void | Promise<void>;
}

const v = (n: number): string => n.toString(16).padStart(64, '0');
const at = (s: number): string => new Date(Date.UTC(2026, 11, 7, 12, 0, s)).toISOString();
const north = { site: 'north', versionId: v(1) };

function monitorCase(n: number, overrides: Partial<NewMonitorCase> = {}): NewMonitorCase {
  return {
    site: 'north',
    versionId: v(1),
    origin: 'production',
    caseId: `case-${n}`,
    imageRef: `study/${n}.dcm`,
    studyKey: `sk-${n}`,
    timeMs: Date.UTC(2026, 11, 7, 12, 0, n),
    device: n % 2 === 0 ? { manufacturer: 'ACME', model: null } : null,
    // Values a JSON round trip must keep exactly, NaN (none) included.
    values: [0.1 + 0.2, 1, Number.NaN, 0, 1, 1 / 3, 2.5e-300, 1e21, -0, n],
    ...overrides,
  };
}

export function describeMonitorStore(name: string, factory: () => MonitorStoreFixture | Promise<MonitorStoreFixture>): void {
  describe(`MonitorStore and IncidentStore contract: ${name}`, () => {
    let fixture: MonitorStoreFixture | undefined;
    const open = async (): Promise<MonitorStoreFixture> => (fixture = await factory());
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('appends cases in seq order per deployment, once per case and image, with their values exactly', async () => {
      const { store, second } = await open();
      await store.appendCases([monitorCase(1), monitorCase(2)]);
      await second.appendCases([monitorCase(2), monitorCase(3, { versionId: v(2), origin: 'canary' }), monitorCase(4)]);
      const cases = await second.readCases(north, 0, 10);
      expect(cases.map((c) => c.caseId)).toEqual(['case-1', 'case-2', 'case-4']);
      expect(cases[0]).toMatchObject({
        origin: 'production',
        device: null,
        studyKey: 'sk-1',
        imageRef: 'study/1.dcm',
        timeMs: Date.UTC(2026, 11, 7, 12, 0, 1),
      });
      expect(cases[1]?.device).toEqual({ manufacturer: 'ACME', model: null });
      expect(cases[0]?.values).toEqual([0.1 + 0.2, 1, Number.NaN, 0, 1, 1 / 3, 2.5e-300, 1e21, 0, 1]);
      const seqs = cases.map((c) => c.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect((await store.readCases(north, seqs[0]!, 1)).map((c) => c.caseId)).toEqual(['case-2']);
      expect(await store.countCases(north)).toBe(3);
      expect(await store.countCases({ site: 'north', versionId: v(2) })).toBe(1);
      expect((await store.latestCases(north, 2)).map((c) => c.caseId)).toEqual(['case-2', 'case-4']);
      const ranged = await store.queryCases(north, { fromMs: Date.UTC(2026, 11, 7, 12, 0, 2), toMs: Date.UTC(2026, 11, 7, 12, 0, 4), limit: 1 });
      expect(ranged.map((c) => c.caseId)).toEqual(['case-2']);
      const page2 = await store.queryCases(north, { fromMs: Date.UTC(2026, 11, 7, 12, 0, 2), afterSeq: ranged[0]!.seq, limit: 5 });
      expect(page2.map((c) => c.caseId)).toEqual(['case-4']);
      // A chart point's cases: after its first seq − 1, through its last.
      const all = await store.readCases(north, 0, 10);
      const through = await store.queryCases(north, { afterSeq: all[0]!.seq - 1, throughSeq: all[1]!.seq, limit: 10 });
      expect(through.map((c) => c.seq)).toEqual([all[0]!.seq, all[1]!.seq]);
      expect(await store.listKeys()).toEqual([north, { site: 'north', versionId: v(2) }]);
    });

    it("sets a site's baseline start once, after its newest case then (migration 19), and counts a deployment's cases after a seq", async () => {
      const { store, second } = await open();
      expect(await store.getBaselineStart('north')).toBeUndefined();
      // Nothing recorded at the site yet: its baselines begin with its first case.
      expect(await store.startBaseline('south', new Date(Date.UTC(2026, 11, 7, 12)))).toBe(0);
      await store.appendCases([monitorCase(1), monitorCase(2, { versionId: v(2), origin: 'canary' }), monitorCase(3, { site: 'south' })]);
      const [c1, c2] = [...(await store.readCases(north, 0, 10)), ...(await store.readCases({ site: 'north', versionId: v(2) }, 0, 10))];
      // The newest case of any of the site's deployments (here the canary's), not of another site.
      const start = await second.startBaseline('north', new Date(Date.UTC(2026, 11, 7, 12)));
      expect(start).toBe(Math.max(c1!.seq, c2!.seq));
      await store.appendCases([monitorCase(4), monitorCase(5)]);
      // Once: a second call keeps the first start, and both connections read it.
      expect(await store.startBaseline('north', new Date(Date.UTC(2026, 11, 8)))).toBe(start);
      expect([await store.getBaselineStart('north'), await second.getBaselineStart('north'), await second.getBaselineStart('south')]).toEqual([
        start,
        start,
        0,
      ]);
      expect(await store.countCases(north)).toBe(3);
      expect(await store.countCases(north, start)).toBe(2);
      expect((await store.readCases(north, start, 10)).map((c) => c.caseId)).toEqual(['case-4', 'case-5']);
    });

    it("keeps each case's acquisition record (migration 17), null when none was recorded", async () => {
      const { store, second } = await open();
      const acquisition = { manufacturer: 'ACME', manufacturerModel: 'X1', softwareVersion: 'v2.1', kvp: 84, pixelSpacing: [0.143, 0.143], bodyPart: null };
      await store.appendCases([monitorCase(1, { acquisition }), monitorCase(2)]);
      const cases = await second.readCases(north, 0, 10);
      expect(cases.map((c) => c.acquisition)).toEqual([acquisition, null]);
      expect((await store.latestCases(north, 1))[0]?.acquisition).toBeNull();
    });

    it("keeps each case's embedding summary bit for bit (migration 18), null when it has none", async () => {
      const { store, second } = await open();
      // float32 values a lossy encoding would change: a subnormal, -0, the largest float32, a long fraction.
      const summary = Float32Array.from([Math.fround(0.1), -0, 1.401298464324817e-45, 3.4028234663852886e38, Math.fround(-1 / 3), 0, 7, Math.fround(1e-7)]);
      await store.appendCases([monitorCase(1, { embedding: summary }), monitorCase(2), monitorCase(3, { embedding: null })]);
      const cases = await second.readCases(north, 0, 10);
      const stored = cases[0]?.embedding;
      expect(stored).toBeInstanceOf(Float32Array);
      expect(new Uint8Array(stored!.buffer, stored!.byteOffset, stored!.byteLength)).toEqual(new Uint8Array(summary.buffer));
      expect(Object.is(stored![1], -0)).toBe(true);
      expect(cases.slice(1).map((c) => c.embedding)).toEqual([null, null]);
      expect(Array.from((await store.latestCases(north, 3))[0]!.embedding!)).toEqual(Array.from(summary));
      expect((await store.queryCases(north, { limit: 1 }))[0]?.embedding?.length).toBe(8);
    });

    it("keeps review events in the stream once (migration 21), counted by the detectors only, and finds a case's images", async () => {
      const { store, second } = await open();
      const nan = monitorCase(0).values.map(() => Number.NaN);
      const review = (n: number, wrong: 0 | 1): NewMonitorCase =>
        monitorCase(n, { imageRef: `review:study/${n}.dcm`, values: nan, review: { stratum: 'reviewWrong:confidentPositive', wrong } });
      await store.appendCases([monitorCase(1), monitorCase(2)]);
      await second.appendCases([review(1, 1)]);
      await store.appendCases([monitorCase(3), review(1, 0), review(2, 0)]); // review(1) again: kept once, as first recorded
      const stream = await second.readCases(north, 0, 10);
      expect(stream.map((c) => [c.caseId, c.review?.wrong ?? null])).toEqual([
        ['case-1', null],
        ['case-2', null],
        ['case-1', 1],
        ['case-3', null],
        ['case-2', 0],
      ]);
      expect(stream[2]).toMatchObject({ imageRef: 'review:study/1.dcm', review: { stratum: 'reviewWrong:confidentPositive', wrong: 1 } });
      expect(stream[2]!.values.every((x) => Number.isNaN(x))).toBe(true);
      expect((await store.readCases(north, 0, 10, { imagesOnly: true })).map((c) => c.caseId)).toEqual(['case-1', 'case-2', 'case-3']);
      expect(await store.countCases(north)).toBe(3);
      expect((await store.latestCases(north, 2)).map((c) => c.caseId)).toEqual(['case-2', 'case-3']);
      expect((await store.queryCases(north, { limit: 10 })).every((c) => c.review === null)).toBe(true);
      await store.appendCases([monitorCase(1, { versionId: v(2), imageRef: 'study/1b.dcm' })]);
      expect((await second.caseImages('case-1')).map((c) => [c.versionId, c.imageRef])).toEqual([
        [v(1), 'study/1.dcm'],
        [v(2), 'study/1b.dcm'],
      ]);
      expect(await second.caseImages('case-9')).toEqual([]);
    });

    it('keeps the first plan of a deployment, and advances a state only over the revision it was made from', async () => {
      const { store, second } = await open();
      const plan: StoredMonitorPlan = {
        ...north,
        planHash: 'h1',
        plan: '{"p":1}',
        reference: { kind: 'baseline', cases: 500, lastSeq: 500 },
        designMs: 12,
        createdAt: at(1),
      };
      expect(await store.getPlan(north)).toBeUndefined();
      expect(await store.putPlan(plan)).toBe(true);
      expect(await second.putPlan({ ...plan, planHash: 'h2' })).toBe(false);
      expect(await second.getPlan(north)).toEqual(plan);
      const first: StoredMonitorState = { ...north, planHash: 'h1', state: '{"cases":1}', lastSeq: 7, revision: 1, updatedAt: at(2) };
      expect(await store.compareAndSetState(first)).toBe(true);
      expect(await second.compareAndSetState({ ...first, state: '{"cases":2}' })).toBe(false);
      expect(await second.getState(north)).toEqual(first);
      // Two servers advance the same state: one wins; the loser reloads.
      expect(await store.compareAndSetState({ ...first, lastSeq: 9, revision: 2, updatedAt: at(3) })).toBe(true);
      expect(await second.compareAndSetState({ ...first, lastSeq: 8, revision: 2, updatedAt: at(3) })).toBe(false);
      expect((await second.getState(north))?.lastSeq).toBe(9);
    });

    it('stores an alert once per id, links its incident, and lists alerts newest first', async () => {
      const { store, second } = await open();
      const alert: StoredAlert = {
        alertId: 'al-1',
        ...north,
        planHash: 'h1',
        alarmSeq: 40,
        alert: {
          detector: 'noise:up',
          signal: 'noise',
          label: 'noise',
          direction: 'up',
          alarmCase: 39,
          windowStartCase: 30,
          windowStartTime: null,
          alarmTime: Date.UTC(2026, 11, 7),
          runLength: 40,
          statistic: 9.5,
          threshold: 9.1,
          arl0: Number.POSITIVE_INFINITY,
          effect: { kind: 'mean-normal-score', value: 1.2, cases: 10 },
          contributors: [{ detector: 'std:up', label: 'std', fractionOfThreshold: 0.5 }],
        },
        devices: [{ manufacturer: 'ACME', model: null, cases: 10 }],
        exampleCaseIds: ['case-3'],
        incidentId: null,
        createdAt: at(1),
      };
      expect(await store.putAlert(alert)).toBe(true);
      expect(await second.putAlert(alert)).toBe(false);
      await store.putAlert({ ...alert, alertId: 'al-2', site: 'east', createdAt: at(2) });
      await second.setAlertIncident('al-1', 'inc-1');
      expect(await second.getAlert('al-1')).toEqual({ ...alert, incidentId: 'inc-1' });
      expect((await store.listAlerts({ limit: 10 })).map((a) => a.alertId)).toEqual(['al-2', 'al-1']);
      expect((await store.listAlerts({ site: 'north', versionId: v(1), limit: 10 })).map((a) => a.alertId)).toEqual(['al-1']);
      expect(await store.listAlerts({ site: 'north', versionId: v(2), limit: 10 })).toEqual([]);
    });

    it('keeps at most one unresolved incident per deployment, changed by compare-and-set', async () => {
      const { incidents, secondIncidents } = await open();
      const ref = { alertId: 'al-1', detector: 'noise:up', signal: 'noise', label: 'noise', at: at(1) };
      const a = openIncident('inc-a', 'north', v(1), ref);
      expect(await incidents.create(a)).toBe(true);
      // A second server opening one for the same deployment at once is refused: it joins the first.
      expect(await secondIncidents.create(openIncident('inc-b', 'north', v(1), ref))).toBe(false);
      expect(await secondIncidents.openFor('north', v(1))).toEqual(a);
      expect(await secondIncidents.openFor('north', v(2))).toBeUndefined();
      const acked = { ...a, state: 'acknowledged' as const, revision: 2 };
      expect(await incidents.compareAndSet(acked)).toBe(true);
      expect(await secondIncidents.compareAndSet({ ...a, owner: 'x', revision: 2 })).toBe(false);
      expect(await incidents.countOpen()).toEqual({ medium: 1, high: 0 });
      const resolved = { ...acked, state: 'resolved' as const, revision: 3, postmortem: 'p', resolvedAt: at(5) };
      expect(await secondIncidents.compareAndSet(resolved)).toBe(true);
      expect(await incidents.openFor('north', v(1))).toBeUndefined();
      // Resolved: the deployment's next alert opens a new incident.
      const c = openIncident('inc-c', 'north', v(1), { ...ref, signal: 'probability', at: at(6) });
      expect(await incidents.create(c)).toBe(true);
      expect(await incidents.countOpen()).toEqual({ medium: 0, high: 1 });
      expect((await secondIncidents.list({ limit: 10 })).map((i) => i.incidentId)).toEqual(['inc-c', 'inc-a']);
      expect((await secondIncidents.list({ state: 'resolved', limit: 10 })).map((i) => i.incidentId)).toEqual(['inc-a']);
      expect(await secondIncidents.list({ site: 'east', limit: 10 })).toEqual([]);
      expect(await incidents.get('inc-a')).toEqual(resolved);
      expect(await incidents.get('inc-zz')).toBeUndefined();
    });
  });
}
