import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// The quiet period lives in the store, so the test wires the real SQLite stores (as main.ts does) around the loop.
/* eslint-disable import-x/no-restricted-paths -- a test, not workflow code: it composes adapters as main.ts does */
import { openSqliteDatabase, type SqliteDatabase } from '../adapters/store-sqlite/open-sqlite.js';
import { SqliteJobQueue } from '../adapters/store-sqlite/sqlite-job-queue.js';
import { SqliteCaseStore, SqliteStudyRegistry } from '../adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteWorklistStore } from '../adapters/store-sqlite/sqlite-worklist-store.js';
/* eslint-enable import-x/no-restricted-paths */
import { PlatformError } from '../domain/errors.js';
import { createManualClock } from '../ports/job-queue.contract.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { IngestDependencies } from './ingest-instance.js';
import { ServiceLoop } from './service-loop.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let dir: string | undefined;
let db: SqliteDatabase | undefined;
afterEach(() => {
  db?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('ServiceLoop', () => {
  it('gives a study interrupted by a restart its whole quiet period again, from the start (field finding: judged half-received)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-loop-'));
    db = openSqliteDatabase({ dataDir: dir });
    const clock = createManualClock();
    const studies = new SqliteStudyRegistry(db, clock);
    const jobs = new SqliteJobQueue(db, { clock, retry: { baseDelayMs: 1_000, maxDelayMs: 1_000 }, defaultMaxAttempts: 3 });
    // 27 instances of a study arrived, then the server died; it is started again a minute later.
    for (let i = 1; i <= 27; i++) await studies.recordInstance('st-1', '2.25.1', `2.25.1.${i}`);
    clock.advance(60_000);
    const loop = new ServiceLoop(
      {
        // Neither ingest nor judging is exercised here: the test calls assembly only.
        ingest: {} as IngestDependencies,
        inference: {
          // The worker finds nothing to judge: this test is about assembly alone.
          jobs: { lease: () => Promise.resolve(undefined) } as unknown as JobQueue,
          studies,
          cases: new SqliteCaseStore(db, clock),
          worklist: new SqliteWorklistStore(db, clock),
          sampleDraw: () => 0.5,
          reviewSampleRate: 0,
          logger: silent,
          leaseMs: 60_000,
          recordAudit: () => Promise.resolve(),
          judgeStudy: () => Promise.reject(new PlatformError('MODEL_INFERENCE_FAILED', 'not judged in this test')),
        },
        studies,
        jobs,
        logger: silent,
      },
      // Assembly only when the test asks for it.
      { studyQuietMs: 5_000, assembleEveryMs: 3_600_000, idleSleepMs: 3_600_000 },
    );
    loop.start();
    try {
      expect(await loop.assembleNow(), 'quiet for a minute, but nobody could send during it').toBe(0);
      expect((await studies.get('st-1'))?.state).toBe('receiving');
      clock.advance(4_999);
      expect(await loop.assembleNow()).toBe(0);
      clock.advance(1);
      expect(await loop.assembleNow(), 'quiet for the quiet period since the start').toBe(1);
      expect(await studies.get('st-1')).toMatchObject({ instances: 27, state: 'queued' });
    } finally {
      await loop.stop();
    }
  });
});
