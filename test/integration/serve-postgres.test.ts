/**
 * Two `vigil serve` servers (createApiServer, in process) on one PostgreSQL store (VIGIL_DATABASE_URL)
 * and one data folder: they start at once on a new database (one bootstraps the administrator), share
 * users and tokens, and the audit log (with CLI processes too), which verifies; and dashboard sign-in
 * state (passwords, sessions, the rate limit) and audit search, with no SQLite file opened.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTestSchema,
  POSTGRES_SKIP_REASON,
  POSTGRES_TEST_URL,
  postgresSkipNote,
  type TestSchema,
} from '../../src/adapters/store-postgres/internal/test-database.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, createServices, type ApiServer } from '../../src/main.js';
import { buildPart10, el, imageDataset, SYNTHETIC_IDENTIFIERS } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(`vigil serve on PostgreSQL, two servers${postgresSkipNote}`, () => {
  let schema: TestSchema | undefined;
  let dataDir: string | undefined;
  const servers: ApiServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await schema?.drop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('start together on a new database, bootstrap one administrator, and share users, tokens and the audit log', async () => {
    schema = await createTestSchema();
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-serve-pg-'));
    // The schema travels in the URL, as a site would choose one.
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('options', `-c search_path=${schema.schema}`);
    const config = loadConfig({ VIGIL_DATA_DIR: dataDir, VIGIL_DATABASE_URL: url.toString(), VIGIL_LOG_LEVEL: 'silent' }, process.cwd());
    servers.push(...(await Promise.all([createApiServer(config, createLogger('silent')), createApiServer(config, createLogger('silent'))])));
    const [a, b] = servers as [ApiServer, ApiServer];
    const bootstraps = servers.flatMap((s) => (s.bootstrap === undefined ? [] : [s.bootstrap]));
    expect(bootstraps).toHaveLength(1);
    const admin = { authorization: `Bearer ${bootstraps[0]?.token ?? ''}` };

    // A user made through one server signs in at the other.
    const created = await a.app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'auditor-1', role: 'auditor' } });
    expect(created.statusCode).toBe(201);
    const listed = await b.app.inject({ method: 'GET', url: '/api/users', headers: admin });
    expect(listed.statusCode).toBe(200);
    expect(JSON.stringify(listed.json())).toContain('auditor-1');
    const auditor = { authorization: `Bearer ${created.json<{ token: string }>().token}` };

    // Two CLI processes' services (createServices with the same VIGIL_DATABASE_URL) append to the one
    // audit log the servers read, which verifies at either.
    const clis = [createServices(config, createLogger('silent')), createServices(config, createLogger('silent'))];
    try {
      for (let i = 0; i < 4; i++) await clis[i % 2]?.recordAudit({ type: 'config_loaded', configHash: 'c'.repeat(64), vigilVersion: `cli-${i}` });
    } finally {
      for (const cli of clis) await cli.close();
    }
    const verifiedAtA = await a.app.inject({ method: 'GET', url: '/api/audit/verify', headers: auditor });
    const verifiedAtB = await b.app.inject({ method: 'GET', url: '/api/audit/verify', headers: auditor });
    expect(verifiedAtA.statusCode).toBe(200);
    expect(verifiedAtA.json()).toMatchObject({ ok: true });
    expect(verifiedAtB.json()).toEqual(verifiedAtA.json());
    // The four CLI entries, the creation of the auditor's account with its first token, and the configured
    // model registered and deployed at the (one) site once, though both servers started on the new database.
    expect(verifiedAtA.json<{ treeSize: number }>().treeSize).toBe(8);

    const rows = await schema.open().then(async (pool) => ({
      users: (await pool.query<{ n: number }>('SELECT count(*) AS n FROM users')).rows[0]?.n,
      audit: (await pool.query<{ n: number }>('SELECT count(*) AS n FROM audit_entries')).rows[0]?.n,
    }));
    expect(rows.users).toBe(2);
    expect(rows.audit).toBe(verifiedAtA.json<{ treeSize: number }>().treeSize);
  });

  it('share passwords, sessions and the sign-in rate limit, and search one audit log, without a SQLite file', async () => {
    schema = await createTestSchema();
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-serve-pg-'));
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('options', `-c search_path=${schema.schema}`);
    const config = loadConfig({ VIGIL_DATA_DIR: dataDir, VIGIL_DATABASE_URL: url.toString(), VIGIL_LOG_LEVEL: 'silent' }, process.cwd());
    servers.push(await createApiServer(config, createLogger('silent')), await createApiServer(config, createLogger('silent')));
    const [a, b] = servers as [ApiServer, ApiServer];
    const admin = { authorization: `Bearer ${a.bootstrap?.token ?? ''}` };
    const signIn = (server: ApiServer, userName: string, password: string, remoteAddress: string) =>
      server.app.inject({ method: 'POST', url: '/api/session', remoteAddress, payload: { userName, password } });

    // A user with a password, made at A, signs in at B; B's session cookie works at A.
    const created = await a.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: admin,
      payload: { name: 'auditor-1', role: 'auditor', password: 'a long passphrase' },
    });
    expect(created.statusCode).toBe(201);
    const atB = await signIn(b, 'auditor-1', 'a long passphrase', '10.7.0.1');
    expect(atB.statusCode).toBe(200);
    const cookie = atB.cookies.find((c) => c.name === 'vigil_session')?.value ?? '';
    const session = await a.app.inject({ method: 'GET', url: '/api/session', headers: { cookie: `vigil_session=${cookie}` } });
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({ user: { name: 'auditor-1', role: 'auditor' }, method: 'password' });

    // Five failures for one name, alternating between the servers and from five addresses: the limit
    // (VIGIL_LOGIN_MAX_FAILURES, 5) then holds at both, the right password included.
    for (let i = 0; i < 5; i++) expect((await signIn(i % 2 === 0 ? a : b, 'auditor-1', `wrong guess ${i}!!`, `10.7.1.${i}`)).statusCode).toBe(401);
    expect((await signIn(a, 'auditor-1', 'a long passphrase', '10.7.2.1')).statusCode).toBe(429);
    expect((await signIn(b, 'auditor-1', 'a long passphrase', '10.7.2.2')).statusCode).toBe(429);

    // Audit search at either server finds the failures both recorded, and the sign-in B recorded.
    const auditor = { cookie: `vigil_session=${cookie}` };
    for (const server of [a, b]) {
      const failed = await server.app.inject({ method: 'GET', url: '/api/audit/entries?type=login_failed&limit=50', headers: auditor });
      expect(failed.statusCode).toBe(200);
      expect(failed.json<{ entries: unknown[] }>().entries).toHaveLength(5);
      const started = await server.app.inject({ method: 'GET', url: '/api/audit/entries?type=session_started&limit=50', headers: auditor });
      expect(started.json<{ entries: { event: { userId: string } }[] }>().entries.map((e) => e.event.userId)).toEqual([
        created.json<{ user: { userId: string } }>().user.userId,
      ]);
    }
    // Nothing of the store is per process: the servers never opened the data folder's SQLite file.
    expect(existsSync(join(dataDir, 'vigil.sqlite'))).toBe(false);
  });

  it('find a study by what its sender sent, at either server, for that sender only (lookup keys in PostgreSQL)', async () => {
    schema = await createTestSchema();
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-serve-pg-'));
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('options', `-c search_path=${schema.schema}`);
    const config = loadConfig({ VIGIL_DATA_DIR: dataDir, VIGIL_DATABASE_URL: url.toString(), VIGIL_LOG_LEVEL: 'silent' }, process.cwd());
    servers.push(await createApiServer(config, createLogger('silent')), await createApiServer(config, createLogger('silent')));
    const [a, b] = servers as [ApiServer, ApiServer];
    const admin = { authorization: `Bearer ${a.bootstrap?.token ?? ''}` };
    const tokenOf = async (name: string) =>
      ({
        authorization: `Bearer ${(await a.app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name, role: 'integration' } })).json<{ token: string }>().token}`,
      }) as const;
    const [sender, other] = [await tokenOf('pacs-1'), await tokenOf('pacs-2')];
    const accession = 'SYNACCPG01';
    const instance = buildPart10(
      imageDataset({
        rows: 8,
        columns: 8,
        bitsAllocated: 16,
        modality: 'CR',
        pixelData: el(0x7fe00010, 'OW', new Uint8Array(128)),
        extra: [el(0x00080050, 'SH', accession)],
      }),
      { transferSyntaxUid: '1.2.840.10008.1.2.1' },
    );
    const stow = await a.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { ...sender, 'content-type': 'multipart/related; type="application/dicom"; boundary=b' },
      payload: Buffer.concat([Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'), Buffer.from(instance), Buffer.from('\r\n--b--\r\n')]),
    });
    expect(stow.statusCode).toBe(200);
    const studyKey = stow.headers['x-vigil-study-keys'];
    const found = async (query: string, headers: { authorization: string }) =>
      (await b.app.inject({ method: 'GET', url: `/api/studies?${query}`, headers })).json<{ studies: { studyKey: string; modalities: string[] }[] }>().studies;
    expect(await found(`accessionNumber=${accession}`, sender)).toMatchObject([{ studyKey, modalities: ['CR'] }]);
    expect(await found(`studyInstanceUid=${SYNTHETIC_IDENTIFIERS.studyInstanceUid}`, sender)).toMatchObject([{ studyKey }]);
    expect(await found(`accessionNumber=${accession}`, other)).toEqual([]);
    const qido = await b.app.inject({ method: 'GET', url: `/dicomweb/studies?AccessionNumber=${accession}`, headers: sender });
    expect(qido.json<Record<string, { Value?: unknown[] }>[]>()[0]?.['00091001']?.Value).toEqual([studyKey]);
    // Nothing of what was sent is in the store: only the keyed lookup key of the Accession Number.
    const pool = await schema.open();
    const dump = JSON.stringify((await pool.query('SELECT * FROM study_accessions')).rows) + JSON.stringify((await pool.query('SELECT * FROM studies')).rows);
    expect(dump).toMatch(/acc-[0-9a-f]{32}/);
    expect(dump).not.toContain(accession);
    expect(dump).not.toContain(SYNTHETIC_IDENTIFIERS.studyInstanceUid);
  });
});
