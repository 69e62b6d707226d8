/**
 * Deployments over the real SQLite stores and audit log. The process dying between a change's
 * compare-and-set and its audit entry is played here by an audit append that fails once (the store
 * write is done, the entry never written); test/integration/deployment-kill.test.ts does it with kill -9.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeHasher } from '../../src/adapters/crypto-node/node-hasher.js';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteAuditLog } from '../../src/adapters/store-sqlite/sqlite-audit-log.js';
import { SqliteAuditSearch } from '../../src/adapters/store-sqlite/sqlite-audit-search.js';
import { SqliteDeploymentStore } from '../../src/adapters/store-sqlite/sqlite-deployment-store.js';
import { SqliteModelRegistry } from '../../src/adapters/store-sqlite/sqlite-model-registry.js';
import type { AuditEvent, DeploymentChangedEvent } from '../../src/domain/audit/audit-event.js';
import { parseSitesConfig } from '../../src/domain/deployment/sites.js';
import type { ModelVersion } from '../../src/domain/registry/model-version.js';
import { createSteppingClock } from '../../src/ports/audit-log.contract.js';
import { Deployments } from '../../src/workflows/deployments.js';
import { version as registeredVersion } from '../fixtures/deployments/open-deployments.js';

const v = (n: number): string => n.toString(16).padStart(64, '0');
const version = (n: number): ModelVersion => registeredVersion(v(n), n);

const dirs: string[] = [];
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Deployments of two sites on a new SQLite data folder; `dieBeforeNextAudit()` makes the next audit
 * append fail, as a killed process's; `auditDelayMs` slows every append, as a busy log's.
 */
async function open(auditSettleMs = 0, auditDelayMs = 0) {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-deployments-wf-'));
  dirs.push(dataDir);
  const db: SqliteDatabase = openSqliteDatabase({ dataDir });
  const log = SqliteAuditLog.open({ dataDir, clock: createSteppingClock(Date.UTC(2026, 11, 7, 13)) });
  closers.push(
    () => void db.close(),
    () => log.close(),
  );
  const registry = new SqliteModelRegistry(db);
  for (const n of [1, 2]) await registry.register(version(n));
  let dying = false;
  const search = new SqliteAuditSearch(db);
  const deployments = new Deployments({
    store: new SqliteDeploymentStore(db),
    registry,
    sites: parseSitesConfig({
      defaultSite: 'north',
      sites: [
        { id: 'north', name: 'North' },
        { id: 'south', name: 'South' },
      ],
    }),
    hasher: nodeHasher,
    clock: createSteppingClock(Date.UTC(2026, 11, 7, 12), 60_000),
    recordAudit: async (event: AuditEvent) => {
      if (dying) {
        dying = false;
        throw new Error('killed before the audit append');
      }
      if (auditDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, auditDelayMs));
      return log.append(event);
    },
    auditSearch: search,
    auditSettleMs,
  });
  const changes = async (): Promise<DeploymentChangedEvent[]> =>
    (await search.search({ type: 'deployment_changed', limit: 1_000 })).entries
      .map((e) => e.event)
      .filter((e): e is DeploymentChangedEvent => e.type === 'deployment_changed')
      .reverse();
  return { deployments, log, changes, dieBeforeNextAudit: () => (dying = true) };
}

