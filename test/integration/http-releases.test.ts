import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeCredentials } from '../../src/adapters/crypto-node/node-credentials.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAccessStore } from '../../src/adapters/store-sqlite/sqlite-access-store.js';
import { SqliteSessionStore } from '../../src/adapters/store-sqlite/sqlite-session-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createApiServer, type ApiServer } from '../../src/main.js';
import { bundleVersionId } from '../helpers/bundle-version.js';
import { runVigil } from '../helpers/run-vigil.js';
import { DEMO_MODEL_DIR, hasPneumoniaMnist, PNEUMONIA_NPZ, REPO_ROOT } from '../helpers/sample-data.js';

/**
 * The release routes with the roles that use them: an ml-engineer requests and runs gates, QA and a
 * clinician sign (one with a password, one token-only with a fresh token), the ml-engineer promotes; a
 * clinician pauses; only an operator rolls back.
 */
const dir = mkdtempSync(join(tmpdir(), 'vigil-http-releases-'));
const dataDir = join(dir, 'data');
let server: ApiServer;
let app: FastifyInstance;
let db: SqliteDatabase;
const tokens = new Map<string, string>();
const PASSWORD = 'a long passphrase for qa';
let candidateId = '';
let unrelatedId = '';
let grandchildId = '';
const demoId = bundleVersionId(DEMO_MODEL_DIR);

