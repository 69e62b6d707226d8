/**
 * The one place that chooses the backend of every store: PostgreSQL when VIGIL_DATABASE_URL is set
 * (one store for every Vigil process, README "Scaling out"), otherwise the SQLite file in the data
 * folder. Nothing else names a store adapter.
 */
import { openSqliteDatabase, type SqliteDatabase } from '../adapters/store-sqlite/open-sqlite.js';
import { SqliteAccessStore } from '../adapters/store-sqlite/sqlite-access-store.js';
import { SqliteAuditLog } from '../adapters/store-sqlite/sqlite-audit-log.js';
import { SqliteAuditSearch } from '../adapters/store-sqlite/sqlite-audit-search.js';
import { SqliteJobQueue } from '../adapters/store-sqlite/sqlite-job-queue.js';
import { SqliteDeploymentStore } from '../adapters/store-sqlite/sqlite-deployment-store.js';
import { SqliteIncidentStore } from '../adapters/store-sqlite/sqlite-incident-store.js';
import { SqliteMonitorStore } from '../adapters/store-sqlite/sqlite-monitor-store.js';
import { SqliteModelRegistry } from '../adapters/store-sqlite/sqlite-model-registry.js';
import { SqliteReleaseStore } from '../adapters/store-sqlite/sqlite-release-store.js';
import { SqliteReidentificationVault } from '../adapters/store-sqlite/sqlite-reidentification-vault.js';
import { SqliteSessionStore } from '../adapters/store-sqlite/sqlite-session-store.js';
import { SqliteCaseStore, SqliteStudyRegistry } from '../adapters/store-sqlite/sqlite-study-registry.js';
import { SqliteSystemStats } from '../adapters/store-sqlite/sqlite-system-stats.js';
import { SqliteWorklistStore } from '../adapters/store-sqlite/sqlite-worklist-store.js';
import type { PostgresPool } from '../adapters/store-postgres/open-postgres.js';
import { PostgresAccessStore } from '../adapters/store-postgres/postgres-access-store.js';
import { PostgresAuditSearch } from '../adapters/store-postgres/postgres-audit-search.js';
import { PostgresConnection } from '../adapters/store-postgres/postgres-connection.js';
import { PostgresJobQueue } from '../adapters/store-postgres/postgres-job-queue.js';
import { PostgresDeploymentStore } from '../adapters/store-postgres/postgres-deployment-store.js';
import { PostgresIncidentStore } from '../adapters/store-postgres/postgres-incident-store.js';
import { PostgresMonitorStore } from '../adapters/store-postgres/postgres-monitor-store.js';
import { PostgresModelRegistry } from '../adapters/store-postgres/postgres-model-registry.js';
import { PostgresReleaseStore } from '../adapters/store-postgres/postgres-release-store.js';
import { PostgresReidentificationVault } from '../adapters/store-postgres/postgres-reidentification-vault.js';
import { PostgresSessionStore } from '../adapters/store-postgres/postgres-session-store.js';
import { PostgresCaseStore, PostgresStudyRegistry } from '../adapters/store-postgres/postgres-study-registry.js';
import { PostgresSystemStats } from '../adapters/store-postgres/postgres-system-stats.js';
import { PostgresWorklistStore } from '../adapters/store-postgres/postgres-worklist-store.js';
import type { VigilConfig } from '../config/load-config.js';
import type { AccessStore } from '../ports/access-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { AuditSearch } from '../ports/audit-search.js';
import type { CaseStore } from '../ports/case-store.js';
import type { DeploymentStore } from '../ports/deployment-store.js';
import type { IncidentStore } from '../ports/incident-store.js';
import type { MonitorStore } from '../ports/monitor-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { Logger } from '../ports/logger.js';
import type { ModelRegistry } from '../ports/model-registry.js';
import type { ReleaseStore } from '../ports/release-store.js';
import type { ReidentificationVault } from '../ports/reidentification-vault.js';
import type { Sealer } from '../ports/sealer.js';
import type { SessionStore } from '../ports/session-store.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { SystemStats } from '../ports/system-stats.js';
import type { WorklistStore } from '../ports/worklist-store.js';
import { systemClock } from './settings.js';

