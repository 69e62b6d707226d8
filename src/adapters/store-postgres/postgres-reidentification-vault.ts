import type { InstanceIdentity } from '../../domain/results/result-identity.js';
import { PlatformError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { ReidentificationVault } from '../../ports/reidentification-vault.js';
import type { Sealer } from '../../ports/sealer.js';
import type { PostgresPool } from './open-postgres.js';

const failed = (cause: unknown): PlatformError =>
  new PlatformError('STORE_WRITE_FAILED', 'The re-identification vault could not be read or updated', {}, { cause });

/**
 * The re-identification vault in PostgreSQL (migration 7), shared by every server: an instance received
 * at one has its result re-identified by whichever server delivers it. Rows are sealed as in SQLite,
 * under the pseudonymous SOP Instance UID; the first record of an instance wins.
 */
export class PostgresReidentificationVault implements ReidentificationVault {
  constructor(
    private readonly pool: PostgresPool,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {}

  async keep(pseudonymous: { readonly studyUid: string; readonly sopInstanceUid: string }, original: InstanceIdentity): Promise<void> {
    const sealed = this.sealer.seal(new TextEncoder().encode(JSON.stringify(original)), contextOf(pseudonymous.sopInstanceUid));
    try {
      await this.pool.query(
        'INSERT INTO reidentification_vault (sop_uid, study_uid, sealed, created_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (sop_uid) DO NOTHING',
        [pseudonymous.sopInstanceUid, pseudonymous.studyUid, Buffer.from(sealed), this.clock.now().getTime()],
      );
    } catch (cause) {
      throw failed(cause);
    }
  }

  async studyOriginals(pseudonymousStudyUid: string): Promise<ReadonlyMap<string, InstanceIdentity>> {
    let rows: { sop_uid: string; sealed: Buffer }[];
    try {
      rows = (
        await this.pool.query<{ sop_uid: string; sealed: Buffer }>('SELECT sop_uid, sealed FROM reidentification_vault WHERE study_uid = $1', [
          pseudonymousStudyUid,
        ])
      ).rows;
    } catch (cause) {
      throw failed(cause);
    }
    const out = new Map<string, InstanceIdentity>();
    for (const row of rows) {
      const plain = this.sealer.open(row.sealed, contextOf(row.sop_uid));
      out.set(row.sop_uid, JSON.parse(new TextDecoder().decode(plain)) as InstanceIdentity);
    }
    return out;
  }
}

// As SQLite's: a row sealed by either store opens in the other.
const contextOf = (sopUid: string): string => `vigil-reidentification:v1:${sopUid}`;
