/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the ports are. */
import type { CaseRecord, CaseStore, NewCase } from '../../ports/case-store.js';
import type { Clock } from '../../ports/clock.js';
import type { StudyFacts, StudyQuery, StudyRecord, StudyRegistry, StudyState } from '../../ports/study-registry.js';
import { linkNewCase, studyFilterSql, studyQueryFilters, toCase, toStudy, type CaseRow, type StudyRow } from '../store-common/study-rows.js';
import type { Statement } from 'better-sqlite3';
import { GroupCommit } from './internal/group-commit.js';
import type { SqliteDatabase } from './open-sqlite.js';

/** A study row with its modalities (store-common/study-rows.ts), from `studies s`. */
const STUDY_COLUMNS = `s.*, (SELECT group_concat(m.modality, '\\') FROM study_modalities m WHERE m.study_key = s.study_key) AS modalities`;

export class SqliteStudyRegistry implements StudyRegistry {
  #statements:
    | {
        readonly study: Statement;
        readonly instance: Statement;
        readonly count: Statement;
        readonly resent: Statement;
        readonly sender: Statement;
        readonly accession: Statement;
        readonly date: Statement;
        readonly modality: Statement;
        readonly site: Statement;
      }
    | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {}

  /**
   * Group-committed (internal/group-commit.ts): instances recorded at about the same time share one
   * transaction and one WAL fsync, and none is answered before that commit.
   */
  async recordInstance(studyKey: string, studyUid: string, sopInstanceUid: string, facts: StudyFacts = {}): Promise<boolean> {
    return GroupCommit.for(this.db).run(() => this.#recordOne(studyKey, studyUid, sopInstanceUid, facts, this.clock.now().getTime()));
  }

  #recordOne(studyKey: string, studyUid: string, sopInstanceUid: string, facts: StudyFacts, now: number): boolean {
    const statements = (this.#statements ??= {
      study: this.db.prepare(
        `INSERT INTO studies (study_key, study_uid, instances, first_received_at_ms, last_received_at_ms, quiet_from_ms, state) VALUES (?, ?, 0, ?, ?, ?, 'receiving')
         ON CONFLICT (study_key) DO NOTHING`,
      ),
      instance: this.db.prepare('INSERT INTO study_instances (study_key, sop_uid, received_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      count: this.db.prepare(
        `UPDATE studies SET instances = instances + 1, last_received_at_ms = max(last_received_at_ms, @now), quiet_from_ms = max(quiet_from_ms, @now),
           state = 'receiving'
         WHERE study_key = @studyKey`,
      ),
      // A resend to a study still receiving: its sender is still at it, so the quiet period starts again.
      resent: this.db.prepare(`UPDATE studies SET quiet_from_ms = max(quiet_from_ms, @now) WHERE study_key = @studyKey AND state = 'receiving'`),
      sender: this.db.prepare('INSERT INTO study_senders (study_key, user_id, first_sent_at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      accession: this.db.prepare('INSERT INTO study_accessions (accession_key, study_key) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      date: this.db.prepare('UPDATE studies SET study_date = coalesce(study_date, ?) WHERE study_key = ?'),
      site: this.db.prepare('UPDATE studies SET site = coalesce(site, ?) WHERE study_key = ?'),
      modality: this.db.prepare('INSERT INTO study_modalities (study_key, modality) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    });
    statements.study.run(studyKey, studyUid, now, now, now);
    const added = statements.instance.run(studyKey, sopInstanceUid, now).changes === 1;
    (added ? statements.count : statements.resent).run({ now, studyKey });
    if (facts.senderId !== undefined) statements.sender.run(studyKey, facts.senderId, now);
    if (facts.accessionKey !== undefined) statements.accession.run(facts.accessionKey, studyKey);
    if (facts.studyDate !== undefined) statements.date.run(facts.studyDate, studyKey);
    if (facts.site !== undefined) statements.site.run(facts.site, studyKey);
    if (facts.modality !== undefined) statements.modality.run(studyKey, facts.modality);
    return added;
  }

  async restartQuietPeriods(): Promise<number> {
    return this.db.prepare(`UPDATE studies SET quiet_from_ms = max(quiet_from_ms, ?) WHERE state = 'receiving'`).run(this.clock.now().getTime()).changes;
  }

  async quietStudies(quietMs: number): Promise<StudyRecord[]> {
    const before = this.clock.now().getTime() - quietMs;
    return this.db
      .prepare<[number], StudyRow>(`SELECT ${STUDY_COLUMNS} FROM studies s WHERE state = 'receiving' AND quiet_from_ms <= ? ORDER BY quiet_from_ms, study_key`)
      .all(before)
      .map(toStudy);
  }

  async markQueued(studyKey: string, instances: number): Promise<boolean> {
    return (
      this.db.prepare(`UPDATE studies SET state = 'queued' WHERE study_key = ? AND instances = ? AND state = 'receiving'`).run(studyKey, instances).changes ===
      1
    );
  }

  async markProgress(studyKey: string, instances: number, state: Exclude<StudyState, 'receiving'>): Promise<boolean> {
    return (
      this.db
        .prepare(`UPDATE studies SET state = ? WHERE study_key = ? AND instances = ? AND state <> 'receiving' AND state <> ?`)
        .run(state, studyKey, instances, state).changes === 1
    );
  }

  async list(limit: number): Promise<StudyRecord[]> {
    return this.search({ limit });
  }

  async get(studyKey: string): Promise<StudyRecord | undefined> {
    const row = this.db.prepare<[string], StudyRow>(`SELECT ${STUDY_COLUMNS} FROM studies s WHERE s.study_key = ?`).get(studyKey);
    return row === undefined ? undefined : toStudy(row);
  }

  async search(query: StudyQuery): Promise<StudyRecord[]> {
    const { clauses, values } = studyQueryFilters(query);
    const where = clauses.length === 0 ? '' : `WHERE ${clauses.map((c) => studyFilterSql(c, '?')).join(' AND ')}`;
    return this.db
      .prepare<unknown[], StudyRow>(`SELECT ${STUDY_COLUMNS} FROM studies s ${where} ORDER BY s.last_received_at_ms DESC, s.study_key LIMIT ? OFFSET ?`)
      .all(...values, query.limit, query.offset ?? 0)
      .map(toStudy);
  }

  async wasSentBy(studyKey: string, userId: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM study_senders WHERE study_key = ? AND user_id = ?').get(studyKey, userId) !== undefined;
  }
}

export class SqliteCaseStore implements CaseStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {}

  /** One IMMEDIATE transaction: the study's current case is read and superseded with no other writer in between. */
  async save(record: NewCase): Promise<'saved' | 'exists'> {
    return this.db
      .transaction((): 'saved' | 'exists' => {
        if (this.db.prepare('SELECT 1 FROM cases WHERE case_id = ?').get(record.caseId) !== undefined) return 'exists';
        const current = this.db
          .prepare<[string], { case_id: string; instances: number }>('SELECT case_id, instances FROM cases WHERE study_key = ? AND superseded_by IS NULL')
          .get(record.studyKey);
        const links = linkNewCase(current, record.instances);
        // The old current case first: the unique index allows one current case per study at a time.
        if (links.supersedes !== null) this.db.prepare('UPDATE cases SET superseded_by = ? WHERE case_id = ?').run(record.caseId, links.supersedes);
        this.db
          .prepare(
            'INSERT INTO cases (case_id, study_key, model, instances, created_at_ms, results, supersedes, superseded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          )
          .run(
            record.caseId,
            record.studyKey,
            JSON.stringify(record.model),
            record.instances,
            this.clock.now().getTime(),
            JSON.stringify(record.results),
            links.supersedes,
            links.supersededBy,
          );
        return 'saved';
      })
      .immediate();
  }

  async get(caseId: string): Promise<CaseRecord | undefined> {
    const row = this.db.prepare<[string], CaseRow>('SELECT * FROM cases WHERE case_id = ?').get(caseId);
    return row === undefined ? undefined : toCase(row);
  }

  async listForStudy(studyKey: string): Promise<CaseRecord[]> {
    return this.db.prepare<[string], CaseRow>('SELECT * FROM cases WHERE study_key = ? ORDER BY created_at_ms, case_id').all(studyKey).map(toCase);
  }

  async list(limit: number): Promise<CaseRecord[]> {
    return this.db.prepare<[number], CaseRow>('SELECT * FROM cases ORDER BY created_at_ms DESC, case_id DESC LIMIT ?').all(limit).map(toCase);
  }
}