beforeAll(async () => {
  // A candidate without sample data: the demo bundle under another version (manifest version 1.0.1).
  const candidate = join(dir, 'candidate');
  cpSync(DEMO_MODEL_DIR, candidate, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(candidate, 'vigil-model.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(candidate, 'vigil-model.json'), JSON.stringify({ ...manifest, version: '1.0.1' }, null, 2));
  // Registered as the demo's child (the site's production version): a recalibration candidate must be.
  expect((await runVigil(['model', 'register', DEMO_MODEL_DIR], dataDir)).code).toBe(0);
  const registered = await runVigil(['model', 'register', candidate, '--parent', demoId, '--json'], dataDir);
  expect(registered.code).toBe(0);
  candidateId = (JSON.parse(registered.stdout) as { version: { versionId: string } }).version.versionId;
  // Another version registered with no parent: not a recalibration of what the site runs.
  const unrelated = join(dir, 'unrelated');
  cpSync(DEMO_MODEL_DIR, unrelated, { recursive: true });
  writeFileSync(join(unrelated, 'vigil-model.json'), JSON.stringify({ ...manifest, version: '1.0.2' }, null, 2));
  unrelatedId = (JSON.parse((await runVigil(['model', 'register', unrelated, '--json'], dataDir)).stdout) as { version: { versionId: string } }).version
    .versionId;

  // A recalibration of the candidate (its child), to release after it: then a rollback restores the candidate.
  const grandchild = join(dir, 'grandchild');
  cpSync(DEMO_MODEL_DIR, grandchild, { recursive: true });
  writeFileSync(join(grandchild, 'vigil-model.json'), JSON.stringify({ ...manifest, version: '1.0.3' }, null, 2));
  grandchildId = (
    JSON.parse((await runVigil(['model', 'register', grandchild, '--parent', candidateId, '--json'], dataDir)).stdout) as { version: { versionId: string } }
  ).version.versionId;

  server = await createApiServer(loadConfig({ VIGIL_DATA_DIR: dataDir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT), createLogger('silent'));
  app = server.app;
  db = openSqliteDatabase({ dataDir });
  const access = new SqliteAccessStore(db, { now: () => new Date() });
  const sessions = new SqliteSessionStore(db);
  for (const [name, role] of [
    ['erin', 'ml-engineer'],
    ['quinn', 'qa-regulatory'],
    ['clara', 'clinician-reviewer'],
    ['ada', 'admin'],
  ] as const) {
    const user = await access.createUser(name, role);
    tokens.set(name, (await access.issueToken(user.userId, 'test')).secret);
    // Quinn signs with a password; Clara has none (token-only).
    if (name === 'quinn') await sessions.setPassword(user.userId, await new NodeCredentials().hashPassword(PASSWORD), Date.now());
  }
});
afterAll(async () => {
  await server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (as: string, method: 'GET' | 'POST', url: string, body?: object) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${tokens.get(as) ?? ''}` }, ...(body === undefined ? {} : { payload: body }) });

describe('release routes by role', () => {
  let requestId = '';

  it('lets an ml-engineer request a change (the caller is the requester) and refuses other roles', async () => {
    expect((await call('clara', 'POST', '/api/releases', { changeType: 'recalibration', site: 'default', candidate: candidateId })).statusCode).toBe(403);
    // A recalibration or a threshold change is of the version the site runs: a candidate that is not its child is refused.
    for (const changeType of ['recalibration', 'threshold']) {
      const unrelated = await call('erin', 'POST', '/api/releases', { changeType, site: 'default', candidate: unrelatedId });
      expect([unrelated.statusCode, unrelated.json<{ code: string }>().code]).toEqual([409, 'RELEASE_LINEAGE_INVALID']);
    }
    // A new-site change brings a version in production elsewhere: one in production nowhere is refused (new_model's stricter protocol applies).
    const nowhere = await call('erin', 'POST', '/api/releases', { changeType: 'new_site', site: 'default', candidate: unrelatedId });
    expect([nowhere.statusCode, nowhere.json<{ code: string; message: string }>().code]).toEqual([409, 'RELEASE_LINEAGE_INVALID']);
    expect(nowhere.json<{ message: string }>().message).toMatch(/in production at no other site/);
    // A field named wrongly is named back, so the caller sees which one.
    const misnamed = await call('erin', 'POST', '/api/releases', { changeType: 'recalibration', site: 'default', candidateVersionId: candidateId });
    expect([misnamed.statusCode, misnamed.json<{ message: string }>().message]).toEqual([
      400,
      'The request is invalid: candidate: Invalid input: expected string, received undefined; (root): an unknown field "candidateVersionId"',
    ]);
    const created = await call('erin', 'POST', '/api/releases', { changeType: 'recalibration', site: 'default', candidate: candidateId.slice(0, 10) });
    expect(created.statusCode).toBe(201);
    const body = created.json<{ request: { requestId: string; state: string; requestedBy: { userName: string }; baselineVersionId: string } }>();
    expect(body.request).toMatchObject({ state: 'draft', requestedBy: { userName: 'erin' }, baselineVersionId: demoId });
    requestId = body.request.requestId;
    const listed = await call('quinn', 'GET', '/api/releases?site=default');
    expect(listed.json<{ releases: { request: { requestId: string } }[] }>().releases.map((r) => r.request.requestId)).toEqual([requestId]);
    expect((await call('quinn', 'GET', `/api/releases/${requestId}`)).json()).toMatchObject({ pendingGates: ['criteria'] });
    // A unique prefix names the request, as a model version's does: r- and at least 8 of its characters.
    const byPrefix = await call('quinn', 'GET', `/api/releases/${requestId.slice(0, 10)}`);
    expect([byPrefix.statusCode, byPrefix.json<{ request: { requestId: string } }>().request.requestId]).toEqual([200, requestId]);
    const tooShort = await call('quinn', 'GET', `/api/releases/${requestId.slice(0, 9)}`);
    expect(tooShort.statusCode).toBe(400);
    const noneSo = await call('quinn', 'GET', `/api/releases/r-${requestId.startsWith('r-f') ? '0' : 'f'}0000000`);
    expect([noneSo.statusCode, noneSo.json<{ code: string; message: string }>()]).toEqual([
      404,
      expect.objectContaining({ code: 'RELEASE_NOT_FOUND', message: 'No release request has this id' }),
    ]);
    // Not a role that may deploy; and for the ml-engineer, not before its gates and signatures.
    expect((await call('quinn', 'POST', `/api/releases/${requestId}/promote`)).statusCode).toBe(403);
    const early = await call('erin', 'POST', `/api/releases/${requestId}/promote`);
    expect([early.statusCode, early.json<{ code: string }>().code]).toEqual([409, 'RELEASE_TRANSITION_INVALID']);
    // Signing a draft is refused, whoever signs.
    const sign = await call('quinn', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'approved for release', password: PASSWORD });
    expect([sign.statusCode, sign.json<{ code: string }>().code]).toEqual([409, 'RELEASE_TRANSITION_INVALID']);
    // A body that matches neither form names the field and what it expects (not "(root): Invalid input").
    for (const [body, message] of [
      [{ meaning: 'approved', password: PASSWORD }, 'meaning: Invalid option: expected one of "reviewed"|"approved for release"'],
      [{ meaning: 'reviewed' }, 'password: Invalid input: expected string, received undefined or token: Invalid input: expected string, received undefined'],
      // Both credentials: which to drop, not "an unknown field".
      [{ meaning: 'reviewed', password: PASSWORD, token: 'vgl_x' }, '(root): give either password or token, not both'],
    ] as const) {
      const bad = await call('quinn', 'POST', `/api/releases/${requestId}/sign`, body);
      expect([bad.statusCode, bad.json<{ message: string }>().message]).toEqual([400, `The request is invalid: ${message}`]);
    }
    // Without the signer's credential, the answer is the same for a draft and for no request at all: the state is not disclosed.
    for (const id of [requestId, 'r-00000000-0000-4000-8000-000000000000']) {
      const guess = await call('clara', 'POST', `/api/releases/${id}/sign`, { meaning: 'reviewed', password: 'not a credential of hers' });
      expect([guess.statusCode, guess.json<{ code: string }>().code]).toEqual([403, 'RELEASE_SIGNATURE_INVALID']);
    }
    // Gates need the dataset the protocol pins.
    const noData = await call('erin', 'POST', `/api/releases/${requestId}/gates`, {});
    expect(noData.statusCode).toBe(400);
    // A caller does not choose which server file is read: a dataset outside the release datasets folder is refused before anything is opened.
    for (const dataset of ['/etc/passwd.csv', 'medmnist:/dev/zero:val', 'medmnist:../../../../../etc/shadow:val']) {
      const outside = await call('erin', 'POST', `/api/releases/${requestId}/gates`, { dataset });
      expect([outside.statusCode, outside.json<{ code: string }>().code]).toEqual([400, 'RELEASE_DATASET_OUTSIDE']);
    }
  });

  it.skipIf(!hasPneumoniaMnist)('runs the gates, takes a password and a fresh-token signature, promotes, and rolls back (needs the sample data)', async () => {
    const declared = { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA', patientAgeYears: { min: 1, max: 5 } };
    const wrong = await call('erin', 'POST', `/api/releases/${requestId}/gates`, { dataset: `medmnist:${PNEUMONIA_NPZ}:test`, declared });
    expect([wrong.statusCode, wrong.json<{ code: string }>().code]).toEqual([409, 'RELEASE_DATA_MISMATCH']);
    // Inside the folder but a directory where a file is meant: the request's fault (4xx), said plainly, never a 500.
    const folder = await call('erin', 'POST', `/api/releases/${requestId}/gates`, { dataset: 'medmnist:medmnist:val', declared });
    expect([folder.statusCode, folder.json<{ code: string; message: string }>()]).toEqual([
      422,
      expect.objectContaining({ code: 'INPUT_UNREADABLE', message: 'The .npz file is a directory: give a file' }),
    ]);
    // Named inside the release datasets folder (VIGIL_RELEASE_DATASETS_DIR, here the sample data folder).
    const gates = await call('erin', 'POST', `/api/releases/${requestId}/gates`, { dataset: 'medmnist:medmnist/pneumoniamnist.npz:val', declared });
    expect(gates.statusCode).toBe(200);
    const run = gates.json<{ ran: { gate: string; passed: boolean; evidenceSha256: string }[]; release: { request: { state: string } } }>();
    expect(run.ran.map((g) => [g.gate, g.passed])).toEqual([['criteria', true]]);
    expect(run.release.request.state).toBe('validated');
    const evidence = await call('quinn', 'GET', `/api/releases/${requestId}/evidence/${run.ran[0]!.evidenceSha256}`);
    expect(evidence.json<{ criteria: { status: string } }>().criteria.status).toBe('passed');

    // Quinn has a password: a token issued to her just now (by whoever issues tokens, who knows its secret) does not sign for her.
    const issuer = new SqliteAccessStore(db, { now: () => new Date() });
    const issuedForQuinn = (await issuer.issueToken((await issuer.userByName('quinn'))!.userId, 'issued by an administrator')).secret;
    const byToken = await call('quinn', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'approved for release', token: issuedForQuinn });
    expect([byToken.statusCode, byToken.json<{ code: string }>().code]).toEqual([403, 'RELEASE_SIGNATURE_INVALID']);
    const badPassword = await call('quinn', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'approved for release', password: 'wrong password' });
    expect([badPassword.statusCode, badPassword.json<{ code: string }>().code]).toEqual([403, 'RELEASE_SIGNATURE_INVALID']);
    expect((await call('quinn', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'approved for release', password: PASSWORD })).statusCode).toBe(200);
    // Clara has no password: a token of hers issued 10 minutes ago (live, but not fresh) does not
    // re-authenticate, nor does someone else's fresh token; one she was issued just now does.
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    const clara = (await access.userByName('clara'))!;
    const tenMinutesAgo = new SqliteAccessStore(db, { now: () => new Date(Date.now() - 10 * 60_000) });
    const old = (await tenMinutesAgo.issueToken(clara.userId, 'older')).secret;
    const stale = await call('clara', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'reviewed', token: old });
    expect([stale.statusCode, stale.json<{ code: string }>().code]).toEqual([403, 'RELEASE_SIGNATURE_INVALID']);
    const quinnFresh = (await access.issueToken((await access.userByName('quinn'))!.userId, 'not clara')).secret;
    expect((await call('clara', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'reviewed', token: quinnFresh })).statusCode).toBe(403);
    const fresh = (await access.issueToken(clara.userId, 'signing')).secret;
    const signed = await call('clara', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'reviewed', token: fresh });
    expect(signed.statusCode).toBe(200);
    expect(signed.json<{ request: { state: string; signatures: { signer: { userName: string }; meaning: string }[] } }>().request).toMatchObject({
      state: 'approved',
      signatures: [
        { signer: { userName: 'quinn' }, meaning: 'approved for release' },
        { signer: { userName: 'clara' }, meaning: 'reviewed' },
      ],
    });

    const promoted = await call('erin', 'POST', `/api/releases/${requestId}/promote`);
    expect(promoted.json<{ request: { state: string } }>().request.state).toBe('production');
    const deployments = (await call('clara', 'GET', '/api/deployments')).json<{ deployments: { site: string; production: string; history: string[] }[] }>();
    expect(deployments.deployments).toMatchObject([{ site: 'default', production: candidateId, history: [demoId] }]);
    // A clinician may stop a model, not roll it back; an administrator may.
    expect((await call('clara', 'POST', '/api/deployments/default/rollback')).statusCode).toBe(403);
    const rolled = await call('ada', 'POST', '/api/deployments/default/rollback');
    expect(rolled.json()).toMatchObject({ production: demoId, history: [], updatedBy: 'ada' });

    // The evidence pack, downloaded by a reader, verifies offline under the published key (promotion and
    // rollback included). Who may read it: the route × role matrix (http-api.test.ts).
    const pack = await call('clara', 'GET', `/api/releases/${requestId}/evidence.zip`);
    expect([pack.statusCode, pack.headers['content-type']]).toEqual([200, 'application/zip']);
    const packFile = join(dir, 'downloaded.zip');
    writeFileSync(packFile, pack.rawPayload);
    const key = await runVigil(['audit', 'public-key'], dataDir);
    writeFileSync(join(dir, 'audit.pem'), key.stdout);
    const verified = await runVigil(['release', 'verify', packFile, '--public-key', join(dir, 'audit.pem'), '--json'], join(dir, 'reader'));
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, requestId });
  });

  it.skipIf(!hasPneumoniaMnist)(
    'splits duties by identity, spends a signing token once, names the approvals of a canary and of a version a rollback restored, and retires a candidate a rollback ended',
    async () => {
      const declared = { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA', patientAgeYears: { min: 1, max: 5 } };
      const access = new SqliteAccessStore(db, { now: () => new Date() });
      const clara = (await access.userByName('clara'))!;
      const quinn = (await access.userByName('quinn'))!;
      // The ledger is an auditor's question (audit:read).
      tokens.set('ledger-reader', (await access.issueToken((await access.createUser('ledger-reader', 'auditor')).userId, 'test')).secret);
      const codeOf = (r: { statusCode: number; json: <T>() => T }) => [r.statusCode, r.json<{ code?: string }>().code];
      /** A request of `candidate` taken through its gate and QA's signature (Clara's is left to the caller). */
      const validatedAndQaSigned = async (candidate: string): Promise<string> => {
        const created = await call('erin', 'POST', '/api/releases', { changeType: 'recalibration', site: 'default', candidate });
        expect(created.statusCode).toBe(201);
        const id = created.json<{ request: { requestId: string } }>().request.requestId;
        const gates = await call('erin', 'POST', `/api/releases/${id}/gates`, { dataset: 'medmnist:medmnist/pneumoniamnist.npz:val', declared });
        expect(gates.json<{ release: { request: { state: string } } }>().release.request.state).toBe('validated');
        expect((await call('quinn', 'POST', `/api/releases/${id}/sign`, { meaning: 'approved for release', password: PASSWORD })).statusCode).toBe(200);
        return id;
      };
      const claraSigns = async (id: string): Promise<void> => {
        const fresh = (await access.issueToken(clara.userId, 'signing')).secret;
        expect((await call('clara', 'POST', `/api/releases/${id}/sign`, { meaning: 'reviewed', token: fresh })).statusCode).toBe(200);
      };
      const ledger = async () => {
        const answer = await call('ledger-reader', 'GET', '/api/deployments/default/ledger');
        expect(answer.statusCode).toBe(200);
        return answer.json<{
          deployment: { change: string; changedBy: string; production: string; candidate: { mode: string; requestId: string | null } | null };
          release: { requestId: string } | null;
          approvals: { signerName: string; meaning: string }[];
          candidateRelease: { requestId: string } | null;
          candidateApprovals: { signerName: string; meaning: string }[];
        }>();
      };

      const a = await validatedAndQaSigned(candidateId);
      // The bearer token that authenticates the request is not a second factor: it does not sign.
      expect(codeOf(await call('clara', 'POST', `/api/releases/${a}/sign`, { meaning: 'reviewed', token: tokens.get('clara') }))).toEqual([
        403,
        'RELEASE_SIGNATURE_INVALID',
      ]);
      // A signing token signs once: two signatures sent with it at once give one 200, and it is spent (revoked).
      const other = await validatedAndQaSigned(candidateId);
      const once = (await access.issueToken(clara.userId, 'signing once')).secret;
      const both = await Promise.all([a, other].map((id) => call('clara', 'POST', `/api/releases/${id}/sign`, { meaning: 'reviewed', token: once })));
      expect(both.map((r) => r.statusCode).sort()).toEqual([200, 403]);
      const [signedId, refusedId] = both[0]!.statusCode === 200 ? [a, other] : [other, a];
      expect(codeOf(await call('clara', 'POST', `/api/releases/${refusedId}/sign`, { meaning: 'reviewed', token: once }))).toEqual([
        403,
        'RELEASE_SIGNATURE_INVALID',
      ]);
      expect((await app.inject({ method: 'GET', url: '/api/releases', headers: { authorization: `Bearer ${once}` } })).statusCode).toBe(401);
      // Spent as any revocation is recorded: by its owner.
      const revoked = (await call('ledger-reader', 'GET', '/api/audit/entries?type=token_revoked')).json<{
        entries: { event: { userId: string; changedBy: string } }[];
      }>();
      // (The earlier test's signing token too: each signature by token spends one.)
      expect(revoked.entries.map((e) => [e.event.userId, e.event.changedBy])).toEqual([
        [clara.userId, clara.userId],
        [clara.userId, clara.userId],
      ]);
      if (refusedId === a) await claraSigns(a);
      expect(signedId === a || refusedId === a).toBe(true);

      // Quinn signed A; made an ml-engineer, she still may not deploy it (duties split by who, not only by role).
      expect((await access.updateUser(quinn.userId, { role: 'ml-engineer' })).outcome).toBe('updated');
      try {
        for (const step of ['shadow', 'canary', 'promote']) {
          const tried = await call('quinn', 'POST', `/api/releases/${a}/${step}`, step === 'canary' ? { fraction: 0.25 } : undefined);
          if (step !== 'shadow') expect(codeOf(tried)).toEqual([403, 'RELEASE_SELF_APPROVAL']);
        }
      } finally {
        await access.updateUser(quinn.userId, { role: 'qa-regulatory' });
      }
      // A recalibration's protocol asks no shadow: the refusal says so (not the state).
      const shadow = await call('erin', 'POST', `/api/releases/${a}/shadow`);
      expect([shadow.statusCode, shadow.json<{ message: string }>().message]).toEqual([
        409,
        'The recalibration protocol asks for no shadow: the request goes to canary or production once approved',
      ]);
      // A canary judges between 1 % and half of the studies.
      for (const fraction of [1e-300, 0.9]) expect((await call('erin', 'POST', `/api/releases/${a}/canary`, { fraction })).statusCode).toBe(400);
      expect((await call('erin', 'POST', `/api/releases/${a}/canary`, { fraction: 0.25 })).statusCode).toBe(200);
      // During the canary, the ledger names the candidate's request and who signed it.
      const during = await ledger();
      expect(during.deployment.candidate).toMatchObject({ mode: 'canary', requestId: a });
      expect(during.candidateRelease?.requestId).toBe(a);
      expect(during.candidateApprovals.map((x) => x.signerName)).toEqual(['quinn', 'clara']);
      // A future time is refused, not answered as if it were now.
      const future = await call(
        'ledger-reader',
        'GET',
        `/api/deployments/default/ledger?at=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
      );
      expect(codeOf(future)).toEqual([400, 'REQUEST_INVALID']);
      expect((await call('erin', 'POST', `/api/releases/${a}/promote`)).json<{ request: { state: string } }>().request.state).toBe('production');
      // The other request compared against the demo, no longer production: it cannot be deployed.
      expect((await call('erin', 'POST', `/api/releases/${other}/promote`)).statusCode).toBe(409);

      // B, of the grandchild, replaces A; a rollback then restores A's version — with A's request and signatures.
      const b = await validatedAndQaSigned(grandchildId);
      await claraSigns(b);
      expect((await call('erin', 'POST', `/api/releases/${b}/promote`)).statusCode).toBe(200);
      const rolled = await call('ada', 'POST', '/api/deployments/default/rollback');
      expect(rolled.json()).toMatchObject({ production: candidateId, productionRequestId: a, history: [demoId], historyRequestIds: [null] });
      const restored = await ledger();
      expect(restored.deployment).toMatchObject({ change: 'rollback', changedBy: 'ada', production: candidateId });
      expect(restored.release?.requestId).toBe(a);
      expect(restored.approvals.map((x) => `${x.signerName}: ${x.meaning}`)).toEqual(['quinn: approved for release', 'clara: reviewed']);
      // A is in production again, B (rolled back) is retired.
      const stateOf = async (id: string) => (await call('erin', 'GET', `/api/releases/${id}`)).json<{ request: { state: string } }>().request.state;
      expect([await stateOf(a), await stateOf(b)]).toEqual(['production', 'retired']);

      // C in canary when another request (D) is promoted straight to production: C's candidate ends with the
      // production it ran beside, and C is retired, not stranded; a rollback then brings A back.
      const canaryThenReplaced = await validatedAndQaSigned(grandchildId);
      await claraSigns(canaryThenReplaced);
      expect((await call('erin', 'POST', `/api/releases/${canaryThenReplaced}/canary`, { fraction: 0.1 })).statusCode).toBe(200);
      const d = await validatedAndQaSigned(grandchildId);
      await claraSigns(d);
      expect((await call('erin', 'POST', `/api/releases/${d}/promote`)).statusCode).toBe(200);
      expect((await call('erin', 'GET', '/api/deployments')).json<{ deployments: { candidate: unknown }[] }>().deployments[0]?.candidate).toBeNull();
      expect([await stateOf(canaryThenReplaced), await stateOf(d), await stateOf(a)]).toEqual(['retired', 'production', 'retired']);
      expect((await call('ada', 'POST', '/api/deployments/default/rollback')).json()).toMatchObject({ production: candidateId, productionRequestId: a });

      // C, of the grandchild again, in canary when the site is rolled back: its candidate ends, and the request is retired, not stranded.
      const c = await validatedAndQaSigned(grandchildId);
      await claraSigns(c);
      expect((await call('erin', 'POST', `/api/releases/${c}/canary`, { fraction: 0.1 })).statusCode).toBe(200);
      expect((await call('ada', 'POST', '/api/deployments/default/rollback')).json()).toMatchObject({ production: demoId, candidate: null });
      expect([await stateOf(c), await stateOf(a)]).toEqual(['retired', 'retired']);
    },
  );

  it('lets a clinician pause and resume a site (every study then goes to review), and answers an unknown site with 404', async () => {
    // The CLI's rule (domain/human-text.ts): one line, ≤ 500 characters, no control, bidi or invisible formatting characters; the message names the field.
    for (const [reason, expectation] of [
      ['unexpected\u001b[2J referrals', 'one line, no control, bidi or invisible formatting characters'],
      ['x'.repeat(501), 'at most 500 characters'],
    ] as const) {
      const refused = await call('clara', 'POST', '/api/deployments/default/pause', { reason });
      expect([refused.statusCode, refused.json<{ code: string; message: string }>()]).toMatchObject([
        400,
        { code: 'REQUEST_INVALID', message: `The request is invalid: reason: ${expectation}` },
      ]);
    }
    const paused = await call('clara', 'POST', '/api/deployments/default/pause', { reason: 'unexpected referrals' });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ paused: { reason: 'unexpected referrals', by: 'clara' } });
    expect((await call('quinn', 'POST', '/api/deployments/default/resume')).statusCode).toBe(403);
    expect((await call('clara', 'POST', '/api/deployments/default/resume')).json()).toMatchObject({ paused: null });
    expect((await call('erin', 'POST', '/api/deployments/elsewhere/pause', { reason: 'x' })).statusCode).toBe(404);
  });

  it('counts a signature’s wrong passwords toward the sign-in limit on the name, so a borrowed token cannot guess the password', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await call('quinn', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'reviewed', password: `guess number ${i}` })).statusCode);
    }
    // Refused as wrong credentials whatever the request's state (it is past signing), then the name is limited: even the right password waits.
    expect(statuses.slice(-1)).toEqual([429]);
    expect(statuses.slice(0, -1).every((s) => s === 403 || s === 429)).toBe(true);
    const right = await call('quinn', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'reviewed', password: PASSWORD });
    expect([right.statusCode, right.json<{ code: string }>().code]).toEqual([429, 'AUTH_RATE_LIMITED']);
    const signIn = await app.inject({ method: 'POST', url: '/api/session', payload: { userName: 'quinn', password: PASSWORD } });
    expect(signIn.statusCode).toBe(429);
  });

  it('never lets an integration see releases', async () => {
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    const user = await access.createUser('someone-integration', 'integration');
    tokens.set('integration', (await access.issueToken(user.userId, 'test')).secret);
    expect((await call('integration', 'GET', '/api/releases')).statusCode).toBe(403);
    expect((await call('integration', 'GET', '/api/deployments')).statusCode).toBe(403);
    expect((await call('integration', 'GET', `/api/releases/${requestId}/evidence.zip`)).statusCode).toBe(403);
  });

  it('lets an auditor read release requests and download their evidence pack (the change-control part of the audit trail), and change nothing', async () => {
    const access = new SqliteAccessStore(db, { now: () => new Date() });
    const user = await access.createUser('audrey', 'auditor');
    tokens.set('audrey', (await access.issueToken(user.userId, 'test')).secret);
    expect((await call('audrey', 'GET', '/api/releases')).statusCode).toBe(200);
    const pack = await call('audrey', 'GET', `/api/releases/${requestId}/evidence.zip`);
    expect([pack.statusCode, pack.headers['content-type']]).toEqual([200, 'application/zip']);
    expect((await call('audrey', 'POST', '/api/deployments/default/pause', { reason: 'no' })).statusCode).toBe(403);
    expect((await call('audrey', 'POST', `/api/releases/${requestId}/sign`, { meaning: 'reviewed', password: 'x' })).statusCode).toBe(403);
  });
});
