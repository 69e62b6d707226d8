/**
 * Go-live (`DeploymentMonitoring.startBaseline`): a site's production baseline begins after the cases
 * judged before it, so commissioning traffic — here a burst of images the gate refuses, as the demo's
 * seeded DICOM samples are — is neither the monitors' reference nor watched.
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

const key = { site: SITE, versionId: V2 };

/** 20 refused images first (when `commissioning`), go-live (when `goLive`), then 300 in control. */
async function run(options: { readonly commissioning: boolean; readonly goLive: boolean }) {
  const stores: MonitoringStores = sqliteMonitoringStores(cleanups, 'vigil-monitoring-golive-');
  const { monitoring } = await openMonitoring(stores, createSteppingClock(Date.UTC(2026, 11, 7, 12), 60_000));
  const random = new SeededRandom(21);
  let n = 0;
  const judge = (measures: ReturnType<typeof imageMeasures>) =>
    monitoring.recordJudged({
      site: SITE,
      versionId: V2,
      origin: 'production',
      caseId: `case-${n}`,
      studyKey: `sk-${n}`,
      images: [{ imageRef: `s${n}/i${n++}.dcm`, measures, device: null }],
    });
  if (options.commissioning) {
    for (let i = 0; i < 20; i++) {
      const { status: _s, gateVerdict: _g, ...features } = imageMeasures(random);
      await judge({ status: 'rejected', gateVerdict: 'reject', ...features });
    }
  }
  const before = (await monitoring.overview())[0]?.baseline;
  const start = options.goLive ? await monitoring.startBaseline(SITE) : 0;
  const after = (await monitoring.overview())[0]?.baseline;
  const stream = new SeededRandom(5);
  for (let i = 0; i < 300; i++) await judge(imageMeasures(stream));
  return { monitoring, stores, before, after, start, plan: await monitoring.plan(key) };
}

describe('go-live: where a production baseline begins', () => {
  it('leaves the cases judged before it out of the baseline: the plan is the one designed without them', async () => {
    const marked = await run({ commissioning: true, goLive: true });
    const clean = await run({ commissioning: false, goLive: false });
    const unmarked = await run({ commissioning: true, goLive: false });
    // "collecting baseline n/N" counts from go-live.
    expect([marked.before, marked.after]).toEqual([
      { collected: 20, needed: 300 },
      { collected: 0, needed: 300 },
    ]);
    const first = (await marked.stores.monitor.readCases(key, 0, 1))[0]!;
    expect(marked.start).toBe(first.seq + 19);
    expect(marked.plan?.stored.reference).toEqual({ kind: 'baseline', cases: 300, lastSeq: marked.start + 300 });
    // The same reference values give the same plan; with the 20 refused images in it, the gate's reference reject rate moves.
    expect(marked.plan?.stored.plan).toEqual(clean.plan?.stored.plan);
    expect(unmarked.plan?.stored.plan).not.toEqual(clean.plan?.stored.plan);
    // Once per site: a second go-live keeps the first mark.
    expect(await marked.monitoring.startBaseline(SITE)).toBe(marked.start);
  }, 120_000);
});
