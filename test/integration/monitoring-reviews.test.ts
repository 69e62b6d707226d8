/**
 * Detection from reviews in the server (issue 12 §1; docs/monitoring.md, "Detection from reviews"): judged
 * images recorded for a deployment, reviews recorded through the real workflow (`recordReview`) on the real
 * worklist, each sampled confident decision's outcome fed to the deployment's stream as a review event, and
 * the review CUSUMs run by the same advance as every other detector — over real SQLite stores.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteJobQueue } from '../../src/adapters/store-sqlite/sqlite-job-queue.js';
import { SqliteCaseStore } from '../../src/adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteWorklistStore } from '../../src/adapters/store-sqlite/sqlite-worklist-store.js';
import { PlatformError } from '../../src/domain/errors.js';
import { SeededRandom } from '../../src/domain/evaluation/random.js';
import type { ImageMeasures } from '../../src/domain/monitoring/case-signals.js';
import { latticeCusumArl } from '../../src/domain/monitoring/cusum.js';
import type { IndicatorDetector } from '../../src/domain/monitoring/deployment-monitors.js';
import type { ReviewStratum } from '../../src/domain/monitoring/review-monitors.js';
import type { WorklistReason } from '../../src/domain/review/worklist.js';
import { monitoringDetailSchema } from '../../src/http/contract.js';
import { createSteppingClock } from '../../src/ports/audit-log.contract.js';
import { recordReview } from '../../src/workflows/record-review.js';
import { imageMeasures, openMonitoring, singleImageWorklistItem, SITE, TEST_SETTINGS, V2 } from '../fixtures/monitoring/open-monitoring.js';
import { sqliteMonitoringStores } from '../fixtures/monitoring/sqlite-monitoring-stores.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The demo model's val split: 7 of 377 confident positives and 3 of 119 confident negatives wrong (docs/monitoring.md). */
const STRATA: readonly ReviewStratum[] = [
  { name: 'reviewWrong:confidentPositive', label: 'confident positives reviewed wrong', referenceCases: 377, referenceWrong: 7, share: 377 / 524 },
  { name: 'reviewWrong:confidentNegative', label: 'confident negatives reviewed wrong', referenceCases: 119, referenceWrong: 3, share: 119 / 524 },
];
const SAMPLE_RATE = 0.2;
const BASELINE = 300;
/** The error rate of confident positives in control (p₀ of the reference), and after the shift: odds × 10 (the test split's ≈ 17 %). */
const P_CONTROL = 7 / 377;
const P_SHIFTED = (10 * P_CONTROL) / (1 - P_CONTROL + 10 * P_CONTROL);

async function setUp() {
  const stores = sqliteMonitoringStores(cleanups, 'vigil-monitoring-reviews-');
  const worklist = new SqliteWorklistStore(stores.db, createSteppingClock(Date.UTC(2026, 11, 7, 14)));
  const cases = new SqliteCaseStore(stores.db, createSteppingClock(Date.UTC(2026, 11, 7, 14)));
  const jobs = new SqliteJobQueue(stores.db, {
    clock: createSteppingClock(Date.UTC(2026, 11, 7, 14)),
    retry: { baseDelayMs: 1_000, maxDelayMs: 1_000 },
    defaultMaxAttempts: 1,
  });
  const clock = createSteppingClock(Date.UTC(2026, 11, 7, 12), 1_000);
  const opened = await openMonitoring({ ...stores, worklist }, clock, { ...TEST_SETTINGS, baselineCases: BASELINE, reviewSampleRate: SAMPLE_RATE }, true, {
    versionReviewReference: () => Promise.resolve({ kind: 'strata', strata: STRATA, source: 'test strata' }),
  });
  const review = (itemId: string, findingPresent: boolean | null) =>
    recordReview(
      {
        worklist,
        cases,
        jobs,
        recordAudit: (event) => stores.audit.append(event),
        resultDestinations: [],
        monitorReview: (r) => opened.monitoring.recordReviewed(r),
      },
      itemId,
      'u-1',
      { findingPresent, imageQualityAdequate: true, agreesWithModel: null, comment: '' },
    );
  /** Judges case n, puts it on the worklist as the worklist's rules would (sampled at the rate when confident), and returns its item. */
  const judge = async (n: number, measures: ImageMeasures, random: SeededRandom): Promise<{ itemId: string; reasons: WorklistReason[] } | undefined> => {
    await opened.monitoring.recordJudged({
      site: SITE,
      versionId: V2,
      origin: 'production',
      caseId: `case-${n}`,
      studyKey: `sk-${n}`,
      images: [{ imageRef: `s${n}/i${n}.dcm`, measures, device: null }],
    });
    const reasons: WorklistReason[] = [];
    if (measures.gateVerdict === 'reject') reasons.push('gate_rejected');
    if (measures.gateVerdict === 'warn') reasons.push('gate_warned');
    if (measures.status === 'decided' && measures.decision === 'refer') reasons.push('model_referred');
    if (reasons.length === 0 && random.nextFloat() < SAMPLE_RATE) reasons.push('random_sample');
    if (reasons.length === 0) return undefined;
    const itemId = `case-${n}#study`;
    await cases.save({ caseId: `case-${n}`, studyKey: `sk-${n}`, model: { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) }, instances: 1, results: [] });
    await worklist.addItems([singleImageWorklistItem(n, reasons, reasons.length === 1 && reasons[0] === 'random_sample' ? SAMPLE_RATE : 1)]);
    return { itemId, reasons };
  };
  return { stores, opened, review, judge };
}