describe('Deployments: every stored change reaches the audit log', () => {
  it('audits each change with the state after it, and reconciling then finds nothing missing', async () => {
    const { deployments, changes } = await open();
    await deployments.change('north', { kind: 'deploy', versionId: v(1), requestId: null }, 'system');
    await deployments.change('north', { kind: 'start_shadow', versionId: v(2), requestId: 'r1' }, 'ml-engineer');
    expect(await deployments.reconcileAudit()).toEqual([]);
    expect((await changes()).map((e) => [e.generation, e.change, e.production, e.candidate?.versionId ?? null, e.recovered])).toEqual([
      [1, 'deploy', v(1), null, undefined],
      [2, 'start_shadow', v(1), v(2), undefined],
    ]);
  });

  it('a change stored by a process that died before auditing it is recovered at the next start: the stored state, whole, marked, once', async () => {
    const { deployments, changes, dieBeforeNextAudit } = await open();
    await deployments.change('north', { kind: 'deploy', versionId: v(1), requestId: null }, 'system');
    await deployments.change('north', { kind: 'start_shadow', versionId: v(2), requestId: 'r1' }, 'ml-engineer');
    dieBeforeNextAudit();
    await expect(deployments.change('north', { kind: 'promote' }, 'ml-engineer')).rejects.toThrow('killed before the audit append');
    const stored = await deployments.status('north');
    expect([stored.generation, stored.production]).toEqual([3, v(2)]);
    expect((await changes()).map((e) => e.generation)).toEqual([1, 2]);

    expect(await deployments.reconcileAudit()).toEqual([stored]);
    expect((await changes()).at(-1)).toEqual({
      type: 'deployment_changed',
      site: 'north',
      change: 'unknown',
      generation: 3,
      production: v(2),
      productionRequestId: 'r1',
      previousProduction: v(1),
      candidate: null,
      pausedReason: null,
      by: 'ml-engineer',
      recovered: { changedAt: stored.updatedAt, lastAuditedGeneration: 2 },
    });
    // Once: a second start finds the log complete.
    expect(await deployments.reconcileAudit()).toEqual([]);
    expect((await changes()).map((e) => e.generation)).toEqual([1, 2, 3]);
  });

  it('a change made before any restart first audits the unaudited state it replaces, so no stored state is ever overwritten unseen', async () => {
    const { deployments, changes, dieBeforeNextAudit } = await open();
    await deployments.change('south', { kind: 'deploy', versionId: v(1), requestId: null }, 'system');
    dieBeforeNextAudit();
    await expect(deployments.change('south', { kind: 'pause', reason: 'drift' }, 'clinician')).rejects.toThrow();
    // Another server, still running, resumes the site before the dead one restarts.
    await deployments.change('south', { kind: 'resume' }, 'clinician');
    expect((await changes()).map((e) => [e.generation, e.change, e.pausedReason, e.recovered?.lastAuditedGeneration])).toEqual([
      [1, 'deploy', null, undefined],
      [2, 'unknown', 'drift', 1],
      [3, 'resume', null, undefined],
    ]);
    expect(await deployments.reconcileAudit()).toEqual([]);
  });

  it('looks past a page of other sites’ changes for a site’s newest entry (no false recovery, and a real one still found)', async () => {
    const { deployments, changes, dieBeforeNextAudit } = await open();
    await deployments.change('south', { kind: 'deploy', versionId: v(1), requestId: null }, 'system');
    await deployments.change('north', { kind: 'deploy', versionId: v(1), requestId: null }, 'system');
    // 250 audited changes at north (more than a page of the search) after south's last one.
    for (let i = 0; i < 125; i++) {
      await deployments.change('north', { kind: 'pause', reason: `check ${i}` }, 'clinician');
      await deployments.change('north', { kind: 'resume' }, 'clinician');
    }
    expect(await deployments.reconcileAudit()).toEqual([]);
    dieBeforeNextAudit();
    await expect(deployments.change('south', { kind: 'start_canary', versionId: v(2), fraction: 0.1, requestId: 'r2' }, 'ml-engineer')).rejects.toThrow();
    const recovered = await deployments.reconcileAudit();
    expect(recovered.map((d) => [d.site, d.generation])).toEqual([['south', 2]]);
    expect((await changes()).at(-1)).toMatchObject({
      site: 'south',
      generation: 2,
      candidate: { versionId: v(2), mode: 'canary', fraction: 0.1 },
      recovered: { lastAuditedGeneration: 1 },
    });
  });

  it('a change in flight at a live server is not mistaken for a lost one: it is audited once, by its own server', async () => {
    const { deployments, changes } = await open(1_000, 200);
    await deployments.change('north', { kind: 'deploy', versionId: v(1), requestId: null }, 'system');
    // Another server starts while this change is stored and its (slow) audit append not yet done.
    const changing = deployments.change('north', { kind: 'pause', reason: 'drift' }, 'clinician');
    for (let i = 0; i < 100 && (await deployments.status('north')).generation < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await changes()).map((e) => e.generation)).toEqual([1]);
    expect(await deployments.reconcileAudit()).toEqual([]);
    await changing;
    expect((await changes()).map((e) => [e.generation, e.recovered])).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
  });
});
