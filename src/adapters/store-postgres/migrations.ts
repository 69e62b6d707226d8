/**
 * Numbered schema migrations for Vigil's PostgreSQL store, applied in order by `migratePostgres` and
 * recorded in `schema_migrations`. Append only: once released, a migration's SQL never changes (a
 * database that ran it would silently differ from a new one); fix forward with a new number. The
 * numbers are this store's own: they need not match SQLite's (store-sqlite/migrations.ts), whose
 * tables they mirror.
 *
 * Times are epoch milliseconds (bigint), as in SQLite: the ports take their clock from the caller
 * (a test's manual clock, the process's clock), not from the database.
 */
export interface PostgresMigration {
  /** 1, 2, 3, … with no gaps. */
  readonly version: number;
  /** Recorded with the version; migrating fails if a database ran a different migration under this number. */
  readonly name: string;
  readonly sql: string;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'audit_log',
    // As SQLite's migration 1: one row per leaf of the RFC 6962 tree and one signed tree head per
    // append; `body` is the canonical JSON the leaf hashes. The triggers stop accidental edits by
    // application code (they are no defence against the database's owner, which is what the Merkle
    // tree and the signatures are for). `audit_signing_key` pins the public half of the key that
    // signs the heads, so that a process started with another key file refuses to open the log
    // instead of writing heads that no longer verify (every process of a cluster must hold one key).
    sql: `
      CREATE TABLE audit_entries (
        idx       bigint PRIMARY KEY CHECK (idx >= 0),
        audit_id  text NOT NULL UNIQUE,
        time      text NOT NULL,
        type      text NOT NULL,
        body      text NOT NULL,
        leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32)
      );
      CREATE TABLE audit_tree_heads (
        tree_size bigint PRIMARY KEY CHECK (tree_size >= 1),
        root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
        time      text NOT NULL,
        signature bytea NOT NULL CHECK (octet_length(signature) = 64)
      );
      CREATE TABLE audit_signing_key (
        singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        public_key  text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE FUNCTION vigil_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END
      $$;
      CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();
      CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
        FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse_change();
      CREATE TRIGGER audit_tree_heads_append_only BEFORE UPDATE OR DELETE ON audit_tree_heads
        FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();
      CREATE TRIGGER audit_tree_heads_no_truncate BEFORE TRUNCATE ON audit_tree_heads
        FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse_change();
      CREATE TRIGGER audit_signing_key_append_only BEFORE UPDATE OR DELETE ON audit_signing_key
        FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();
    `,
  },
  {
    version: 2,
    name: 'job_queue',
    // The durable job queue (ports/job-queue.ts), as SQLite's migration 2. `dedupe_key` makes
    // enqueueing idempotent; the partial indexes serve "oldest due" for leasing.
    sql: `
      CREATE TABLE jobs (
        id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind               text NOT NULL,
        dedupe_key         text NOT NULL UNIQUE,
        payload            text NOT NULL,
        state              text NOT NULL CHECK (state IN ('ready', 'leased', 'done', 'dead')),
        attempts           integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        max_attempts       integer NOT NULL CHECK (max_attempts >= 1),
        run_at_ms          bigint NOT NULL,
        lease_until_ms     bigint,
        lease_token        text,
        last_error_code    text,
        last_error_message text,
        created_at_ms      bigint NOT NULL,
        updated_at_ms      bigint NOT NULL
      );
      CREATE INDEX jobs_ready_due ON jobs (run_at_ms, id) WHERE state = 'ready';
      CREATE INDEX jobs_leased_due ON jobs (lease_until_ms, id) WHERE state = 'leased';
      CREATE INDEX jobs_dead ON jobs (updated_at_ms) WHERE state = 'dead';
    `,
  },
  {
    version: 3,
    name: 'studies_and_cases',
    // Study assembly (ports/study-registry.ts) and judged cases (ports/case-store.ts), as SQLite's
    // migration 4. Keys are pseudonymous; `results` is the JSON of the predict results.
    sql: `
      CREATE TABLE studies (
        study_key            text PRIMARY KEY,
        study_uid            text NOT NULL,
        instances            integer NOT NULL CHECK (instances >= 0),
        first_received_at_ms bigint NOT NULL,
        last_received_at_ms  bigint NOT NULL,
        state                text NOT NULL CHECK (state IN ('receiving', 'queued'))
      );
      CREATE INDEX studies_receiving ON studies (last_received_at_ms) WHERE state = 'receiving';
      CREATE INDEX studies_recent ON studies (last_received_at_ms DESC);
      CREATE TABLE study_instances (
        study_key      text NOT NULL REFERENCES studies (study_key),
        sop_uid        text NOT NULL,
        received_at_ms bigint NOT NULL,
        PRIMARY KEY (study_key, sop_uid)
      );
      CREATE TABLE cases (
        case_id       text PRIMARY KEY,
        study_key     text NOT NULL,
        model         text NOT NULL,
        created_at_ms bigint NOT NULL,
        results       text NOT NULL
      );
      CREATE INDEX cases_by_study ON cases (study_key, created_at_ms);
      CREATE INDEX cases_recent ON cases (created_at_ms DESC);
    `,
  },
  {
    version: 4,
    name: 'worklist_and_reviews',
    // The review worklist and reviewers' reads (ports/worklist-store.ts), as SQLite's migration 5. A
    // review's comment is free text; it stays here and never reaches a log or the audit trail.
    sql: `
      CREATE TABLE worklist_items (
        item_id       text PRIMARY KEY,
        case_id       text NOT NULL REFERENCES cases (case_id),
        study_key     text NOT NULL,
        result_index  integer NOT NULL CHECK (result_index >= 0),
        reasons       text NOT NULL,
        state         text NOT NULL CHECK (state IN ('open', 'reviewed')),
        created_at_ms bigint NOT NULL
      );
      CREATE INDEX worklist_open ON worklist_items (created_at_ms, item_id) WHERE state = 'open';
      CREATE TABLE reviews (
        review_id         text PRIMARY KEY,
        item_id           text NOT NULL UNIQUE REFERENCES worklist_items (item_id),
        reviewer_id       text NOT NULL,
        finding_present   boolean,
        quality_adequate  boolean NOT NULL,
        agrees_with_model boolean,
        comment           text NOT NULL,
        created_at_ms     bigint NOT NULL
      );
      CREATE INDEX reviews_recent ON reviews (created_at_ms DESC);
    `,
  },
  {
    version: 5,
    name: 'access',
    // Users and API tokens (ports/access-store.ts), as SQLite's migration 3. Only the SHA-256 of a
    // token is stored: tokens are 256-bit random secrets, so a fast hash suffices.
    sql: `
      CREATE TABLE users (
        user_id       text PRIMARY KEY,
        name          text NOT NULL UNIQUE,
        role          text NOT NULL,
        disabled      boolean NOT NULL DEFAULT false,
        created_at_ms bigint NOT NULL
      );
      CREATE TABLE api_tokens (
        token_id      text PRIMARY KEY,
        user_id       text NOT NULL REFERENCES users (user_id),
        label         text NOT NULL,
        secret_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(secret_sha256) = 32),
        created_at_ms bigint NOT NULL,
        revoked_at_ms bigint
      );
    `,
  },
  {
    version: 6,
    name: 'dashboard_sessions',
    // Passwords, dashboard sessions and failed sign-ins (ports/session-store.ts), as SQLite's migration
    // 6: a session is found by the SHA-256 of its cookie value, a failure is kept under the SHA-256 of
    // its key (a typed user name or a client address), never the text. In the shared store, a rate
    // limit counted by one server holds at every other. The type index serves audit search.
    sql: `
      CREATE TABLE user_passwords (
        user_id       text PRIMARY KEY REFERENCES users (user_id),
        hash          text NOT NULL,
        changed_at_ms bigint NOT NULL
      );
      CREATE TABLE sessions (
        session_id      text PRIMARY KEY,
        secret_sha256   bytea NOT NULL UNIQUE CHECK (octet_length(secret_sha256) = 32),
        user_id         text NOT NULL REFERENCES users (user_id),
        csrf_token      text NOT NULL,
        method          text NOT NULL CHECK (method IN ('password', 'token')),
        created_at_ms   bigint NOT NULL,
        last_seen_at_ms bigint NOT NULL,
        expires_at_ms   bigint NOT NULL,
        ended_at_ms     bigint
      );
      CREATE INDEX sessions_live_by_user ON sessions (user_id) WHERE ended_at_ms IS NULL;
      CREATE TABLE login_failures (
        key_sha256 bytea NOT NULL CHECK (octet_length(key_sha256) = 32),
        at_ms      bigint NOT NULL
      );
      CREATE INDEX login_failures_by_key ON login_failures (key_sha256, at_ms);
      CREATE INDEX login_failures_by_time ON login_failures (at_ms);
      CREATE INDEX audit_entries_by_type ON audit_entries (type, idx);
    `,
  },
  {
    version: 7,
    name: 'reidentification_vault',
    // The originals a result needs to go back to the patient's study (ports/reidentification-vault.ts),
    // as SQLite's migration 7: `sealed` is AES-256-GCM under a key derived from the site secret (which
    // every server of a cluster holds), bound to the row's pseudonymous SOP Instance UID, so the
    // database alone re-identifies nobody.
    sql: `
      CREATE TABLE reidentification_vault (
        sop_uid       text PRIMARY KEY,
        study_uid     text NOT NULL,
        sealed        bytea NOT NULL,
        created_at_ms bigint NOT NULL
      );
      CREATE INDEX reidentification_vault_by_study ON reidentification_vault (study_uid);
    `,
  },
  {
    version: 8,
    name: 'study_lifecycle',
    // A study's whole life in the shared store, as SQLite's migration 8: the states after `queued` and
    // `quiet_from_ms` (when the quiet period started: the last arrival, or a later start of any server,
    // so that every server agrees); studies left `queued` take their inference job's state. Cases get
    // their instance count (read back from the case id, `infer:<study key>:<instances>:<sha256>`) and
    // the supersession links, cases made twice for one study by earlier builds linked in the order they
    // were made, and at most one current case per study. Worklist items get `superseded`.
    sql: `
      ALTER TABLE studies ADD COLUMN quiet_from_ms bigint;
      UPDATE studies SET quiet_from_ms = last_received_at_ms;
      ALTER TABLE studies ALTER COLUMN quiet_from_ms SET NOT NULL;
      ALTER TABLE studies DROP CONSTRAINT studies_state_check;
      ALTER TABLE studies ADD CONSTRAINT studies_state_check CHECK (state IN ('receiving', 'queued', 'judging', 'judged', 'failed'));
      DROP INDEX studies_receiving;
      CREATE INDEX studies_receiving ON studies (quiet_from_ms) WHERE state = 'receiving';
      UPDATE studies s SET state = coalesce((
        SELECT CASE j.state WHEN 'done' THEN 'judged' WHEN 'dead' THEN 'failed' WHEN 'leased' THEN 'judging' ELSE 'queued' END
        FROM jobs j
        WHERE j.kind = 'infer-study' AND starts_with(j.dedupe_key, 'infer:' || s.study_key || ':' || s.instances || ':')
        ORDER BY j.id DESC LIMIT 1), s.state)
      WHERE s.state = 'queued';

      ALTER TABLE cases ADD COLUMN instances integer NOT NULL DEFAULT 0 CHECK (instances >= 0);
      ALTER TABLE cases ADD COLUMN supersedes text;
      ALTER TABLE cases ADD COLUMN superseded_by text;
      UPDATE cases SET instances = split_part(case_id, ':', 3)::integer WHERE case_id ~ '^infer:st-[0-9a-f]{32}:[0-9]{1,9}:';
      UPDATE cases c SET superseded_by = (
        SELECT n.case_id FROM cases n
        WHERE n.study_key = c.study_key AND (n.created_at_ms, n.case_id COLLATE "C") > (c.created_at_ms, c.case_id COLLATE "C")
        ORDER BY n.created_at_ms, n.case_id COLLATE "C" LIMIT 1);
      UPDATE cases c SET supersedes = (SELECT p.case_id FROM cases p WHERE p.superseded_by = c.case_id);
      CREATE UNIQUE INDEX cases_current ON cases (study_key) WHERE superseded_by IS NULL;

      ALTER TABLE worklist_items DROP CONSTRAINT worklist_items_state_check;
      ALTER TABLE worklist_items ADD CONSTRAINT worklist_items_state_check CHECK (state IN ('open', 'reviewed', 'superseded'));
      CREATE INDEX worklist_by_case ON worklist_items (case_id, result_index);
      UPDATE worklist_items SET state = 'superseded'
        WHERE state = 'open' AND case_id IN (SELECT case_id FROM cases WHERE superseded_by IS NOT NULL);
    `,
  },
  {
    version: 9,
    name: 'model_registry',
    // Registered model versions, as SQLite's migration 9, shared by every server: a version registered
    // at one is known to all (the bundles' bytes are in the archive folder on shared storage).
    sql: `
      CREATE TABLE model_versions (
        version_id        text PRIMARY KEY CHECK (length(version_id) = 64),
        model_id          text NOT NULL,
        model_version     text NOT NULL,
        model_sha256      text NOT NULL,
        name              text NOT NULL,
        parent_version_id text REFERENCES model_versions (version_id),
        lineage           jsonb NOT NULL,
        files             integer NOT NULL CHECK (files >= 0),
        bytes             bigint NOT NULL CHECK (bytes >= 0),
        registered_at_ms  bigint NOT NULL,
        registered_by     text NOT NULL
      );
      CREATE INDEX model_versions_by_identity ON model_versions (model_id, model_version, model_sha256);
    `,
  },
  {
    version: 10,
    name: 'worklist_priority_and_columns',
    // As SQLite's migration 10: one item per judged study, listed by clinical priority, then oldest
    // first, filtered and paged on the server. Item ids compare byte by byte (COLLATE "C"), as in SQLite.
    sql: `
      ALTER TABLE worklist_items ADD COLUMN priority_rank integer NOT NULL DEFAULT 3 CHECK (priority_rank BETWEEN 0 AND 3);
      ALTER TABLE worklist_items ADD COLUMN result_indexes text NOT NULL DEFAULT '[]';
      ALTER TABLE worklist_items ADD COLUMN modalities text NOT NULL DEFAULT '';
      ALTER TABLE worklist_items ADD COLUMN body_part text;
      ALTER TABLE worklist_items ADD COLUMN patient_age text;
      ALTER TABLE worklist_items ADD COLUMN site text;
      ALTER TABLE worklist_items ADD COLUMN device text;
      ALTER TABLE worklist_items ADD COLUMN probability double precision;
      UPDATE worklist_items SET priority_rank = CASE
        WHEN reasons LIKE '%"model_referred"%' THEN 0
        WHEN reasons LIKE '%"gate_warned"%' THEN 1
        WHEN reasons LIKE '%"gate_rejected"%' THEN 2
        WHEN reasons LIKE '%"gate_unchecked"%' THEN 1
        ELSE 3 END, result_indexes = '[' || result_index || ']';
      DROP INDEX worklist_open;
      CREATE INDEX worklist_queue ON worklist_items (state, priority_rank, created_at_ms, item_id COLLATE "C");
    `,
  },
  {
    version: 11,
    name: 'study_lookup',
    // As SQLite's migration 11: senders, Accession Number lookup keys, de-identified Study Date and modalities.
    sql: `
      ALTER TABLE studies ADD COLUMN study_date text;
      CREATE TABLE study_senders (
        study_key        text NOT NULL,
        user_id          text NOT NULL,
        first_sent_at_ms bigint NOT NULL,
        PRIMARY KEY (study_key, user_id)
      );
      CREATE INDEX study_senders_by_user ON study_senders (user_id, study_key);
      CREATE TABLE study_accessions (
        accession_key text NOT NULL,
        study_key     text NOT NULL,
        PRIMARY KEY (accession_key, study_key)
      );
      CREATE TABLE study_modalities (
        study_key text NOT NULL,
        modality  text NOT NULL,
        PRIMARY KEY (study_key, modality)
      );
      CREATE INDEX study_modalities_by_modality ON study_modalities (modality, study_key);
      CREATE INDEX studies_by_date ON studies (study_date) WHERE study_date IS NOT NULL;
      -- Searches and lists answer newest arrival first.
      CREATE INDEX studies_by_arrival ON studies (last_received_at_ms DESC, study_key);
    `,
  },
  {
    version: 12,
    name: 'token_lifecycle',
    // API token lifecycle, as SQLite's migration 12: an optional expiry, the last use (recorded at most
    // once a minute), and tokens listed per user.
    sql: `
      ALTER TABLE api_tokens ADD COLUMN expires_at_ms bigint;
      ALTER TABLE api_tokens ADD COLUMN last_used_at_ms bigint;
      CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at_ms);
    `,
  },
  {
    version: 13,
    name: 'study_site',
    // The configured site a study came from (domain/deployment/sites.ts: by calling AE title or sending
    // account, else the default site), recorded at its first instance: the site half of the deployment
    // key (site × model version). Studies received before have none.
    sql: `ALTER TABLE studies ADD COLUMN site text;`,
  },
  {
    version: 14,
    name: 'deployments',
    // What judges each site's studies (domain/deployment/deployment.ts): the whole state as one document,
    // changed by compare-and-set on its generation; and each case a shadow candidate judged beside
    // production, with how many images they agreed on (ports/deployment-store.ts).
    sql: `
      CREATE TABLE deployments (
        site          text PRIMARY KEY,
        generation    bigint NOT NULL,
        state         jsonb NOT NULL,
        updated_at_ms bigint NOT NULL
      );
      CREATE TABLE shadow_comparisons (
        case_id               text NOT NULL,
        candidate_version_id  text NOT NULL,
        site                  text NOT NULL,
        production_version_id text NOT NULL,
        request_id            text,
        images                integer NOT NULL,
        agreed_images         integer NOT NULL,
        created_at_ms         bigint NOT NULL,
        PRIMARY KEY (case_id, candidate_version_id)
      );
      CREATE INDEX shadow_by_candidate ON shadow_comparisons (site, candidate_version_id, request_id);
    `,
  },
  {
    version: 15,
    name: 'release_requests',
    // Release requests, as SQLite's migration 15: the request and its pinned protocol as one document,
    // changed by compare-and-set on its revision; site and state copied out for listing.
    sql: `
      CREATE TABLE release_requests (
        request_id    text PRIMARY KEY,
        site          text NOT NULL,
        state         text NOT NULL,
        document      jsonb NOT NULL,
        revision      bigint NOT NULL,
        created_at_ms bigint NOT NULL,
        updated_at_ms bigint NOT NULL
      );
      CREATE INDEX release_requests_by_site ON release_requests (site, created_at_ms);
      CREATE INDEX release_requests_by_time ON release_requests (created_at_ms);
    `,
  },
  {
    version: 16,
    name: 'monitoring',
    // Production monitoring, as SQLite's migration 16. Appends of one deployment's cases are serialised by a
    // transaction-scoped advisory lock, so its seqs commit in order (a reader never skips a seq committed late).
    sql: `
      CREATE TABLE monitor_cases (
        seq           bigserial PRIMARY KEY,
        site          text NOT NULL,
        version_id    text NOT NULL,
        origin        text NOT NULL,
        case_id       text NOT NULL,
        image_ref     text NOT NULL,
        study_key     text NOT NULL,
        time_ms       bigint NOT NULL,
        manufacturer  text,
        device_model  text,
        has_device    bigint NOT NULL,
        vals          text NOT NULL
      );
      CREATE UNIQUE INDEX monitor_cases_once ON monitor_cases (site, version_id, case_id, image_ref);
      CREATE INDEX monitor_cases_by_key ON monitor_cases (site, version_id, seq);
      CREATE INDEX monitor_cases_by_time ON monitor_cases (site, version_id, time_ms, seq);
      CREATE TABLE monitor_plans (
        site          text NOT NULL,
        version_id    text NOT NULL,
        document      text NOT NULL,
        created_at_ms bigint NOT NULL,
        PRIMARY KEY (site, version_id)
      );
      CREATE TABLE monitor_states (
        site          text NOT NULL,
        version_id    text NOT NULL,
        plan_hash     text NOT NULL,
        state         text NOT NULL,
        last_seq      bigint NOT NULL,
        revision      bigint NOT NULL,
        updated_at_ms bigint NOT NULL,
        PRIMARY KEY (site, version_id)
      );
      CREATE TABLE monitor_alerts (
        alert_id      text PRIMARY KEY,
        site          text NOT NULL,
        version_id    text NOT NULL,
        alarm_seq     bigint NOT NULL,
        document      text NOT NULL,
        incident_id   text,
        created_at_ms bigint NOT NULL
      );
      CREATE INDEX monitor_alerts_by_key ON monitor_alerts (site, version_id, created_at_ms);
      CREATE INDEX monitor_alerts_by_time ON monitor_alerts (created_at_ms);
      CREATE TABLE incidents (
        incident_id   text PRIMARY KEY,
        site          text NOT NULL,
        version_id    text NOT NULL,
        state         text NOT NULL,
        severity      text NOT NULL,
        document      text NOT NULL,
        revision      bigint NOT NULL,
        opened_at_ms  bigint NOT NULL
      );
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
    sql: `ALTER TABLE monitor_cases ADD COLUMN acquisition text;`,
  },
  {
    version: 18,
    name: 'monitor-embedding',
    // Each monitored image's embedding summary (domain/monitoring/embedding-summary.ts): its projection onto
    // the version reference's top principal components, k float32 values little-endian (k = 8: 32 bytes).
    // Null when there is none: the model declares no embedding output, the version carries no projection,
    // the gate rejected the image, or it was recorded before this migration.
    sql: `ALTER TABLE monitor_cases ADD COLUMN embedding bytea;`,
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
        after_seq     BIGINT NOT NULL,
        created_at_ms BIGINT NOT NULL
      );
    `,
  },
  {
    version: 20,
    name: 'worklist-sampling-probability',
    // The probability each worklist item was put on the worklist, as decided when it was (domain/review/
    // worklist.ts studyWorklistEntry): 1 for a rule, the review sample rate of that moment for a random
    // sample. Performance from reviews weights a read by it; null for an item stored before this migration
    // (the reader falls back to the rate configured now, docs/monitoring.md).
    sql: `ALTER TABLE worklist_items ADD COLUMN sampling_probability double precision;`,
  },
  {
    version: 21,
    name: 'monitor-review-events',
    // Review events in a deployment's monitored stream (ports/monitor-store.ts `review`): a clinician's
    // review of a confident decision sampled at the rate, as {stratum, wrong} JSON, in the same seq order
    // as the images, so the review detectors run in the same advance; null for an image. The case index
    // finds a reviewed case's images.
    sql: `
      ALTER TABLE monitor_cases ADD COLUMN review text;
      CREATE INDEX monitor_cases_by_case ON monitor_cases (case_id, seq);
    `,
  },
];
