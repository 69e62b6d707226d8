import type { InstanceIdentity } from '../../domain/results/result-identity.js';
import type { Clock } from '../../ports/clock.js';
import type { ReidentificationVault } from '../../ports/reidentification-vault.js';
import type { Sealer } from '../../ports/sealer.js';
import { GroupCommit } from './internal/group-commit.js';
import type { SqliteDatabase } from './open-sqlite.js';

/**
 * The re-identification vault in SQLite (migration 7). Each row is sealed under its pseudonymous SOP
 * Instance UID, so a row moved to another key does not open. The first record of an instance wins: a
 * resend carries the same originals.
 */
export class SqliteReidentificationVault implements ReidentificationVault {
  readonly #insert;
  readonly #byStudy;
  readonly #commits: GroupCommit;

  constructor(
    db: SqliteDatabase,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {
    this.#insert = db.prepare<[string, string, Uint8Array, number]>(
      'INSERT INTO reidentification_vault (sop_uid, study_uid, sealed, created_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (sop_uid) DO NOTHING',
    );
    this.#commits = GroupCommit.for(db);
    this.#byStudy = db.prepare<[string], { sop_uid: string; sealed: Uint8Array }>('SELECT sop_uid, sealed FROM reidentification_vault WHERE study_uid = ?');
  }

  keep(pseudonymous: { readonly studyUid: string; readonly sopInstanceUid: string }, original: InstanceIdentity): Promise<void> {
    const sealed = this.sealer.seal(new TextEncoder().encode(JSON.stringify(original)), contextOf(pseudonymous.sopInstanceUid));
    // Group-committed with the other ingest writes on this connection: resolves once durable.
    return this.#commits.run(() => {
      this.#insert.run(pseudonymous.sopInstanceUid, pseudonymous.studyUid, sealed, this.clock.now().getTime());
    });
  }

  // async so that a row that does not open rejects (as the port says) instead of throwing at the call.
  // eslint-disable-next-line @typescript-eslint/require-await -- better-sqlite3 is synchronous.
  async studyOriginals(pseudonymousStudyUid: string): Promise<ReadonlyMap<string, InstanceIdentity>> {
    const out = new Map<string, InstanceIdentity>();
    for (const row of this.#byStudy.all(pseudonymousStudyUid)) {
      const plain = this.sealer.open(row.sealed, contextOf(row.sop_uid));
      out.set(row.sop_uid, JSON.parse(new TextDecoder().decode(plain)) as InstanceIdentity);
    }
    return out;
  }
}

const contextOf = (sopUid: string): string => `vigil-reidentification:v1:${sopUid}`;
