/**
 * The behaviour every `SystemStats` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). The fixture gives the ports on the same store that write what the stats count:
 * the job queue, the audit log, the study registry and the case store, all under the suite's clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import type { AuditLog } from './audit-log.js';
import type { CaseStore } from './case-store.js';
import { createManualClock, type ManualClock } from './job-queue.contract.js';
import type { JobQueue } from './job-queue.js';
import type { StudyRegistry } from './study-registry.js';
import type { SystemStats } from './system-stats.js';

export interface SystemStatsFixture {
  readonly stats: SystemStats;
  readonly jobs: JobQueue;
  readonly log: AuditLog;
  readonly studies: StudyRegistry;
  readonly cases: CaseStore;
  dispose(): void | Promise<void>;
}

const model = { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) };

function decision(verdict: 'pass' | 'warn' | 'reject', decisions: readonly ('positive' | 'negative' | 'refer')[], origin?: 'server' | 'cli'): AuditEvent {
  return {
    type: 'decision',
    ...(origin === undefined ? {} : { origin }),
    studyKey: 'st-1',
    pixelSha256: 'b'.repeat(64),
    frameIndex: 0,
    model,
    configHash: 'c'.repeat(64),
    gate: { verdict, reasons: verdict === 'pass' ? [] : [{ code: 'LOW_CONTRAST', verdict, measured: 0.1, threshold: 0.2 }] },
    outputs: decisions.map((d, i) => ({ finding: `finding-${i}`, probability: 0.5, decision: d })),
    status: verdict === 'reject' ? 'rejected' : 'decided',
  };
}

export function describeSystemStats(name: string, factory: (clock: ManualClock) => SystemStatsFixture | Promise<SystemStatsFixture>): void {
  describe(`SystemStats contract: ${name}`, () => {
    let fixture: SystemStatsFixture | undefined;
    let clock: ManualClock;
    const open = async (): Promise<SystemStatsFixture> => {
      clock = createManualClock();
      fixture = await factory(clock);
      return fixture;
    };
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('counts jobs per kind and state, ordered by kind then state', async () => {
      const { stats, jobs } = await open();
      expect(await stats.jobsByKind()).toEqual([]);
      await jobs.enqueue({ kind: 'infer', dedupeKey: 'infer:1', payload: {} });
      await jobs.enqueue({ kind: 'infer', dedupeKey: 'infer:2', payload: {} });
      await jobs.enqueue({ kind: 'deliver', dedupeKey: 'deliver:1', payload: {} });
      const lease = await jobs.lease(['infer'], 60_000);
      expect(lease).toBeDefined();
      await jobs.complete(lease?.job.id ?? -1, lease?.leaseToken ?? '');
      await jobs.lease(['infer'], 60_000);
      expect(await stats.jobsByKind()).toEqual([
        { kind: 'deliver', state: 'ready', count: 1 },
        { kind: 'infer', state: 'done', count: 1 },
        { kind: 'infer', state: 'leased', count: 1 },
      ]);
    });

    it('counts decisions since a time by gate verdict and by each finding’s decision, ignoring other entries', async () => {
      const { stats, log } = await open();
      await log.append(decision('pass', ['positive', 'positive']));
      clock.advance(60_000);
      const since = clock.now().toISOString();
      await log.append(decision('pass', ['negative']));
      await log.append({ type: 'config_loaded', configHash: 'c'.repeat(64), vigilVersion: 'test' });
      clock.advance(1_000);
      await log.append(decision('warn', ['refer', 'negative'], 'server'));
      await log.append(decision('reject', []));
      // `vigil predict` on the same store: counted apart, in none of the server's numbers.
      await log.append(decision('reject', [], 'cli'));
      await log.append(decision('pass', ['positive'], 'cli'));
      expect(await stats.decisionsSince(since)).toEqual({
        images: 3,
        commandLineImages: 2,
        gateRejected: 1,
        byGateVerdict: { pass: 1, warn: 1, reject: 1 },
        byDecision: { negative: 2, refer: 1 },
      });
      clock.advance(1_000);
      expect(await stats.decisionsSince(clock.now().toISOString())).toEqual({
        images: 0,
        commandLineImages: 0,
        gateRejected: 0,
        byGateVerdict: {},
        byDecision: {},
      });
    });

    it('gives each recent case’s time from its study’s last instance, ascending', async () => {
      const { stats, studies, cases } = await open();
      const t0 = clock.now().getTime();
      await studies.recordInstance('st-0', '2.25.10', '2.25.10.1');
      await cases.save({ caseId: 'c-old', studyKey: 'st-0', model, instances: 1, results: [] });
      clock.advance(10_000);
      await studies.recordInstance('st-1', '2.25.11', '2.25.11.1');
      clock.advance(2_000);
      await studies.recordInstance('st-1', '2.25.11', '2.25.11.2');
      clock.advance(5_000);
      await studies.recordInstance('st-2', '2.25.12', '2.25.12.1');
      clock.advance(1_000);
      await cases.save({ caseId: 'c-2', studyKey: 'st-2', model, instances: 1, results: [] });
      await cases.save({ caseId: 'c-1', studyKey: 'st-1', model, instances: 1, results: [] });
      expect(await stats.resultLatenciesSince(t0 + 1)).toEqual([1_000, 6_000]);
      expect(await stats.resultLatenciesSince(t0)).toEqual([0, 1_000, 6_000]);
      expect(await stats.resultLatenciesSince(clock.now().getTime() + 1)).toEqual([]);
    });
  });
}
