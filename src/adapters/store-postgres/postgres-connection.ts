import type { AuditLog } from '../../ports/audit-log.js';
import type { Clock } from '../../ports/clock.js';
import { openPostgres, type OpenPostgresOptions, type PostgresPool } from './open-postgres.js';
import { PostgresAuditLog } from './postgres-audit-log.js';

/**
 * One process's connection to the shared PostgreSQL store: a pool, opened (and the schema migrated)
 * on first use, so that a CLI command that needs no store never connects.
 */
export class PostgresConnection {
  readonly #options: OpenPostgresOptions;
  #pool: Promise<PostgresPool> | undefined;

  constructor(options: OpenPostgresOptions) {
    this.#options = options;
  }

  pool(): Promise<PostgresPool> {
    // A failed open is not kept: the next call tries again (the server may have been starting).
    return (this.#pool ??= openPostgres(this.#options).catch((cause: unknown) => {
      this.#pool = undefined;
      throw cause;
    }));
  }

  /**
   * The cluster's audit log on this connection, as an `AuditLog` available at once: it opens (key
   * from `dataDir`, see PostgresAuditLog.open) on its first call, and a failure to open is that
   * call's error (and the next call tries again).
   */
  auditLog(options: { readonly dataDir: string; readonly clock: Clock }): AuditLog {
    let opened: Promise<PostgresAuditLog> | undefined;
    const log = (): Promise<PostgresAuditLog> => {
      opened ??= this.pool()
        .then((pool) => PostgresAuditLog.open({ pool, ...options }))
        .catch((cause: unknown) => {
          opened = undefined;
          throw cause;
        });
      return opened;
    };
    return {
      append: async (event) => (await log()).append(event),
      appendMany: async (events) => (await log()).appendMany(events),
      get: async (auditId) => (await log()).get(auditId),
      size: async () => (await log()).size(),
      verify: async () => (await log()).verify(),
      prove: async (auditId) => (await log()).prove(auditId),
      close: async () => {
        const current = opened;
        if (current !== undefined) await (await current.catch(() => undefined))?.close();
      },
    };
  }

  /** Ends the pool (waiting for queries in flight), if it was ever opened. */
  async close(): Promise<void> {
    const pending = this.#pool;
    this.#pool = undefined;
    const pool = await pending?.catch(() => undefined);
    await pool?.end();
  }
}
