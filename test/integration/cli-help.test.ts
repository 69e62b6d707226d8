import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { runVigil } from '../helpers/run-vigil.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-help-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vigil <command> --help', () => {
  it.each(Object.keys(COMMANDS).flatMap((name) => [[name, '--help'] as const, [name, '-h'] as const]))(
    '%s %s prints the usage on stdout and exits 0, touching nothing',
    async (name, flag) => {
      const dataDir = join(dir, `${name}${flag}`);
      const run = await runVigil([name, flag], dataDir);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(`Usage: vigil ${COMMANDS[name]!.usage}\n`);
      // No store was opened, no server started.
      expect(existsSync(dataDir)).toBe(false);
    },
  );

  it('still reports a real usage error with exit 2', async () => {
    const run = await runVigil(['evaluate', '--no-such-option'], join(dir, 'x'));
    expect(run.code).toBe(2);
  });
});
