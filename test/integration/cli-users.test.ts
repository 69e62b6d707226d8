/**
 * `vigil users` through the real CLI (runVigil: the same composition root and store as `vigil serve`),
 * on SQLite and on PostgreSQL: an administrator who lost the first token recovers without one, and
 * every change shows in the audit log as `local-cli` with the operating-system account.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
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
import { createApiServer, type ApiServer } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';
import { runVigil } from '../helpers/run-vigil.js';

interface Store {
  readonly env: Record<string, string>;
  dispose(): Promise<void>;
}

const stores: Record<string, (() => Promise<Store>) | undefined> = {
  SQLite: () => Promise.resolve({ env: {}, dispose: () => Promise.resolve() }),
  PostgreSQL:
    POSTGRES_SKIP_REASON === undefined
      ? async () => {
          const schema: TestSchema = await createTestSchema();
          const url = new URL(POSTGRES_TEST_URL);
          url.searchParams.set('options', `-c search_path=${schema.schema}`);
          return { env: { VIGIL_DATABASE_URL: url.toString() }, dispose: () => schema.drop() };
        }
      : undefined,
};

describe.each(Object.entries(stores))(`vigil users on %s${postgresSkipNote}`, (_name, open) => {
  let dir: string | undefined;
  let store: Store | undefined;
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    await store?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    server = undefined;
  });

  it.skipIf(open === undefined)(
    'recovers a locked-out administrator without a token, audited as local-cli',
    async () => {
      store = await (open as () => Promise<Store>)();
      dir = mkdtempSync(join(tmpdir(), 'vigil-cli-users-'));
      const dataDir = join(dir, 'data');
      const env = store.env;
      const config = loadConfig({ VIGIL_DATA_DIR: dataDir, VIGIL_INTRA_OP_THREADS: '1', ...env }, REPO_ROOT);
      // First start: the administrator's one-time token, which we then "lose" (never use it).
      server = await createApiServer(config, createLogger('silent'));
      const app = server.app;
      const lost = server.bootstrap?.token ?? '';
      expect(lost).toMatch(/^vgl_/);
      const vigil = (...argv: string[]) => runVigil(['users', ...argv], dataDir, env);
      const as = (token: string) => ({ authorization: `Bearer ${token}` });

      const list = await vigil('list');
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^admin\tadmin\tenabled\tu-[0-9a-f-]{36}\n$/);

      // A fresh administrator token, printed once on stdout (alone), what it is on stderr.
      const issued = await vigil('token', '--user', 'admin');
      expect(issued.code).toBe(0);
      const fresh = issued.stdout.trim();
      expect(fresh).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
      expect(issued.stderr).toMatch(/^token t-[0-9a-f-]{36} for admin; shown this once\n$/);
      expect((await app.inject({ url: '/api/users', headers: as(fresh) })).statusCode).toBe(200);

      // The last enabled administrator is never disabled, here either.
      const refused = await vigil('disable', '--user', 'admin');
      expect(refused.code).toBe(16);
      expect(refused.stderr).toContain('ACCESS_LAST_ADMINISTRATOR');

      // An integration account made on the spot, disabled and enabled again: its token stops and comes back.
      const pacs = await vigil('token', '--user', 'pacs', '--role', 'integration', '--label', 'PACS router', '--expires-days', '30');
      expect(pacs.code).toBe(0);
      expect(pacs.stderr).toContain('created user pacs (integration)');
      const pacsToken = pacs.stdout.trim();
      expect((await app.inject({ url: '/api/cases/none/fhir', headers: as(pacsToken) })).statusCode).toBe(404);
      expect((await vigil('disable', '--user', 'pacs')).stdout).toBe('pacs (integration) disabled\n');
      expect((await app.inject({ url: '/api/cases/none/fhir', headers: as(pacsToken) })).statusCode).toBe(401);
      expect((await vigil('enable', '--user', 'pacs')).code).toBe(0);
      expect((await app.inject({ url: '/api/cases/none/fhir', headers: as(pacsToken) })).statusCode).toBe(404);
      const tokens = await vigil('tokens', '--user', 'pacs', '--json');
      const [pacsListed] = (JSON.parse(tokens.stdout) as { tokens: { tokenId: string; label: string; expiresAt: string | null; lastUsedAt: string | null }[] })
        .tokens;
      expect(pacsListed).toMatchObject({ label: 'PACS router', expiresAt: expect.any(String), lastUsedAt: expect.any(String) });
      expect(tokens.stdout).not.toContain(pacsToken.slice(4));
      expect((await vigil('revoke', '--user', 'pacs', '--token', pacsListed?.tokenId ?? '')).code).toBe(0);
      expect((await app.inject({ url: '/api/cases/none/fhir', headers: as(pacsToken) })).statusCode).toBe(401);
      expect((await vigil('revoke', '--user', 'pacs', '--token', pacsListed?.tokenId ?? '')).code).toBe(16);

      // A password for the dashboard, from a file (never the command line); then sign-in works.
      const passwordFile = join(dir, 'password');
      writeFileSync(passwordFile, 'correct horse battery staple\n', { mode: 0o600 });
      const set = await vigil('set-password', '--user', 'admin', '--password-file', passwordFile);
      expect(set.code).toBe(0);
      const signIn = await app.inject({ method: 'POST', url: '/api/session', payload: { userName: 'admin', password: 'correct horse battery staple' } });
      expect(signIn.statusCode).toBe(200);
      writeFileSync(passwordFile, 'short\n');
      expect((await vigil('set-password', '--user', 'admin', '--password-file', passwordFile)).code).toBe(2);

      // Usage and unknown names.
      expect((await vigil('token', '--user', 'nobody')).code).toBe(16);
      expect((await vigil('token', '--user', 'admin', '--role', 'auditor')).code).toBe(2);
      expect((await vigil('token', '--user', 'x', '--role', 'superuser')).code).toBe(2);
      expect((await vigil('frobnicate')).code).toBe(2);
      expect((await vigil('set-password', '--user', 'admin')).code).toBe(2);
      // A new account's name by the same rule as POST /api/users (domain/access/account-rules.ts): never a
      // bidi override, a control character, a space or 300 characters; refused without quoting it, and nothing created.
      for (const bad of ['admin\u202Egnp.exe', 'x'.repeat(300), 'two words', 'esc\u001b[31mred']) {
        for (const withRole of [['--role', 'auditor'], []]) {
          const refusedName = await vigil('token', '--user', bad, ...withRole);
          expect(refusedName.code, JSON.stringify(bad)).toBe(2);
          expect(refusedName.stderr).toContain('REQUEST_INVALID');
          expect(refusedName.stderr).toContain('an account name is 1 to 64 letters');
          expect(refusedName.stderr).not.toContain(bad);
        }
      }
      expect(
        (await vigil('list')).stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split('\t')[0]),
      ).toEqual(['admin', 'pacs']);

      // The audit trail shows each recovery step: actor local-cli and the OS account, target, action; no secret.
      const auditor = (await vigil('token', '--user', 'audit-1', '--role', 'auditor')).stdout.trim();
      const entries = async (type: string) =>
        (await app.inject({ url: `/api/audit/entries?type=${type}&limit=50`, headers: as(auditor) })).json<{ entries: { event: Record<string, unknown> }[] }>()
          .entries;
      const local = { changedBy: 'local-cli', role: 'local-cli', osUser: userInfo().username };
      expect((await entries('token_issued')).map((e) => e.event)).toEqual(
        expect.arrayContaining([expect.objectContaining({ ...local, tokenId: expect.stringMatching(/^t-/), expiresAt: null })]),
      );
      // admin's fresh token, pacs's and the auditor's (the bootstrap token predates any actor).
      expect((await entries('token_issued')).length).toBe(3);
      expect((await entries('user_created')).map((e) => e.event)).toEqual(
        expect.arrayContaining([expect.objectContaining({ createdBy: 'local-cli', grantedRole: 'integration' })]),
      );
      expect((await entries('user_updated')).map((e) => e.event.disabled)).toEqual([false, true]);
      expect((await entries('user_updated'))[1]?.event).toMatchObject({ ...local, grantedRole: 'integration', previousRole: 'integration' });
      expect((await entries('token_revoked'))[0]?.event).toMatchObject({ ...local, tokenId: pacsListed?.tokenId });
      expect((await entries('password_changed'))[0]?.event).toMatchObject({ ...local, sessionsEnded: 0 });
      const everything = JSON.stringify(await Promise.all(['token_issued', 'user_created', 'user_updated', 'password_changed'].map(entries)));
      for (const secret of [fresh, pacsToken, auditor, lost]) expect(everything).not.toContain(secret.slice(4));
      expect(everything).not.toContain('correct horse');
    },
    60_000,
  );
});
