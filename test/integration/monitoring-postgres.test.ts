/**
 * Two servers on one PostgreSQL store judge a site's studies at once (interleaved, concurrently): each
 * appends its images and advances the deployment's monitors by compare-and-set. Every alarm is raised,
 * stored, audited and filed exactly once, and the alarms are those one process computes over the
 * stored stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestSchema, POSTGRES_SKIP_REASON, postgresSkipNote, type TestSchema } from '../../src/adapters/store-postgres/internal/test-database.js';
import { PostgresAuditLog } from '../../src/adapters/store-postgres/postgres-audit-log.js';
import { PostgresAuditSearch } from '../../src/adapters/store-postgres/postgres-audit-search.js';
import { PostgresDeploymentStore } from '../../src/adapters/store-postgres/postgres-deployment-store.js';
import { PostgresIncidentStore } from '../../src/adapters/store-postgres/postgres-incident-store.js';
import { PostgresModelRegistry } from '../../src/adapters/store-postgres/postgres-model-registry.js';
import { PostgresMonitorStore } from '../../src/adapters/store-postgres/postgres-monitor-store.js';
import { SeededRandom } from '../../src/domain/evaluation/random.js';
import { MONITOR_SIGNAL_NAMES } from '../../src/domain/monitoring/case-signals.js';
import { recomputeMonitors } from '../../src/domain/monitoring/deployment-monitors.js';
import { decodeMonitorPlan } from '../../src/domain/monitoring/monitor-snapshot.js';
import { imageMeasures, openMonitoring, SITE, V2, type MonitoringStores } from '../fixtures/monitoring/open-monitoring.js';

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(`two servers monitoring one deployment on PostgreSQL${postgresSkipNote}`, () => {
  let schema: TestSchema | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await schema?.drop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('raises each alarm once, however the two interleave', async () => {
    schema = await createTestSchema();
    dir = mkdtempSync(join(tmpdir(), 'vigil-monitor-pg-'));
    const clock = { now: () => new Date() };
    const server = async (): Promise<MonitoringStores> => {
      const pool = await schema!.open();
      return {
        monitor: new PostgresMonitorStore(pool),
        incidents: new PostgresIncidentStore(pool),
        deployments: new PostgresDeploymentStore(pool),
        registry: new PostgresModelRegistry(pool),
        audit: await PostgresAuditLog.open({ pool, dataDir: dir!, clock }),
        search: new PostgresAuditSearch(pool),
      };
    };
    const storesA = await server();
    const storesB = await server();
    const a = await openMonitoring(storesA, clock);
    const b = await openMonitoring(storesB, clock, undefined, false);
    const random = new SeededRandom(11);
    let n = 0;
    const study = (shift: { noise?: number }) => ({
      site: SITE,
      versionId: V2,
      origin: 'production' as const,
      caseId: `case-${n}`,
      studyKey: `sk-${n}`,
      images: [0, 1].map((i) => ({ imageRef: `s${n}/i${i}.dcm`, measures: imageMeasures(random, shift), device: null })),
    });
    const raised: string[] = [];
    // 150 studies of 2 images in control (the 300-image baseline, then some), then 100 shifted; each
    // pair of studies judged at once, one by each server.
    for (let round = 0; round < 125; round++) {
      const shift = round < 75 ? {} : { noise: 2 };
      const first = study(shift);
      n++;
      const second = study(shift);
      n++;
      const [ra, rb] = await Promise.all([a.monitoring.recordJudged(first), b.monitoring.recordJudged(second)]);
      raised.push(...ra.map((x) => x.alertId), ...rb.map((x) => x.alertId));
    }
    const key = { site: SITE, versionId: V2 };
    // Whatever either left unconsumed (a lost race), the next advance consumes.
    raised.push(...(await a.monitoring.advance(key)).map((x) => x.alertId));
    const stored = await storesA.monitor.listAlerts({ limit: 1_000 });
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(new Set(raised).size).toBe(raised.length);
    expect([...raised].sort()).toEqual(stored.map((s) => s.alertId).sort());
    const audited = (await storesB.search.search({ type: 'monitor_alert', limit: 1_000 })).entries.map((e) =>
      e.event.type === 'monitor_alert' ? e.event.alertId : '',
    );
    expect(audited.sort()).toEqual(stored.map((s) => s.alertId).sort());
    expect(await storesB.incidents.list({ limit: 10 })).toHaveLength(1);
    expect((await storesB.incidents.list({ limit: 10 }))[0]?.alertCount).toBe(stored.length);

    // The same alarms as one process computes over the stored stream.
    const plan = await b.monitoring.plan(key);
    const start = plan!.stored.reference.kind === 'baseline' ? plan!.stored.reference.lastSeq : 0;
    const cases = await storesB.monitor.readCases(key, start, 10_000);
    const recomputed = recomputeMonitors(
      decodeMonitorPlan(plan!.stored.plan),
      MONITOR_SIGNAL_NAMES.map((_, s) => Float64Array.from(cases, (c) => c.values[s]!)),
      Float64Array.from(cases, (c) => c.seq),
    );
    expect(recomputed.alerts.map((x) => `${x.detector}@${x.alarmTime}`).sort()).toEqual(stored.map((s) => `${s.alert.detector}@${s.alarmSeq}`).sort());
    expect((await storesA.monitor.getState(key))?.lastSeq).toBe(cases.at(-1)?.seq);
  }, 120_000);
});
