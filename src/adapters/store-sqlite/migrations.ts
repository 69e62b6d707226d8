/**
 * Numbered schema migrations for Vigil's SQLite database, applied in order by `openSqliteDatabase`
 * and recorded in `schema_migrations`. Append only: once released, a migration's SQL never changes
 * (a database that ran it would silently differ from a new one); fix forward with a new number.
 */
export interface SqliteMigration {
  /** 1, 2, 3, … with no gaps. */
  readonly version: number;
  /** Recorded with the version; opening fails if a database ran a different migration under this number. */
  readonly name: string;
  readonly sql: string;
  /**
   * The migration rebuilds tables other tables reference (SQLite cannot change a CHECK constraint in
   * place): it runs with foreign keys off and must leave `PRAGMA foreign_key_check` clean, the procedure
   * of https://www.sqlite.org/lang_altertable.html#otheralter.
   */
  readonly rebuildsTables?: true;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'audit_log',
    // One row per leaf of the RFC 6962 tree and one signed tree head per append. `body` is the
    // canonical JSON the leaf hashes (domain/audit/audit-leaf.ts); `time`, `type` and `audit_id` are
    // copies for querying, and verify() checks them against the body. The triggers stop accidental
    // edits by application code; they are no defence against someone with the file (they can drop
    // them), which is what the Merkle tree and the signatures are for.
    sql: `
      CREATE TABLE audit_entries (
        idx       INTEGER PRIMARY KEY CHECK (idx >= 0),
        audit_id  TEXT NOT NULL UNIQUE,
        time      TEXT NOT NULL,
        type      TEXT NOT NULL,
        body      TEXT NOT NULL,
        leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
      ) STRICT;

      CREATE TABLE audit_tree_heads (
        tree_size INTEGER PRIMARY KEY CHECK (tree_size >= 1),
        root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
        time      TEXT NOT NULL,
        signature BLOB NOT NULL CHECK (length(signature) = 64)
      ) STRICT;

      CREATE TRIGGER audit_entries_append_only_update BEFORE UPDATE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
      CREATE TRIGGER audit_entries_append_only_delete BEFORE DELETE ON audit_entries
        BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
      CREATE TRIGGER audit_tree_heads_append_only_update BEFORE UPDATE ON audit_tree_heads
        BEGIN SELECT RAISE(ABORT, 'audit_tree_heads is append-only'); END;
      CREATE TRIGGER audit_tree_heads_append_only_delete BEFORE DELETE ON audit_tree_heads
        BEGIN SELECT RAISE(ABORT, 'audit_tree_heads is append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'job_queue',
    // The durable job queue (ports/job-queue.ts). Times are epoch milliseconds so that "due" is an
    // integer comparison the index serves. `dedupe_key` makes enqueueing idempotent.
    sql: `
      CREATE TABLE jobs (
        id                 INTEGER PRIMARY KEY,
        kind               TEXT NOT NULL,
        dedupe_key         TEXT NOT NULL UNIQUE,
        payload            TEXT NOT NULL,
        state              TEXT NOT NULL CHECK (state IN ('ready', 'leased', 'done', 'dead')),
        attempts           INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        max_attempts       INTEGER NOT NULL CHECK (max_attempts >= 1),
        run_at_ms          INTEGER NOT NULL,
        lease_until_ms     INTEGER,
        lease_token        TEXT,
        last_error_code    TEXT,
        last_error_message TEXT,
        created_at_ms      INTEGER NOT NULL,
        updated_at_ms      INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX jobs_ready_due ON jobs (state, run_at_ms, id) WHERE state = 'ready';
      CREATE INDEX jobs_leased_due ON jobs (state, lease_until_ms, id) WHERE state = 'leased';
      CREATE INDEX jobs_dead ON jobs (updated_at_ms) WHERE state = 'dead';
    `,
  },
  {
    version: 3,
    name: 'access',
    // Users and API tokens (ports/access-store.ts). Only the SHA-256 of a token is stored: tokens
    // are 256-bit random secrets, so a fast hash suffices (no dictionary to guess from).
    sql: `
      CREATE TABLE users (
        user_id       TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE api_tokens (
        token_id      TEXT PRIMARY KEY,
        user_id       TEXT NOT NULL REFERENCES users (user_id),
        label         TEXT NOT NULL,
        secret_sha256 BLOB NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
        created_at_ms INTEGER NOT NULL,
        revoked_at_ms INTEGER
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'studies_and_cases',
    // Study assembly (ports/study-registry.ts) and judged cases (ports/case-store.ts). Keys are
    // pseudonymous; `results` is the JSON of the predict results, which hold no identifier.
    sql: `
      CREATE TABLE studies (
        study_key              TEXT PRIMARY KEY,
        study_uid              TEXT NOT NULL,
        instances              INTEGER NOT NULL CHECK (instances >= 0),
        first_received_at_ms   INTEGER NOT NULL,
        last_received_at_ms    INTEGER NOT NULL,
        state                  TEXT NOT NULL CHECK (state IN ('receiving', 'queued'))
      ) STRICT;
      CREATE INDEX studies_receiving ON studies (last_received_at_ms) WHERE state = 'receiving';
      -- One row per stored instance, so that recording an instance twice (a resend after a crash
      -- between storing and recording) counts it once.
      CREATE TABLE study_instances (
        study_key       TEXT NOT NULL REFERENCES studies (study_key),
        sop_uid         TEXT NOT NULL,
        received_at_ms  INTEGER NOT NULL,
        PRIMARY KEY (study_key, sop_uid)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE cases (
        case_id       TEXT PRIMARY KEY,
        study_key     TEXT NOT NULL,
        model         TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        results       TEXT NOT NULL
      ) STRICT;
      CREATE INDEX cases_by_study ON cases (study_key, created_at_ms);
    `,
  },
  {
    version: 5,
    name: 'worklist_and_reviews',
    // The review worklist and reviewers' reads (ports/worklist-store.ts). A review's comment is free
    // text a reviewer typed; it stays here and never reaches a log or the audit trail.
    sql: `
      CREATE TABLE worklist_items (
        item_id       TEXT PRIMARY KEY,
        case_id       TEXT NOT NULL REFERENCES cases (case_id),
        study_key     TEXT NOT NULL,
        result_index  INTEGER NOT NULL CHECK (result_index >= 0),
        reasons       TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('open', 'reviewed')),
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX worklist_open ON worklist_items (created_at_ms) WHERE state = 'open';
      CREATE TABLE reviews (
        review_id        TEXT PRIMARY KEY,
        item_id          TEXT NOT NULL UNIQUE REFERENCES worklist_items (item_id),
        reviewer_id      TEXT NOT NULL,
        finding_present  INTEGER CHECK (finding_present IN (0, 1)),
        quality_adequate INTEGER NOT NULL CHECK (quality_adequate IN (0, 1)),
        agrees_with_model INTEGER CHECK (agrees_with_model IN (0, 1)),
        comment          TEXT NOT NULL,
        created_at_ms    INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'dashboard_sessions',
    // Passwords (scrypt, adapters/crypto-node/password-hasher.ts), dashboard sessions and failed
    // sign-ins (ports/session-store.ts). A session is found by the SHA-256 of its cookie value, so
    // the file holds nothing that signs anyone in. A failure is kept under the SHA-256 of its key
    // (a typed user name or a client address), never the text, and outlives a restart so that a
    // restart does not reset the rate limit.
    sql: `
      CREATE TABLE user_passwords (
        user_id       TEXT PRIMARY KEY REFERENCES users (user_id),
        hash          TEXT NOT NULL,
        changed_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE sessions (
        session_id      TEXT PRIMARY KEY,
        secret_sha256   BLOB NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
        user_id         TEXT NOT NULL REFERENCES users (user_id),
        csrf_token      TEXT NOT NULL,
        method          TEXT NOT NULL CHECK (method IN ('password', 'token')),
        created_at_ms   INTEGER NOT NULL,
        last_seen_at_ms INTEGER NOT NULL,
        expires_at_ms   INTEGER NOT NULL,
        ended_at_ms     INTEGER
      ) STRICT;
      CREATE INDEX sessions_live_by_user ON sessions (user_id) WHERE ended_at_ms IS NULL;
      CREATE TABLE login_failures (
        key_sha256 BLOB NOT NULL CHECK (length(key_sha256) = 32),
        at_ms      INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX login_failures_by_key ON login_failures (key_sha256, at_ms);
      -- Audit search by type, newest first (GET /api/audit/entries?type=).
      CREATE INDEX audit_entries_by_type ON audit_entries (type, idx);
    `,
  },
  {
    version: 7,
    name: 'reidentification_vault',
    // The originals a result needs to go back to the patient's study (ports/reidentification-vault.ts),
    // one row per received instance, keyed by its pseudonymous UIDs. `sealed` is AES-256-GCM
    // (adapters/crypto-node/result-sealer.ts) under a key derived from the site secret, bound to the
    // row's pseudonymous SOP Instance UID: the file alone re-identifies nobody.
    sql: `
      CREATE TABLE reidentification_vault (
        sop_uid       TEXT PRIMARY KEY,
        study_uid     TEXT NOT NULL,
        sealed        BLOB NOT NULL,
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX reidentification_vault_by_study ON reidentification_vault (study_uid);
    `,
  },
  {
    version: 8,
    name: 'study_lifecycle',
    // A study's whole life in the store (ports/study-registry.ts, case-store.ts, worklist-store.ts):
    // - studies: the states after `queued` (judging, judged, failed), and `quiet_from_ms`, when the
    //   quiet period started (the last arrival, or a later server start), so every process agrees.
    //   Studies left `queued` by earlier builds take the state their inference job says.
    // - cases: how many instances were judged, and the supersession links; at most one current case
    //   per study (the unique index). Cases earlier builds made twice for one study are linked in the
    //   order they were made, and their instance count is read back from the case id (the job's
    //   dedupe key, `infer:<study key>:<instances>:<model sha256>`).
    // - worklist items: `superseded`, for the open items of a superseded case.
    // SQLite cannot change a CHECK constraint in place: studies and worklist_items are rebuilt.
    rebuildsTables: true,
    sql: `
      CREATE TABLE studies_new (
        study_key              TEXT PRIMARY KEY,
        study_uid              TEXT NOT NULL,
        instances              INTEGER NOT NULL CHECK (instances >= 0),
        first_received_at_ms   INTEGER NOT NULL,
        last_received_at_ms    INTEGER NOT NULL,
        quiet_from_ms          INTEGER NOT NULL,
        state                  TEXT NOT NULL CHECK (state IN ('receiving', 'queued', 'judging', 'judged', 'failed'))
      ) STRICT;
      INSERT INTO studies_new (study_key, study_uid, instances, first_received_at_ms, last_received_at_ms, quiet_from_ms, state)
        SELECT study_key, study_uid, instances, first_received_at_ms, last_received_at_ms, last_received_at_ms, state FROM studies;
      DROP TABLE studies;
      ALTER TABLE studies_new RENAME TO studies;
      CREATE INDEX studies_receiving ON studies (quiet_from_ms) WHERE state = 'receiving';
      UPDATE studies SET state = coalesce((
        SELECT CASE j.state WHEN 'done' THEN 'judged' WHEN 'dead' THEN 'failed' WHEN 'leased' THEN 'judging' ELSE 'queued' END
        FROM jobs j
        WHERE j.kind = 'infer-study'
          AND substr(j.dedupe_key, 1, length('infer:' || studies.study_key || ':' || studies.instances || ':')) = 'infer:' || studies.study_key || ':' || studies.instances || ':'
        ORDER BY j.id DESC LIMIT 1), state)
      WHERE state = 'queued';

      ALTER TABLE cases ADD COLUMN instances INTEGER NOT NULL DEFAULT 0 CHECK (instances >= 0);
      ALTER TABLE cases ADD COLUMN supersedes TEXT;
      ALTER TABLE cases ADD COLUMN superseded_by TEXT;
      UPDATE cases SET instances = CAST(substr(case_id, 43, instr(substr(case_id, 43), ':') - 1) AS INTEGER)
        WHERE case_id GLOB 'infer:st-*' AND length(case_id) > 43 AND substr(case_id, 42, 1) = ':' AND instr(substr(case_id, 43), ':') > 1;
      UPDATE cases SET superseded_by = (
        SELECT n.case_id FROM cases n
        WHERE n.study_key = cases.study_key
          AND (n.created_at_ms > cases.created_at_ms OR (n.created_at_ms = cases.created_at_ms AND n.case_id > cases.case_id))
        ORDER BY n.created_at_ms, n.case_id LIMIT 1);
      UPDATE cases SET supersedes = (SELECT p.case_id FROM cases p WHERE p.superseded_by = cases.case_id);
      CREATE UNIQUE INDEX cases_current ON cases (study_key) WHERE superseded_by IS NULL;

      CREATE TABLE worklist_items_new (
        item_id       TEXT PRIMARY KEY,
        case_id       TEXT NOT NULL REFERENCES cases (case_id),
        study_key     TEXT NOT NULL,
        result_index  INTEGER NOT NULL CHECK (result_index >= 0),
        reasons       TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('open', 'reviewed', 'superseded')),
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      INSERT INTO worklist_items_new (item_id, case_id, study_key, result_index, reasons, state, created_at_ms)
        SELECT item_id, case_id, study_key, result_index, reasons, state, created_at_ms FROM worklist_items;
      DROP TABLE worklist_items;
      ALTER TABLE worklist_items_new RENAME TO worklist_items;
      CREATE INDEX worklist_open ON worklist_items (created_at_ms) WHERE state = 'open';
      CREATE INDEX worklist_by_case ON worklist_items (case_id, result_index);
      UPDATE worklist_items SET state = 'superseded'
        WHERE state = 'open' AND case_id IN (SELECT case_id FROM cases WHERE superseded_by IS NOT NULL);
    `,
  },
  {
    version: 9,
    name: 'model_registry',
    // Registered model versions (ports/model-registry.ts): immutable, content-addressed (the id is the
    // SHA-256 of the bundle's canonical listing), with their lineage. The bundles' bytes are in the
    // archive folder (VIGIL_DATA_DIR/registry/<version id>), not here.
    sql: `
      CREATE TABLE model_versions (
        version_id        TEXT PRIMARY KEY CHECK (length(version_id) = 64),
        model_id          TEXT NOT NULL,
        model_version     TEXT NOT NULL,
        model_sha256      TEXT NOT NULL,
        name              TEXT NOT NULL,
        parent_version_id TEXT REFERENCES model_versions (version_id),
        lineage           TEXT NOT NULL,
        files             INTEGER NOT NULL CHECK (files >= 0),
        bytes             INTEGER NOT NULL CHECK (bytes >= 0),
        registered_at_ms  INTEGER NOT NULL,
        registered_by     TEXT NOT NULL
      ) STRICT;
      CREATE INDEX model_versions_by_identity ON model_versions (model_id, model_version, model_sha256);
    `,
  },
  {
    version: 10,
    name: 'worklist_priority_and_columns',
    // One worklist item per judged study (domain/review/worklist.ts), listed by clinical priority, then
    // oldest first, filtered and paged on the server (ports/worklist-store.ts). Items from before keep
    // their one image; their priority is derived from their reasons as worklistPriority does. The queue
    // index serves the listing's order and its keyset paging; filters on the other columns scan what is
    // open (a worklist is hundreds of items, not millions).
    sql: `
      ALTER TABLE worklist_items ADD COLUMN priority_rank INTEGER NOT NULL DEFAULT 3 CHECK (priority_rank BETWEEN 0 AND 3);
      ALTER TABLE worklist_items ADD COLUMN result_indexes TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE worklist_items ADD COLUMN modalities TEXT NOT NULL DEFAULT '';
      ALTER TABLE worklist_items ADD COLUMN body_part TEXT;
      ALTER TABLE worklist_items ADD COLUMN patient_age TEXT;
      ALTER TABLE worklist_items ADD COLUMN site TEXT;
      ALTER TABLE worklist_items ADD COLUMN device TEXT;
      ALTER TABLE worklist_items ADD COLUMN probability REAL;
      UPDATE worklist_items SET priority_rank = CASE
        WHEN reasons LIKE '%"model_referred"%' THEN 0
        WHEN reasons LIKE '%"gate_warned"%' THEN 1
        WHEN reasons LIKE '%"gate_rejected"%' THEN 2
        WHEN reasons LIKE '%"gate_unchecked"%' THEN 1
        ELSE 3 END, result_indexes = '[' || result_index || ']';
      DROP INDEX worklist_open;
      CREATE INDEX worklist_queue ON worklist_items (state, priority_rank, created_at_ms, item_id);
    `,
  },
  {
    version: 11,
    name: 'study_lookup',
    // Finding a study by what its sender knows, and who may read it (src/ports/study-registry.ts,
    // StudyFacts): the senders of each study (an integration reads the studies it sent), the keyed
    // lookup key of each Accession Number (never the number), and the de-identified Study Date and
    // modalities QIDO-RS answers with. Studies received before this migration have none of these.
    sql: `
      ALTER TABLE studies ADD COLUMN study_date TEXT;
      CREATE TABLE study_senders (
        study_key        TEXT NOT NULL,
        user_id          TEXT NOT NULL,
        first_sent_at_ms INTEGER NOT NULL,
        PRIMARY KEY (study_key, user_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX study_senders_by_user ON study_senders (user_id, study_key);
      CREATE TABLE study_accessions (
        accession_key TEXT NOT NULL,
        study_key     TEXT NOT NULL,
        PRIMARY KEY (accession_key, study_key)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE study_modalities (
        study_key TEXT NOT NULL,
        modality  TEXT NOT NULL,
        PRIMARY KEY (study_key, modality)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX study_modalities_by_modality ON study_modalities (modality, study_key);
      CREATE INDEX studies_by_date ON studies (study_date) WHERE study_date IS NOT NULL;
      -- Searches and lists answer newest arrival first.
      CREATE INDEX studies_by_arrival ON studies (last_received_at_ms DESC, study_key);
    `,
  },
  {
    version: 12,
    name: 'token_lifecycle',
    // API token lifecycle (ports/access-store.ts): an optional expiry, the last use (recorded at most
    // once a minute), and tokens listed per user.
    sql: `
      ALTER TABLE api_tokens ADD COLUMN expires_at_ms INTEGER;
      ALTER TABLE api_tokens ADD COLUMN last_used_at_ms INTEGER;
      CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at_ms);
    `,
  },
  {
    version: 13,
    name: 'study_site',
    // The configured site a study came from (domain/deployment/sites.ts: by calling AE title or sending
    // account, else the default site), recorded at its first instance: the site half of the deployment
    // key (site × model version). Studies received before have none.
    sql: `ALTER TABLE studies ADD COLUMN site TEXT;`,
  },
  {
    version: 14,
    name: 'deployments',
    // What judges each site's studies (domain/deployment/deployment.ts): the whole state as one document,
    // changed by compare-and-set on its generation; and each case a shadow candidate judged beside
    // production, with how many images they agreed on (ports/deployment-store.ts).
    sql: `
      CREATE TABLE deployments (
        site          TEXT PRIMARY KEY,
        generation    INTEGER NOT NULL,
        state         TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE shadow_comparisons (
        case_id               TEXT NOT NULL,
        candidate_version_id  TEXT NOT NULL,
        site                  TEXT NOT NULL,
        production_version_id TEXT NOT NULL,
        request_id            TEXT,
        images                INTEGER NOT NULL,
        agreed_images         INTEGER NOT NULL,
        created_at_ms         INTEGER NOT NULL,
        PRIMARY KEY (case_id, candidate_version_id)
      ) STRICT;
      CREATE INDEX shadow_by_candidate ON shadow_comparisons (site, candidate_version_id, request_id);
    `,
  },
  {
    version: 15,
    name: 'release_requests',
    // Release requests (domain/release/release-request.ts): the request and the protocol it pinned, as one
    // document, changed by compare-and-set on its revision (ports/release-store.ts); site and state are
    // copied out for listing.
    sql: `
      CREATE TABLE release_requests (
        request_id    TEXT PRIMARY KEY,
        site          TEXT NOT NULL,
        state         TEXT NOT NULL,
        document      TEXT NOT NULL,
        revision      INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX release_requests_by_site ON release_requests (site, created_at_ms);
      CREATE INDEX release_requests_by_time ON release_requests (created_at_ms);
    `,
  },
  {
    version: 16,
    name: 'monitoring',
    // Production monitoring (docs/monitoring.md, "In the server"; ports/monitor-store.ts, incident-store.ts):
    // each judged image's monitor values per deployment (site × version), appended in seq order and never
    // re-derived from images; each deployment's designed plan, its detectors' running state (compare-and-set
    // on revision), its alerts (one row per alarm id: two servers never store one twice), and incidents
    // (at most one not resolved per deployment: the partial unique index).
    sql: `
      CREATE TABLE monitor_cases (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        site          TEXT NOT NULL,
        version_id    TEXT NOT NULL,
        origin        TEXT NOT NULL,
        case_id       TEXT NOT NULL,
        image_ref     TEXT NOT NULL,
        study_key     TEXT NOT NULL,
        time_ms       INTEGER NOT NULL,
        manufacturer  TEXT,
        device_model  TEXT,
        has_device    INTEGER NOT NULL,
        vals          TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX monitor_cases_once ON monitor_cases (site, version_id, case_id, image_ref);
      CREATE INDEX monitor_cases_by_key ON monitor_cases (site, version_id, seq);
      CREATE INDEX monitor_cases_by_time ON monitor_cases (site, version_id, time_ms, seq);
      CREATE TABLE monitor_plans (
        site          TEXT NOT NULL,
        version_id    TEXT NOT NULL,
        document      TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (site, version_id)
      ) STRICT;
      CREATE TABLE monitor_states (
        site          TEXT NOT NULL,
        version_id    TEXT NOT NULL,
        plan_hash     TEXT NOT NULL,
        state         TEXT NOT NULL,
        last_seq      INTEGER NOT NULL,
        revision      INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (site, version_id)
      ) STRICT;
      CREATE TABLE monitor_alerts (
        alert_id      TEXT PRIMARY KEY,
        site          TEXT NOT NULL,
        version_id    TEXT NOT NULL,
        alarm_seq     INTEGER NOT NULL,
        document      TEXT NOT NULL,
        incident_id   TEXT,
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX monitor_alerts_by_key ON monitor_alerts (site, version_id, created_at_ms);
      CREATE INDEX monitor_alerts_by_time ON monitor_alerts (created_at_ms);
      CREATE TABLE incidents (
        incident_id   TEXT PRIMARY KEY,
        site          TEXT NOT NULL,
        version_id    TEXT NOT NULL,
        state         TEXT NOT NULL,
        severity      TEXT NOT NULL,
        document      TEXT NOT NULL,
        revision      INTEGER NOT NULL,
        opened_at_ms  INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX incidents_one_open ON incidents (site, version_id) WHERE state <> 'resolved';
      CREATE INDEX incidents_by_time ON incidents (opened_at_ms);
    `,
  },
  {
    version: 17,
    name: 'monitor-acquisition',
    // Each monitored image's acquisition record (manufacturer, model, software version, kVp, pixel spacing,
    // photometric interpretation, body part, view, transfer syntax: domain/monitoring/acquisition-signals.ts),
    // as JSON; null for an image recorded before this migration (its fields count as "not stated").
    sql: `ALTER TABLE monitor_cases ADD COLUMN acquisition TEXT;`,
  },
  {
    version: 18,
    name: 'monitor-embedding',
    // Each monitored image's embedding summary (domain/monitoring/embedding-summary.ts): its projection onto
    // the version reference's top principal components, k float32 values little-endian (k = 8: 32 bytes).
    // Null when there is none: the model declares no embedding output, the version carries no projection,
    // the gate rejected the image, or it was recorded before this migration.
    sql: `ALTER TABLE monitor_cases ADD COLUMN embedding BLOB;`,
  },
  {
    version: 19,
    name: 'monitor-baseline-start',
    // Where a site's production baselines begin (docs/monitoring.md, "Reference and design"): its deployments'
    // cases after this seq. Set once (go-live): what was judged before it (commissioning, connection tests, the
    // demo's sample files) is kept but is neither a baseline's reference nor watched.
    sql: `
      CREATE TABLE monitor_baseline_starts (
        site          TEXT PRIMARY KEY,
        after_seq     INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 20,
    name: 'worklist-sampling-probability',
    // The probability each worklist item was put on the worklist, as decided when it was (domain/review/
    // worklist.ts studyWorklistEntry): 1 for a rule, the review sample rate of that moment for a random
    // sample. Performance from reviews weights a read by it; null for an item stored before this migration
    // (the reader falls back to the rate configured now, docs/monitoring.md).
    sql: `ALTER TABLE worklist_items ADD COLUMN sampling_probability REAL;`,
  },
  {
    version: 21,
    name: 'monitor-review-events',
    // Review events in a deployment's monitored stream (ports/monitor-store.ts `review`): a clinician's
    // review of a confident decision sampled at the rate, as {stratum, wrong} JSON, in the same seq order
    // as the images, so the review detectors run in the same advance; null for an image. The case index
    // finds a reviewed case's images.
    sql: `
      ALTER TABLE monitor_cases ADD COLUMN review TEXT;
      CREATE INDEX monitor_cases_by_case ON monitor_cases (case_id, seq);
    `,
  },
];
