import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
/* eslint-disable import-x/no-restricted-paths -- a test, not workflow code: it composes a real queue as main.ts does */
import { openSqliteDatabase } from '../adapters/store-sqlite/open-sqlite.js';
import { SqliteJobQueue } from '../adapters/store-sqlite/sqlite-job-queue.js';
/* eslint-enable import-x/no-restricted-paths */
import { INFER_STUDY_JOB } from './assemble-studies.js';
import { DELIVER_RESULT_JOB, runNextDeliveryJob, type DeliveryJobDependencies } from './deliver-results.js';
import { deliverResultPayloadSchema, inferStudyPayloadSchema, parseJobPayload } from './job-payloads.js';
import { runNextInferenceJob, type InferenceJobDependencies } from './run-inference-job.js';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const untouched = new Proxy({}, { get: (_t, name) => () => Promise.reject(new Error(`touched ${String(name)}`)) });

describe('job payloads', () => {
  it('reads a well-formed payload and names the field of a malformed one', () => {
    expect(parseJobPayload(inferStudyPayloadSchema, INFER_STUDY_JOB, { studyKey: 'st-1', studyUid: '2.25.1', instances: 3 })).toEqual({
      studyKey: 'st-1',
      studyUid: '2.25.1',
      instances: 3,
    });
    expect(() => parseJobPayload(inferStudyPayloadSchema, INFER_STUDY_JOB, { studyKey: 'st-1', studyUid: '2.25.1', instances: '3' })).toThrowError(
      expect.objectContaining({ code: 'JOB_PAYLOAD_INVALID', details: { kind: INFER_STUDY_JOB, field: 'instances' } }),
    );
    expect(() => parseJobPayload(deliverResultPayloadSchema, DELIVER_RESULT_JOB, { caseId: 'c', destination: 'ftp' })).toThrowError(
      expect.objectContaining({ code: 'JOB_PAYLOAD_INVALID', details: { kind: DELIVER_RESULT_JOB, field: 'destination' } }),
    );
  });

  describe('a worker leasing a job it cannot read', () => {
    const dirs: string[] = [];
    afterEach(() => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });
    function queue() {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-payloads-'));
      dirs.push(dir);
      return new SqliteJobQueue(openSqliteDatabase({ dataDir: dir }), {
        clock: { now: () => new Date() },
        retry: { baseDelayMs: 0, maxDelayMs: 0 },
        defaultMaxAttempts: 1,
      });
    }

    it('fails an inference job whose payload is malformed, touching nothing else, and it ends dead-lettered with the code', async () => {
      const jobs = queue();
      const { job } = await jobs.enqueue({ kind: INFER_STUDY_JOB, dedupeKey: 'bad', payload: { studyKey: 'st-1', instances: -1 } });
      const deps = { ...untouched, jobs, logger: quiet, leaseMs: 10_000 } as unknown as InferenceJobDependencies;
      await expect(runNextInferenceJob(deps)).resolves.toBe('failed');
      expect(await jobs.get(job.id)).toMatchObject({ state: 'dead', lastError: { code: 'JOB_PAYLOAD_INVALID' } });
    });

    it('fails a delivery job whose payload is malformed, and it ends dead-lettered with the code', async () => {
      const jobs = queue();
      const { job } = await jobs.enqueue({ kind: DELIVER_RESULT_JOB, dedupeKey: 'bad', payload: { caseId: 7, destination: 'dicom' } });
      const deps = { ...untouched, jobs, logger: quiet, leaseMs: 10_000 } as unknown as DeliveryJobDependencies;
      await expect(runNextDeliveryJob(deps)).resolves.toBe('failed');
      expect(await jobs.get(job.id)).toMatchObject({ state: 'dead', lastError: { code: 'JOB_PAYLOAD_INVALID' } });
    });
  });
});
