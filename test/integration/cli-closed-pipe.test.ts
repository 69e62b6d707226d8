import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CLOSED_PIPE } from '../../src/cli/closed-pipe.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

const LOADER = join(REPO_ROOT, 'test/fixtures/ts-loader/register.js');
const VIGIL = join(REPO_ROOT, 'test/fixtures/cli/run-vigil-main.ts');
const dir = mkdtempSync(join(tmpdir(), 'vigil-closed-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `vigil ARGS` in a child process whose stdout reader is closed before it writes (as `| head -0` would). */
function runIntoClosedPipe(args: readonly string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', LOADER, VIGIL, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_DATA_DIR: join(dir, 'data') },
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

describe('vigil writing into a closed pipe (vigil … | head -1)', () => {
  it('ends quietly with 141 (128 + SIGPIPE), no EPIPE stack trace, for any command', async () => {
    for (const args of [['help'], ['audit', 'verify']]) {
      const run = await runIntoClosedPipe(args);
      expect(run.stderr).not.toMatch(/EPIPE|Error|at /);
      expect([run.code, run.signal]).toEqual([EXIT_CLOSED_PIPE, null]);
    }
  }, 60_000);
});
