import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// Scope and audit are checked against the real SQLite stores (as main.ts wires them), not stand-ins.
/* eslint-disable import-x/no-restricted-paths -- a test, not workflow code: it composes adapters as main.ts does */
import { openSqliteDatabase, type SqliteDatabase } from '../adapters/store-sqlite/open-sqlite.js';
import { SqliteCaseStore, SqliteStudyRegistry } from '../adapters/store-sqlite/sqlite-study-registry.js';
/* eslint-enable import-x/no-restricted-paths */
import type { Principal } from '../domain/access/roles.js';
import type { CaseReadEvent } from '../domain/audit/audit-event.js';
import { isPlatformError } from '../domain/errors.js';
import { createManualClock } from '../ports/job-queue.contract.js';
import { createStudyReads, type StudyReads } from './study-reads.js';

const model = { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) };
const admin: Principal = { userId: 'u-admin', role: 'admin', tokenId: 't-admin' };
const sender: Principal = { userId: 'u-sender', role: 'integration', tokenId: 't-sender' };
const otherSender: Principal = { userId: 'u-other', role: 'integration', tokenId: 't-other' };

let dir: string;
let db: SqliteDatabase;
let reads: StudyReads;
let audited: CaseReadEvent[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-reads-'));
  db = openSqliteDatabase({ dataDir: dir });
  const clock = createManualClock();
  const studies = new SqliteStudyRegistry(db, clock);
  const cases = new SqliteCaseStore(db, clock);
  await studies.recordInstance('st-1', '2.25.1', '2.25.1.1', { senderId: sender.userId, accessionKey: 'acc-1' });
  await studies.recordInstance('st-2', '2.25.2', '2.25.2.1', { senderId: otherSender.userId });
  await cases.save({ caseId: 'c-1', studyKey: 'st-1', model, instances: 1, results: [] });
  await cases.save({ caseId: 'c-2', studyKey: 'st-2', model, instances: 1, results: [] });
  audited = [];
  reads = createStudyReads({
    studies,
    cases,
    // Ingest keys a sent Study Instance UID to the study's pseudonymous key; an Accession Number to its lookup key.
    studyLookupKeys: (sent) =>
      Promise.resolve({
        ...(sent.studyInstanceUid === '1.2.3' ? { studyKey: 'st-1' } : sent.studyInstanceUid === '1.2.4' ? { studyKey: 'st-2' } : {}),
        ...(sent.accessionNumber === 'A1' ? { accessionKey: 'acc-1' } : {}),
      }),
    recordAudit: (event) => {
      audited.push(event);
      return Promise.resolve('a-0');
    },
  });
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const notFound = (promise: Promise<unknown>) => expect(promise).rejects.toSatisfy((e) => isPlatformError(e) && e.code === 'ROUTE_NOT_FOUND');

describe('createStudyReads', () => {
  it('searches every study for a reader who sees all, only what it sent for a sender, and by what was sent', async () => {
    expect((await reads.search(admin, { limit: 10 })).map((s) => s.studyKey).sort()).toEqual(['st-1', 'st-2']);
    expect((await reads.search(sender, { limit: 10 })).map((s) => s.studyKey)).toEqual(['st-1']);
    expect((await reads.search(admin, { limit: 10, accessionNumber: 'A1' })).map((s) => s.studyKey)).toEqual(['st-1']);
    // An Accession Number that keys to nothing matches nothing (not every study).
    expect(await reads.search(admin, { limit: 10, accessionNumber: 'unknown' })).toEqual([]);
    expect(audited).toEqual([]);
  });

  it('reads a study or a case in scope and audits each read; out of scope is 404 as for an unknown key, and not audited', async () => {
    const { study, cases } = await reads.study(sender, 'st-1');
    expect([study.studyKey, cases.map((c) => c.caseId)]).toEqual(['st-1', ['c-1']]);
    expect((await reads.case(admin, 'c-2')).caseId).toBe('c-2');
    expect(audited).toEqual([
      { type: 'case_read', studyKey: 'st-1', caseId: null, userId: sender.userId, role: 'integration' },
      { type: 'case_read', studyKey: 'st-2', caseId: 'c-2', userId: admin.userId, role: 'admin' },
    ]);
    await notFound(reads.study(sender, 'st-2'));
    await notFound(reads.case(sender, 'c-2'));
    await notFound(reads.case(admin, 'c-unknown'));
    await notFound(reads.study(admin, 'st-unknown'));
    expect(audited).toHaveLength(2);
  });

  it('reads from a case (an image, a result) only in scope, auditing it as a read of the case once it is read', async () => {
    let rendered = 0;
    const render = () => {
      rendered++;
      return Promise.resolve({ studyKey: 'st-1', png: 'bytes' });
    };
    expect(await reads.fromCase(sender, 'c-1', render)).toEqual({ studyKey: 'st-1', png: 'bytes' });
    await notFound(reads.fromCase(otherSender, 'c-1', render));
    expect(rendered).toBe(1);
    await expect(reads.fromCase(admin, 'c-1', () => Promise.reject(new Error('render failed')))).rejects.toThrow('render failed');
    expect(audited).toEqual([{ type: 'case_read', studyKey: 'st-1', caseId: 'c-1', userId: sender.userId, role: 'integration' }]);
  });

  it('finds a study by its sent UID within scope, and records a retrieval as one read per case', async () => {
    expect((await reads.studyByUid(sender, '1.2.3')).studyKey).toBe('st-1');
    await notFound(reads.studyByUid(sender, '1.2.4'));
    await notFound(reads.studyByUid(admin, '9.9'));
    await reads.recordCaseReads(admin, 'st-1', ['c-1', 'c-1', 'c-3']);
    expect(audited.map((e) => e.caseId)).toEqual(['c-1', 'c-3']);
  });
});
