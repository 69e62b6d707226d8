/**
 * Performance from reviews in the server (issue 12 §1): reviews recorded on the real worklist, joined
 * with the deployment's monitor cases, each image weighted by 1 / the probability it was reviewed,
 * served by GET /api/monitoring/{site} as `performance` (here through the workflow the route calls).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteCaseStore } from '../../src/adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteWorklistStore } from '../../src/adapters/store-sqlite/sqlite-worklist-store.js';
import { SeededRandom } from '../../src/domain/evaluation/random.js';
import { labelFreePerformance, type LabelFreeCase } from '../../src/domain/monitoring/label-free-performance.js';
import { reviewedPerformance, type ReviewedCase } from '../../src/domain/monitoring/reviewed-performance.js';
import { monitoringDetailSchema } from '../../src/http/contract.js';
import { createSteppingClock } from '../../src/ports/audit-log.contract.js';
import type { WorklistReason } from '../../src/domain/review/worklist.js';
import { imageMeasures, openMonitoring, singleImageWorklistItem, SITE, V2, type MonitoringStores } from '../fixtures/monitoring/open-monitoring.js';
import { sqliteMonitoringStores } from '../fixtures/monitoring/sqlite-monitoring-stores.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function sqliteStores(): MonitoringStores & { readonly worklist: SqliteWorklistStore; readonly cases: SqliteCaseStore } {
  const stores = sqliteMonitoringStores(cleanups, 'vigil-monitoring-perf-');
  return {
    ...stores,
    worklist: new SqliteWorklistStore(stores.db, createSteppingClock(Date.UTC(2026, 11, 7, 14))),
    cases: new SqliteCaseStore(stores.db, createSteppingClock(Date.UTC(2026, 11, 7, 14))),
  };
}

describe('performance from reviews', () => {
  it("weights each reviewed image by 1 / the probability it was reviewed with (kept with its item; today's rate for an item without) and serves the rates with intervals", async () => {
    const stores = sqliteStores();
    const clock = createSteppingClock(Date.UTC(2026, 11, 7, 12), 1_000);
    const { monitoring } = await openMonitoring(stores, clock);
    const random = new SeededRandom(21);
    const expected: ReviewedCase[] = [];
    const judged: LabelFreeCase[] = [];
    let sampled = 0;
    for (let n = 0; n < 400; n++) {
      const measures = imageMeasures(random);
      await monitoring.recordJudged({
        site: SITE,
        versionId: V2,
        origin: 'production',
        caseId: `case-${n}`,
        studyKey: `sk-${n}`,
        images: [{ imageRef: `s${n}/i${n}.dcm`, measures, device: null }],
      });
      judged.push({
        decision: measures.status !== 'decided' ? 'none' : (measures.decision ?? 'none'),
        probability: measures.status === 'decided' ? (measures.probability ?? Number.NaN) : Number.NaN,
      });
      // The worklist's rule: rejected, warned or referred always; a confident decision when sampled (every 10th here).
      const reasons: WorklistReason[] = [];
      if (measures.gateVerdict === 'reject') reasons.push('gate_rejected');
      if (measures.gateVerdict === 'warn') reasons.push('gate_warned');
      if (measures.status === 'decided' && measures.decision === 'refer') reasons.push('model_referred');
      if (reasons.length === 0 && n % 10 === 0) reasons.push('random_sample');
      if (reasons.length === 0) continue;
      const itemId = `case-${n}#study`;
      // The rate each item was sampled at, kept with it: 0.1 for the first cases (a rate since lowered to
      // today's 0.05), none kept for the next (items stored before it was: today's rate is assumed), then 0.05.
      const kept = reasons[0] === 'random_sample' ? (n < 150 ? 0.1 : n < 250 ? null : 0.05) : n < 150 ? null : 1;
      // The judged case the item belongs to (the worklist refers to it).
      await stores.cases.save({
        caseId: `case-${n}`,
        studyKey: `sk-${n}`,
        model: { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) },
        instances: 1,
        results: [],
      });
      await stores.worklist.addItems([singleImageWorklistItem(n, reasons, kept)]);
      // The reader: the truth drawn from the probability (a calibrated model); every 7th read cannot tell.
      const p = measures.status === 'decided' ? (measures.probability ?? 0.5) : 0.5;
      const findingPresent = n % 7 === 3 ? null : random.nextFloat() < p;
      await stores.worklist.recordReview(itemId, 'u-1', { findingPresent, imageQualityAdequate: true, agreesWithModel: null, comment: '' });
      if (findingPresent === null) continue;
      if (reasons[0] === 'random_sample') sampled++;
      expected.push({
        decision: measures.status !== 'decided' ? 'none' : (measures.decision ?? 'none'),
        probability: measures.status === 'decided' ? (measures.probability ?? Number.NaN) : Number.NaN,
        findingPresent,
        inclusionProbability: reasons[0] === 'random_sample' ? (kept ?? 0.05) : 1,
      });
    }
    expect(sampled).toBeGreaterThan(10);
    const detail = await monitoring.detail(SITE, 'cases50');
    // What the route serves parses under the contract.
    expect(() => monitoringDetailSchema.parse(detail)).not.toThrow();
    const perf = detail.performance;
    expect(perf.reviews).toBe(expected.length);
    expect(perf.reviewed).toBe(expected.length);
    const truth = reviewedPerformance(expected);
    for (const name of ['sensitivity', 'specificity', 'ppv', 'npv', 'prevalence', 'referRate'] as const) {
      expect(perf.rates?.[name].estimate, name).toBeCloseTo(truth[name].estimate, 12);
      expect(perf.rates?.[name].low, name).toBeCloseTo(truth[name].low, 12);
      expect(perf.rates?.[name].high, name).toBeCloseTo(truth[name].high, 12);
    }
    expect(perf.calibration?.ece).toBeCloseTo(truth.calibration.ece, 12);
    // The weights matter: a sampled confident case counts 20 times (1 / 0.05), so the estimate differs from the unweighted one.
    const unweighted = reviewedPerformance(expected.map((c) => ({ ...c, inclusionProbability: 1 })));
    expect(perf.rates?.specificity.estimate).not.toBeCloseTo(unweighted.specificity.estimate, 6);
    // And the kept rate matters: weighting every sampled read by today's rate gives another estimate.
    const todays = reviewedPerformance(expected.map((c) => (c.inclusionProbability < 1 ? { ...c, inclusionProbability: 0.05 } : c)));
    expect(perf.rates?.specificity.estimate).not.toBeCloseTo(todays.specificity.estimate, 6);
    expect(perf.reviewMonitors).toMatchObject({ included: false });
    // The label-free estimate, over every judged image (reviewed or not), with what it assumes.
    const cbpe = labelFreePerformance(judged);
    expect(perf.labelFree.decided).toBe(cbpe.decided);
    for (const name of ['sensitivity', 'specificity', 'ppv', 'npv', 'prevalence'] as const) {
      expect(perf.labelFree.rates[name].estimate, name).toBeCloseTo(cbpe[name].estimate, 12);
      expect(perf.labelFree.rates[name].low, name).toBeCloseTo(cbpe[name].low, 12);
    }
    expect(perf.labelFree.assumption).toMatch(/calibrated/);
  });

  it('reports no rates before any review', async () => {
    const stores = sqliteStores();
    const { monitoring } = await openMonitoring(stores, createSteppingClock(Date.UTC(2026, 11, 7, 12), 1_000));
    await monitoring.recordJudged({
      site: SITE,
      versionId: V2,
      origin: 'production',
      caseId: 'c0',
      studyKey: 'sk0',
      images: [{ imageRef: 's0/i0.dcm', measures: imageMeasures(new SeededRandom(1)), device: null }],
    });
    const detail = await monitoring.detail(SITE, 'cases50');
    expect(detail.performance).toMatchObject({ reviews: 0, reviewed: 0, rates: null, calibration: null, sampleRate: 0.05 });
  });
});
