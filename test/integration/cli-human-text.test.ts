import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/adapters/store-sqlite/open-sqlite.js';
import { SqliteDeploymentStore } from '../../src/adapters/store-sqlite/sqlite-deployment-store.js';
import { runVigil } from '../helpers/run-vigil.js';

/**
 * Free text on the command line (a pause reason) is held to the API's rule (domain/human-text.ts): one
 * line, at most 500 characters, no control, bidi or invisible formatting characters; and whatever the CLI prints is printable
 * (cli/printable-text.ts): a control character from anywhere reaches the terminal as a visible escape.
 */
const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-text-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('vigil deploy pause --reason', () => {
  it.each([
    ['an ESC sequence (clears the screen)', 'drift\u001b[2J\u001b[Hall fine', 'one line, no control, bidi or invisible formatting characters'],
    ['a carriage return (overwrites the line)', 'fine\rdrift under review', 'one line, no control, bidi or invisible formatting characters'],
    ['a NUL', 'drift\u0000', 'one line, no control, bidi or invisible formatting characters'],
    ['a C1 CSI', 'drift\u009b2J', 'one line, no control, bidi or invisible formatting characters'],
    ['a bidi override', 'drift \u202eweiver rednu', 'one line, no control, bidi or invisible formatting characters'],
    ['a zero-width space', 'dri\u200bft', 'one line, no control, bidi or invisible formatting characters'],
    ['501 characters (the API caps at 500)', 'x'.repeat(501), 'at most 500 characters'],
  ])('refuses %s as a usage error, before changing anything, and prints no control character', async (_what, reason, expectation) => {
    const paused = await runVigil(['deploy', 'pause', '--site', 'default', '--reason', reason], dataDir);
    expect([paused.code, paused.stdout]).toEqual([2, '']);
    expect(paused.stderr).toContain(`CLI_USAGE: deploy pause --reason: ${expectation}`);
    expect(paused.stderr).not.toMatch(CONTROL);
    const status = await runVigil(['deploy', 'status', '--json'], dataDir);
    expect(JSON.parse(status.stdout)).toMatchObject({ deployments: [{ site: 'default', paused: null }] });
  });

  it('takes 500 characters of one line, and the status shows them', async () => {
    const reason = `drift under review ${'x'.repeat(481)}`;
    const paused = await runVigil(['deploy', 'pause', '--site', 'default', '--reason', reason], dataDir);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain(`PAUSED by local-cli`);
    expect((await runVigil(['deploy', 'resume', '--site', 'default'], dataDir)).code).toBe(0);
  });
});

describe('what the CLI prints', () => {
  it('escapes the control characters of stored text (a pause reason written before the rule, or by another writer): text and --json', async () => {
    const db = openSqliteDatabase({ dataDir });
    try {
      const store = new SqliteDeploymentStore(db);
      const current = (await store.get('default'))!;
      const reason = 'drift\u001b]0;owned\u0007\u001b[2J\rall fine\u009b';
      const paused = { ...current, paused: { reason, by: 'someone', at: current.updatedAt }, generation: current.generation + 1 };
      expect(await store.compareAndSet(paused)).toBe(true);
    } finally {
      db.close();
    }
    const text = await runVigil(['deploy', 'status'], dataDir);
    expect(text.stdout).not.toMatch(CONTROL);
    expect(text.stdout).toContain('PAUSED by someone at');
    expect(text.stdout).toContain(': drift\\u001b]0;owned\\u0007\\u001b[2J\\u000dall fine\\u009b');
    const json = await runVigil(['deploy', 'status', '--json'], dataDir);
    expect(json.stdout).not.toMatch(CONTROL);
    // The same value: \uXXXX inside a JSON string is the character itself.
    expect(JSON.parse(json.stdout)).toMatchObject({ deployments: [{ paused: { reason: 'drift\u001b]0;owned\u0007\u001b[2J\rall fine\u009b' } }] });
  });
});