export type { PostgresConnection, PostgresPool };

/** The shared PostgreSQL store (VIGIL_DATABASE_URL), connected on first use; undefined: SQLite. */
export function connectPostgres(config: VigilConfig, logger: Logger): PostgresConnection | undefined {
  if (config.databaseUrl === undefined) return undefined;
  return new PostgresConnection({
    connectionString: config.databaseUrl,
    onIdleError: (error) => logger.warn({ stage: 'store', code: (error as { code?: string }).code ?? 'unknown' }, 'a database connection failed'),
  });
}

/**
 * The stores a CLI process (createServices) reads and writes, each opened on its first use: the
 * audit log, and, on handles of their own, the audit search, the accounts and the model registry.
 * `close()` releases the SQLite handles opened (the audit log and the PostgreSQL connection are
 * closed by their owners).
 */
export interface ProcessStores {
  /** A new audit log (SQLite: its own file handle; PostgreSQL: on the connection); the caller keeps it. */
  openAuditLog(): AuditLog;
  /** Audit search (the evaluation's look-ups of earlier criteria registrations), opened once. */
  auditSearch(): Promise<AuditSearch>;
  /** Accounts and sessions (`vigil users`: the recovery path), on one handle opened per call. */
  openAccountStores(): Promise<{ readonly access: AccessStore; readonly sessions: SessionStore }>;
  /** The model registry's records, on a handle opened per call. */
  openModelRegistry(): Promise<ModelRegistry>;
  /** Deployments per site and shadow comparisons, on a handle opened per call. */
  openDeploymentStore(): Promise<DeploymentStore>;
  /** Release requests, on a handle opened per call. */
  openReleaseStore(): Promise<ReleaseStore>;
  /** Monitor values, plans, states and alerts, and incidents, on one handle opened per call. */
  openMonitorStores(): Promise<{ readonly monitor: MonitorStore; readonly incidents: IncidentStore; readonly worklist: WorklistStore }>;
  close(): void;
}

export function createProcessStores(config: VigilConfig, postgres: PostgresConnection | undefined): ProcessStores {
  let searchDb: SqliteDatabase | undefined;
  let auditSearch: Promise<AuditSearch> | undefined;
  let registryDb: SqliteDatabase | undefined;
  let accountsDb: SqliteDatabase | undefined;
  let deploymentsDb: SqliteDatabase | undefined;
  let releasesDb: SqliteDatabase | undefined;
  let monitorDb: SqliteDatabase | undefined;
  return {
    openAuditLog: () =>
      // With PostgreSQL, one log for every Vigil process; its signing key stays in the data folder.
      postgres === undefined
        ? SqliteAuditLog.open({ dataDir: config.dataDir, clock: systemClock })
        : postgres.auditLog({ dataDir: config.dataDir, clock: systemClock }),
    auditSearch: () =>
      (auditSearch ??=
        postgres === undefined
          ? Promise.resolve(new SqliteAuditSearch((searchDb = openSqliteDatabase({ dataDir: config.dataDir }))))
          : postgres.pool().then((pool) => new PostgresAuditSearch(pool))),
    openAccountStores: async () => {
      const pool = await postgres?.pool();
      if (pool !== undefined) return { access: new PostgresAccessStore(pool, systemClock), sessions: new PostgresSessionStore(pool) };
      const db = (accountsDb = openSqliteDatabase({ dataDir: config.dataDir }));
      return { access: new SqliteAccessStore(db, systemClock), sessions: new SqliteSessionStore(db) };
    },
    openModelRegistry: () =>
      postgres === undefined
        ? Promise.resolve(new SqliteModelRegistry((registryDb = openSqliteDatabase({ dataDir: config.dataDir }))))
        : postgres.pool().then((pool) => new PostgresModelRegistry(pool)),
    openDeploymentStore: () =>
      postgres === undefined
        ? Promise.resolve(new SqliteDeploymentStore((deploymentsDb = openSqliteDatabase({ dataDir: config.dataDir }))))
        : postgres.pool().then((pool) => new PostgresDeploymentStore(pool)),
    openReleaseStore: () =>
      postgres === undefined
        ? Promise.resolve(new SqliteReleaseStore((releasesDb = openSqliteDatabase({ dataDir: config.dataDir }))))
        : postgres.pool().then((pool) => new PostgresReleaseStore(pool)),
    openMonitorStores: async () => {
      const pool = await postgres?.pool();
      // The worklist's reads too: monitoring reports performance from reviews (workflows/monitoring.ts `performance`).
      if (pool !== undefined)
        return { monitor: new PostgresMonitorStore(pool), incidents: new PostgresIncidentStore(pool), worklist: new PostgresWorklistStore(pool, systemClock) };
      const db = (monitorDb = openSqliteDatabase({ dataDir: config.dataDir }));
      return { monitor: new SqliteMonitorStore(db), incidents: new SqliteIncidentStore(db), worklist: new SqliteWorklistStore(db, systemClock) };
    },
    close() {
      monitorDb?.close();
      deploymentsDb?.close();
      searchDb?.close();
      registryDb?.close();
      accountsDb?.close();
      releasesDb?.close();
    },
  };
}

