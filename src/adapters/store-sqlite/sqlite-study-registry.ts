/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the ports are. */
import type { CaseRecord, CaseStore } from '../../ports/case-store.js';
import type { Clock } from '../../ports/clock.js';
import type { StudyRecord, StudyRegistry } from '../../ports/study-registry.js';
import { toCase, toStudy, type CaseRow, type StudyRow } from '../store-common/study-rows.js';
import type { Statement } from 'better-sqlite3';
import { GroupCommit } from './internal/group-commit.js';
import type { SqliteDatabase } from './open-sqlite.js';

export class SqliteStudyRegistry implements StudyRegistry {
  #statements: { readonly study: Statement; readonly instance: Statement; readonly count: Statement } | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {}

  /**
   * Group-committed (internal/group-commit.ts): instances recorded at about the same time share one
   * transaction and one WAL fsync, and none is answered before that commit.
   */
  async recordInstance(studyKey: string, studyUid: string, sopInstanceUid: string): Promise<boolean> {
    return GroupCommit.for(this.db).run(() => this.#recordOne(studyKey, studyUid, sopInstanceUid, this.clock.now().getTime()));
  }

  #recordOne(studyKey: string, studyUid: string, sopInstanceUid: string, now: number): boolean {
    const statements = (this.#statements ??= {
      study: this.db.prepare(
        `INSERT INTO studies (study_key, study_uid, instances, first_received_at_ms, last_received_at_ms, state) VALUES (?, ?, 0, ?, ?, 'receiving')
         ON CONFLICT (study_key) DO NOTHING`,
      ),
      instance: this.db.prepare('INSERT INTO study_instances (study_key, sop_uid, received_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      count: this.db.prepare(`UPDATE studies SET instances = instances + 1, last_received_at_ms = ?, state = 'receiving' WHERE study_key = ?`),
    });
    statements.study.run(studyKey, studyUid, now, now);
    const added = statements.instance.run(studyKey, sopInstanceUid, now).changes === 1;
    if (added) statements.count.run(now, studyKey);
    return added;
  }

  async quietStudies(quietMs: number): Promise<StudyRecord[]> {
    const before = this.clock.now().getTime() - quietMs;
    return this.db
      .prepare<[number], StudyRow>(`SELECT * FROM studies WHERE state = 'receiving' AND last_received_at_ms <= ? ORDER BY last_received_at_ms`)
      .all(before)
      .map(toStudy);
  }

  async markQueued(studyKey: string, instances: number): Promise<boolean> {
    return (
      this.db.prepare(`UPDATE studies SET state = 'queued' WHERE study_key = ? AND instances = ? AND state = 'receiving'`).run(studyKey, instances).changes ===
      1
    );
  }

  async list(limit: number): Promise<StudyRecord[]> {
    return this.db.prepare<[number], StudyRow>('SELECT * FROM studies ORDER BY last_received_at_ms DESC LIMIT ?').all(limit).map(toStudy);
  }

  async get(studyKey: string): Promise<StudyRecord | undefined> {
    const row = this.db.prepare<[string], StudyRow>('SELECT * FROM studies WHERE study_key = ?').get(studyKey);
    return row === undefined ? undefined : toStudy(row);
  }
}

export class SqliteCaseStore implements CaseStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {}

  async save(record: Omit<CaseRecord, 'createdAt'>): Promise<'saved' | 'exists'> {
    const changes = this.db
      .prepare('INSERT INTO cases (case_id, study_key, model, created_at_ms, results) VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING')
      .run(record.caseId, record.studyKey, JSON.stringify(record.model), this.clock.now().getTime(), JSON.stringify(record.results)).changes;
    return changes === 1 ? 'saved' : 'exists';
  }

  async get(caseId: string): Promise<CaseRecord | undefined> {
    const row = this.db.prepare<[string], CaseRow>('SELECT * FROM cases WHERE case_id = ?').get(caseId);
    return row === undefined ? undefined : toCase(row);
  }

  async listForStudy(studyKey: string): Promise<CaseRecord[]> {
    return this.db.prepare<[string], CaseRow>('SELECT * FROM cases WHERE study_key = ? ORDER BY created_at_ms').all(studyKey).map(toCase);
  }

  async list(limit: number): Promise<CaseRecord[]> {
    return this.db.prepare<[number], CaseRow>('SELECT * FROM cases ORDER BY created_at_ms DESC LIMIT ?').all(limit).map(toCase);
  }
}
