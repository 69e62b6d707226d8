import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { SqliteAuditLog } from '../../src/adapters/store-sqlite/sqlite-audit-log.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { StudyBody, UploadResponse } from '../../src/http/contract.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { texturedGreyPng } from '../helpers/images.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

/**
 * Sites (VIGIL_SITES_FILE): each study is recorded with the configured site it came from, and the
 * server's decisions about it carry that site in the audit log — the site half of the deployment key.
 */
describe('studies and decisions carry the configured site they came from', () => {
  let dir: string;
  let server: ApiServer;
  let db: SqliteDatabase;
  const token = new Map<string, string>();
  let logs = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-sites-'));
    const sitesFile = join(dir, 'sites.json');
    writeFileSync(
      sitesFile,
      JSON.stringify({
        defaultSite: 'elsewhere',
        sites: [
          { id: 'north', name: 'North General', callingAeTitles: ['NORTH_CR'], uploadSources: ['north-gateway'] },
          { id: 'south', name: 'South Children’s' },
          { id: 'elsewhere', name: 'Unrecognised senders' },
        ],
      }),
    );
    const config = loadConfig(
      {
        VIGIL_DATA_DIR: join(dir, 'data'),
        VIGIL_DICOM_PORT: '0',
        VIGIL_STUDY_QUIET_MS: '300',
        VIGIL_INTRA_OP_THREADS: '1',
        VIGIL_MIN_FREE_DISK_BYTES: '1',
        VIGIL_SITES_FILE: sitesFile,
      },
      REPO_ROOT,
    );
    server = await createApiServer(config, createLogger('debug', { write: (line: string) => void (logs += line) }), { background: true });
    db = openSqliteDatabase({ dataDir: join(dir, 'data') });
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    for (const [name, role] of [
      ['north-gateway', 'integration'],
      ['lab-laptop', 'integration'],
      ['reader', 'clinician-reviewer'],
    ] as const) {
      const user = await access.createUser(name, role);
      token.set(name, (await access.issueToken(user.userId, 'test')).secret);
    }
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const upload = async (who: string, site: string | undefined, seed: number): Promise<string> => {
    const declaration = { modality: 'CR', bodyPart: 'CHEST', view: 'PA', patientAgeYears: { min: 1, max: 5 }, ...(site === undefined ? {} : { site }) };
    const boundary = 'b1';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="declaration"\r\n\r\n${JSON.stringify(declaration)}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
      await texturedGreyPng(seed),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/images',
      headers: { authorization: `Bearer ${token.get(who) ?? ''}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<UploadResponse>().studyKey;
  };

  it('recognises the site by the sending account, a configured declared site, or the default; decisions carry it', async () => {
    // Bound to north by its account, whatever it declares; an unbound account's configured site counts; an unknown one falls to the default.
    const keys = {
      north: await upload('north-gateway', 'south', 1),
      south: await upload('lab-laptop', 'south', 2),
      elsewhere: await upload('lab-laptop', 'mars', 3),
    };
    const reader = { authorization: `Bearer ${token.get('reader') ?? ''}` };
    for (const [site, studyKey] of Object.entries(keys)) {
      const study = await server.app.inject({ url: `/api/studies/${studyKey}`, headers: reader });
      expect(study.json<StudyBody>().site, site).toBe(site);
    }
    // Judged after the quiet period: every decision entry about a study names its site.
    const deadline = Date.now() + 60_000;
    let bySite = new Map<string, string>();
    while (bySite.size < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const log = SqliteAuditLog.open({ dataDir: join(dir, 'data'), clock: { now: () => new Date() } });
      const found = new Map<string, string>();
      for (let i = 0; i < (await log.size()); i++) {
        const event = (await log.get(`a-${i}`))?.event;
        if (event?.type === 'decision') found.set(event.studyKey, event.site ?? '(none)');
      }
      await log.close();
      bySite = found;
    }
    expect(Object.fromEntries(bySite), logs.slice(-2000)).toEqual({ [keys.north]: 'north', [keys.south]: 'south', [keys.elsewhere]: 'elsewhere' });
  }, 90_000);
});
