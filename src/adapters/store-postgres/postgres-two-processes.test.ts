/**
 * Two Vigil processes on one PostgreSQL store, for real: two child processes (the TypeScript sources,
 * loaded by test/fixtures/ts-loader) append to the audit log and lease jobs at the same time. The
 * appends must form ONE log that verifies, with every index handed out once, and no job may be leased
 * by both.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../ports/job-queue.contract.js';
import { createTestSchema, POSTGRES_SKIP_REASON, POSTGRES_TEST_URL, postgresSkipNote, type TestSchema } from './internal/test-database.js';
import { PostgresAuditLog } from './postgres-audit-log.js';
import { PostgresJobQueue } from './postgres-job-queue.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const loader = join(repoRoot, 'test/fixtures/ts-loader/register.js');
const child = join(repoRoot, 'test/fixtures/postgres/append-and-lease.ts');

interface ChildReport {
  readonly indices: number[];
  readonly leased: number[];
}

/** Starts a child; resolves `ready` once it opened the store, `report` with its final line. */
function startChild(schema: string, dataDir: string, appends: number) {
  const proc = spawn(process.execPath, ['--import', loader, child, POSTGRES_TEST_URL, schema, dataDir, String(appends)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.startsWith('ready\n')) markReady();
  });
  const report = new Promise<ChildReport>((resolve, reject) =>
    proc.on('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as ChildReport);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    }),
  );
  // A child that fails before it is ready must not leave the test waiting for `ready`.
  void report.catch(() => markReady());
  return { ready, report, go: () => proc.stdin.end('go\n') };
}

describe.skipIf(POSTGRES_SKIP_REASON !== undefined)(`Two processes on one PostgreSQL store${postgresSkipNote}`, () => {
  let schema: TestSchema | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await schema?.drop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('appending and leasing at once: one audit log that verifies, each index once, no job leased twice', async () => {
    schema = await createTestSchema();
    const pool = await schema.open();
    // The shared data folder holds the one signing key; the first opener creates it.
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-pg-two-'));
    const jobs = new PostgresJobQueue(pool, { clock: createManualClock(0), retry: { baseDelayMs: 1_000, maxDelayMs: 1_000 }, defaultMaxAttempts: 3 });
    const JOBS = 120;
    for (let i = 0; i < JOBS; i++) await jobs.enqueue({ kind: 'infer', dedupeKey: `job-${i}`, payload: { i } });
    const APPENDS = 150;
    const seeded = await PostgresAuditLog.open({ pool, dataDir, clock: { now: () => new Date() } });
    await seeded.append({ type: 'config_loaded', configHash: 'c'.repeat(64), vigilVersion: 'test' });

    const children = [startChild(schema.schema, dataDir, APPENDS), startChild(schema.schema, dataDir, APPENDS)];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const [a, b] = (await Promise.all(children.map((c) => c.report))) as [ChildReport, ChildReport];

    // Audit: 1 + 2 × APPENDS entries, indices 1.. handed out once each, and the log verifies.
    const indices = [...a.indices, ...b.indices].sort((x, y) => x - y);
    expect(indices).toEqual(Array.from({ length: 2 * APPENDS }, (_, i) => i + 1));
    const log = await PostgresAuditLog.open({ pool, dataDir, clock: { now: () => new Date() } });
    expect(await log.verify()).toMatchObject({ ok: true, treeSize: 1 + 2 * APPENDS, checkedTreeHeads: 1 + 2 * APPENDS });
    // Both wrote: the appends really interleaved across processes.
    expect(a.indices.length).toBe(APPENDS);
    expect(b.indices.length).toBe(APPENDS);

    // Jobs: every job leased by exactly one of them, and done.
    const leased = [...a.leased, ...b.leased];
    expect(new Set(leased).size).toBe(leased.length);
    expect(leased).toHaveLength(JOBS);
    expect(a.leased.length).toBeGreaterThan(0);
    expect(b.leased.length).toBeGreaterThan(0);
    expect(await jobs.counts()).toEqual({ ready: 0, leased: 0, done: JOBS, dead: 0 });
  });
});