/** The stores the server shares with every other server on the same database. */
export interface ServerStores {
  readonly access: AccessStore;
  readonly jobs: JobQueue;
  readonly studies: StudyRegistry;
  readonly cases: CaseStore;
  readonly worklist: WorklistStore;
  readonly sessions: SessionStore;
  readonly auditSearch: AuditSearch;
  readonly deployments: DeploymentStore;
  readonly modelRegistry: ModelRegistry;
  /** The counts the system summary reads (a new reader per call). */
  systemStats(): SystemStats;
  /** The re-identification vault, its originals sealed by `sealer`. */
  vault(sealer: Sealer): ReidentificationVault;
  /** Closes the SQLite file, when one was opened. */
  close(): void;
}

/**
 * The server's stores: on the PostgreSQL pool when there is one, otherwise on one SQLite file. The
 * SQLite file opens only without PostgreSQL: with VIGIL_DATABASE_URL, no store of a server is its own.
 */
export function createServerStores(config: VigilConfig, pool: PostgresPool | undefined): ServerStores {
  let db: SqliteDatabase | undefined;
  const sqlite = (): SqliteDatabase => (db ??= openSqliteDatabase({ dataDir: config.dataDir }));
  const jobOptions = { clock: systemClock, retry: { baseDelayMs: 5_000, maxDelayMs: 300_000 }, defaultMaxAttempts: 5 };
  return {
    access: pool === undefined ? new SqliteAccessStore(sqlite(), systemClock) : new PostgresAccessStore(pool, systemClock),
    jobs: pool === undefined ? new SqliteJobQueue(sqlite(), jobOptions) : new PostgresJobQueue(pool, jobOptions),
    studies: pool === undefined ? new SqliteStudyRegistry(sqlite(), systemClock) : new PostgresStudyRegistry(pool, systemClock),
    cases: pool === undefined ? new SqliteCaseStore(sqlite(), systemClock) : new PostgresCaseStore(pool, systemClock),
    worklist: pool === undefined ? new SqliteWorklistStore(sqlite(), systemClock) : new PostgresWorklistStore(pool, systemClock),
    sessions: pool === undefined ? new SqliteSessionStore(sqlite()) : new PostgresSessionStore(pool),
    auditSearch: pool === undefined ? new SqliteAuditSearch(sqlite()) : new PostgresAuditSearch(pool),
    deployments: pool === undefined ? new SqliteDeploymentStore(sqlite()) : new PostgresDeploymentStore(pool),
    modelRegistry: pool === undefined ? new SqliteModelRegistry(sqlite()) : new PostgresModelRegistry(pool),
    systemStats: () => (pool === undefined ? new SqliteSystemStats(sqlite()) : new PostgresSystemStats(pool)),
    vault: (sealer) =>
      pool === undefined ? new SqliteReidentificationVault(sqlite(), sealer, systemClock) : new PostgresReidentificationVault(pool, sealer, systemClock),
    close: () => db?.close(),
  };
}
