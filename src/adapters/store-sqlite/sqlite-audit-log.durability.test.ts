/**
 * Durability under SIGKILL. A child process appends through the real adapter (the TypeScript
 * sources, loaded by test/fixtures/ts-loader so no build is involved) and prints each receipt; the
 * parent kills it with SIGKILL mid-stream, reopens the log, and checks that every acknowledged entry
 * is there with the root its receipt promised, and that the log verifies.
 *
 * What this does and does not show: SIGKILL loses the process, not the OS page cache, so it tests the
 * ordering "commit, then acknowledge" and that a torn transaction is rolled back on reopen. Surviving
 * power loss additionally rests on `synchronous=FULL` (an fsync of the WAL per commit, checked in
 * open-sqlite.test.ts), which a test in one machine cannot cut the power under.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createSteppingClock } from '../../ports/audit-log.contract.js';
import { openSqliteDatabase } from './open-sqlite.js';
import { SqliteAuditLog } from './sqlite-audit-log.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const loader = join(repoRoot, 'test/fixtures/ts-loader/register.js');
const child = join(repoRoot, 'test/fixtures/audit-log/append-until-killed.ts');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the child until it has acknowledged `killAfter` appends, then SIGKILLs it; returns the acknowledged receipts. */
async function appendUntilKilled(dataDir: string, killAfter: number): Promise<Map<number, string>> {
  const proc = spawn(process.execPath, ['--import', loader, child, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acknowledged = new Map<number, string>();
  let stderr = '';
  let pending = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [index, rootHash] = line.split(' ');
      if (index === undefined || rootHash === undefined) continue; // 'ready'
      acknowledged.set(Number(index), rootHash);
      if (acknowledged.size === killAfter) proc.kill('SIGKILL');
    }
  });
  const { code, signal } = await exited;
  // A line cut off by the kill is not an acknowledgement.
  expect(signal, `child exited with code ${code}: ${stderr}`).toBe('SIGKILL');
  return acknowledged;
}

describe('SqliteAuditLog durability', () => {
  it.each([{ killAfter: 150 }, { killAfter: 401 }])(
    'keeps every acknowledged entry when the writer is SIGKILLed after $killAfter receipts',
    async ({ killAfter }) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'vigil-audit-kill-'));
      dirs.push(dataDir);
      const acknowledged = await appendUntilKilled(dataDir, killAfter);
      expect(acknowledged.size).toBeGreaterThanOrEqual(killAfter);

      const log = SqliteAuditLog.open({ dataDir, clock: createSteppingClock() });
      const verification = await log.verify();
      expect(verification).toMatchObject({ ok: true });
      const lastAcknowledged = Math.max(...acknowledged.keys());
      expect(await log.size()).toBeGreaterThanOrEqual(lastAcknowledged + 1);
      for (const index of acknowledged.keys()) {
        expect((await log.get(`a-${index}`))?.event).toEqual({ type: 'error', code: 'DURABILITY_TEST', stage: `append-${index}` });
      }
      // Each receipt's root is the signed root at its size.
      const db = openSqliteDatabase({ dataDir });
      const rootAt = db.prepare<[number], Buffer>('SELECT root_hash FROM audit_tree_heads WHERE tree_size = ?').pluck();
      for (const [index, rootHash] of acknowledged) expect(rootAt.get(index + 1)?.toString('hex')).toBe(rootHash);
      db.close();
      // And the log carries on from where the killed writer stopped.
      expect((await log.append({ type: 'config_loaded', configHash: 'after-kill', vigilVersion: '0.1.0' })).index).toBe((await log.size()) - 1);
      expect(await log.verify()).toMatchObject({ ok: true });
      await log.close();
    },
  );
});
