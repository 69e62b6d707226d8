import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAuditLog } from '../../src/adapters/store-sqlite/sqlite-audit-log.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { DICOM_SAMPLES, hasDicomSamples, REPO_ROOT } from '../helpers/sample-data.js';

const run = promisify(execFile);
const hasDcmtk = ['storescu', 'dcmodify'].every((tool) => ['/usr/bin', '/usr/local/bin'].some((dir) => existsSync(join(dir, tool))));
const SENDERS = 8;
const STUDIES_PER_SENDER = 4;
/** How long the senders keep sending (each sends at least twice). */
const SEND_FOR_MS = 5_000;

let dir: string;
let server: ApiServer;

describe.skipIf(!hasDcmtk || !hasDicomSamples)(
  'vigil serve under 8 parallel associations sending for a bounded time (needs DCMTK storescu/dcmodify and ../shared/data)',
  () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vigil-load-'));
      // 32 distinct studies: copies of ct_small with new Study, Series and SOP Instance UIDs.
      for (let s = 0; s < SENDERS; s++) {
        const folder = join(dir, 'send', String(s));
        mkdirSync(folder, { recursive: true });
        for (let i = 0; i < STUDIES_PER_SENDER; i++) copyFileSync(join(DICOM_SAMPLES, 'ct_small_explicitLE.dcm'), join(folder, `${i}.dcm`));
        await run('dcmodify', ['-nb', '-gst', '-gse', '-gin', ...Array.from({ length: STUDIES_PER_SENDER }, (_, i) => join(folder, `${i}.dcm`))]);
      }
      const config = loadConfig(
        { VIGIL_DATA_DIR: join(dir, 'data'), VIGIL_DICOM_PORT: '0', VIGIL_STUDY_QUIET_MS: '300', VIGIL_INTRA_OP_THREADS: '1', VIGIL_MIN_FREE_DISK_BYTES: '1' },
        REPO_ROOT,
      );
      server = await createApiServer(config, createLogger('silent'), { background: true });
    });
    afterAll(async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stores every acknowledged instance once, judges each study once, and audits every decision', async () => {
      // Each sender sends its studies over and over, one association per round, for a bounded time: the
      // first round stores them, every later one is all duplicates, which must be acknowledged and ignored.
      const deadline = Date.now() + SEND_FOR_MS;
      let acknowledged = 0;
      let sent = 0;
      await Promise.all(
        Array.from({ length: SENDERS }, async (_, s) => {
          const files = Array.from({ length: STUDIES_PER_SENDER }, (_, i) => join(dir, 'send', String(s), `${i}.dcm`));
          for (let round = 0; round < 2 || Date.now() < deadline; round++) {
            const { stdout, stderr } = await run('storescu', ['-v', '-xe', '-aec', 'VIGIL', '127.0.0.1', String(server.dicomPort), ...files], {
              env: { ...process.env, TCP_NODELAY: '1' },
            });
            sent += files.length;
            acknowledged += `${stdout}${stderr}`.match(/Received Store Response \(Success\)/g)?.length ?? 0;
          }
        }),
      );
      expect(acknowledged, 'every send acknowledged').toBe(sent);
      expect(sent).toBeGreaterThanOrEqual(2 * SENDERS * STUDIES_PER_SENDER);
      const total = SENDERS * STUDIES_PER_SENDER;

      const db = openSqliteDatabase({ dataDir: join(dir, 'data') });
      try {
        const count = (sql: string): number => db.prepare<[], number>(sql).pluck().get() ?? 0;
        const deadline = Date.now() + 120_000;
        while (count("SELECT count(*) FROM jobs WHERE state = 'done'") < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
        expect(count('SELECT count(*) FROM study_instances'), 'stored once').toBe(total);
        expect(count('SELECT count(*) FROM studies'), 'one study each').toBe(total);
        expect(count('SELECT count(DISTINCT study_key) FROM cases'), 'every study judged').toBe(total);
        expect(count('SELECT count(*) FROM cases'), 'judged once').toBe(total);
        expect(count("SELECT count(*) FROM jobs WHERE state <> 'done'")).toBe(0);
        // Each case's results point at their own decision entries: processed once, and audited.
        const decisions = new Set(db.prepare<[], string>("SELECT audit_id FROM audit_entries WHERE type = 'decision'").pluck().all());
        expect(decisions.size, 'each judged frame audited once').toBe(total);
        const cited = db
          .prepare<[], string>('SELECT results FROM cases')
          .pluck()
          .all()
          .flatMap((results) => (JSON.parse(results) as { auditId: string | null }[]).map((r) => r.auditId));
        expect(new Set(cited)).toEqual(decisions);
        expect(cited).toHaveLength(total);
      } finally {
        db.close();
      }
      expect(await server.loop.assembleNow(), 'nothing left to queue').toBe(0);
      const log = SqliteAuditLog.open({ dataDir: join(dir, 'data'), clock: { now: () => new Date() } });
      try {
        expect(await log.verify()).toMatchObject({ ok: true });
      } finally {
        await log.close();
      }
    }, 60_000);
  },
);