/**
 * Runs `total` cases; from case `shiftAt` on, a confident positive is wrong with P_SHIFTED (before: P_CONTROL).
 * Every item is read: rule-sent ones always wrong (they must not feed the detectors), sampled ones by the stratum's rate.
 */
async function runStream(total: number, shiftAt: number, seed: number) {
  const ctx = await setUp();
  const random = new SeededRandom(seed);
  let positiveReviewsAfterShift = 0;
  let sampledConfident = 0;
  let alarmAfter: number | undefined;
  for (let n = 0; n < total; n++) {
    const measures = imageMeasures(random);
    const item = await ctx.judge(n, measures, random);
    if (item === undefined) continue;
    const decision = measures.status === 'decided' ? measures.decision : undefined;
    const sampled = item.reasons.length === 1 && item.reasons[0] === 'random_sample';
    let findingPresent: boolean;
    if (!sampled)
      findingPresent = decision !== 'positive'; // a rule-sent decision read as wrong: it must change nothing
    else if (decision === 'positive') findingPresent = random.nextFloat() >= (n >= shiftAt ? P_SHIFTED : P_CONTROL);
    else findingPresent = random.nextFloat() < 3 / 119;
    if (sampled) sampledConfident++;
    await ctx.review(item.itemId, findingPresent);
    if (sampled && decision === 'positive' && n >= shiftAt && alarmAfter === undefined) {
      positiveReviewsAfterShift++;
      const alerts = await ctx.stores.monitor.listAlerts({ site: SITE, limit: 100 });
      if (alerts.some((a) => a.alert.signal === 'reviewWrong:confidentPositive')) alarmAfter = positiveReviewsAfterShift;
    }
  }
  return { ...ctx, alarmAfter, sampledConfident };
}

describe('review detectors in the server', () => {
  it('designs the review CUSUMs into the plan and alarms on confident positives reviewed wrong (odds × 10) within the expected reviews', async () => {
    const { stores, opened, alarmAfter, sampledConfident, review } = await runStream(1_200, 400, 31);
    const detail = await opened.monitoring.detail(SITE, 'cases50');
    expect(() => monitoringDetailSchema.parse(detail)).not.toThrow();
    const detectors = detail.plan?.detectors ?? [];
    expect(detectors.map((d) => d.id)).toEqual(expect.arrayContaining(['reviewWrong:confidentPositive:up', 'reviewWrong:confidentNegative:up']));
    expect(detectors).toHaveLength(18);
    expect(detail.plan?.reviewNote).toBeNull();
    expect(detail.performance.reviewMonitors.included).toBe(true);
    // Review events are not images: the image count is the judged images'.
    expect(detail.status.cases).toBe(1_200);
    const stream = await stores.monitor.readCases({ site: SITE, versionId: V2 }, 0, 100_000);
    const events = stream.filter((c) => c.review !== null && c.review !== undefined);
    // One event per sampled confident review (rule-sent reads fed nothing).
    expect(events.length).toBe(sampledConfident);
    expect(stream.length).toBe(1_200 + sampledConfident);

    // The alarm, within 3 × the chart's expected delay in reviews at the shifted rate (the exact lattice ARL).
    const plan = await opened.monitoring.plan({ site: SITE, versionId: V2 });
    const det = plan!.plan.detectors.find((d) => d.id === 'reviewWrong:confidentPositive:up') as IndicatorDetector;
    const lattice = { step: det.step, up: Math.round(det.incrementOne / det.step), down: Math.round(-det.incrementZero / det.step) };
    const expectedReviews = latticeCusumArl(lattice, P_SHIFTED, Math.round(det.h / det.step + 0.5));
    expect(expectedReviews).toBeGreaterThan(5);
    expect(expectedReviews).toBeLessThan(100);
    expect(alarmAfter, `expected within ${3 * expectedReviews} reviews`).toBeDefined();
    expect(alarmAfter!).toBeLessThanOrEqual(3 * expectedReviews);

    // Output-level: a high-severity incident, and a sentence a clinician reads.
    const alert = detail.alerts.find((a) => a.signal === 'reviewWrong:confidentPositive')!;
    expect(alert.summary).toMatch(/^confident positives reviewed wrong: \d+ of \d+ reviews in the window, reference 2\.0%$/);
    expect(alert.exampleCaseIds.length).toBeGreaterThan(0);
    const incident = await stores.incidents.get(alert.incidentId!);
    expect(incident?.severity).toBe('high');

    // Idempotent: a review recorded again (a retry) feeds nothing more, through the workflow or directly.
    const event = events[events.length - 1]!;
    const itemId = `${event.caseId}#study`;
    await expect(review(itemId, true)).rejects.toSatisfy((e: unknown) => e instanceof PlatformError && e.code === 'REVIEW_ALREADY_RECORDED');
    await opened.monitoring.recordReviewed({ itemId, caseId: event.caseId, reasons: ['random_sample'], findingPresent: event.review!.wrong === 1 });
    await opened.monitoring.recordReviewed({ itemId, caseId: event.caseId, reasons: ['random_sample'], findingPresent: event.review!.wrong !== 1 });
    expect((await stores.monitor.readCases({ site: SITE, versionId: V2 }, 0, 100_000)).length).toBe(stream.length);
  }, 120_000);

  it('raises no review alarm in control', async () => {
    const { stores, alarmAfter, sampledConfident } = await runStream(1_200, Number.POSITIVE_INFINITY, 32);
    expect(sampledConfident).toBeGreaterThan(80);
    expect(alarmAfter).toBeUndefined();
    const alerts = await stores.monitor.listAlerts({ site: SITE, limit: 500 });
    expect(alerts.filter((a) => a.alert.signal.startsWith('reviewWrong:'))).toEqual([]);
  }, 120_000);
});
