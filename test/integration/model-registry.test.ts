import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteAuditLog } from '../../src/adapters/store-sqlite/sqlite-audit-log.js';
import { bundleVersionId } from '../helpers/bundle-version.js';
import { texturedGreyPng } from '../helpers/images.js';
import { DEMO_MODEL_DIR } from '../helpers/sample-data.js';
import { runVigil } from '../helpers/run-vigil.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-registry-'));
afterAll(() => {
  chmodRecursive(dir);
  rmSync(dir, { recursive: true, force: true });
});

function chmodRecursive(path: string): void {
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, e.name);
    if (e.isDirectory()) {
      chmodSync(full, 0o755);
      chmodRecursive(full);
    } else if (!e.isSymbolicLink()) chmodSync(full, 0o644);
  }
}

async function auditEvents(dataDir: string, type: string): Promise<Record<string, unknown>[]> {
  const log = SqliteAuditLog.open({ dataDir, clock: { now: () => new Date() } });
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < (await log.size()); i++) {
    const e = (await log.get(`a-${i}`))!.event as unknown as Record<string, unknown>;
    if (e.type === type) out.push(e);
  }
  await log.close();
  return out;
}

describe('vigil model register / versions / card: a registry of immutable, content-addressed versions', () => {
  const dataDir = join(dir, 'data');
  const demoId = bundleVersionId(DEMO_MODEL_DIR);

  it('registers the demo bundle under the SHA-256 of its whole content, once, audited', async () => {
    const first = await runVigil(['model', 'register', DEMO_MODEL_DIR, '--code-ref', 'git:demo', '--json'], dataDir);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const { created, version } = JSON.parse(first.stdout) as { created: boolean; version: { versionId: string; model: { id: string }; files: number } };
    expect(created).toBe(true);
    expect(version.versionId).toBe(demoId);
    expect(version.model.id).toBe('pneumonia-demo');
    const again = await runVigil(['model', 'register', DEMO_MODEL_DIR], dataDir);
    expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/^already registered: /)]);
    const events = await auditEvents(dataDir, 'model_registered');
    expect(events).toEqual([
      expect.objectContaining({
        versionId: demoId,
        parentVersionId: null,
        registeredBy: 'local-cli',
        lineage: expect.objectContaining({ codeReference: 'git:demo' }),
      }),
    ]);
    // The archived copy is the bundle, byte for byte.
    expect(bundleVersionId(join(dataDir, 'registry', demoId))).toBe(demoId);
  });

  it('gives a changed bundle a new version, linked to its parent by the manifest, and refuses an unregistered parent', async () => {
    const child = join(dir, 'child');
    cpSync(DEMO_MODEL_DIR, child, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(child, 'vigil-model.json'), 'utf8')) as Record<string, unknown> & {
      id: string;
      version: string;
      model: { sha256: string };
    };
    writeFileSync(
      join(child, 'vigil-model.json'),
      JSON.stringify({ ...manifest, version: '1.0.1', parent: { id: manifest.id, version: manifest.version, sha256: manifest.model.sha256 } }, null, 2),
    );
    const elsewhere = await runVigil(['model', 'register', child], join(dir, 'empty-data'));
    expect(elsewhere.code).toBe(13);
    expect(elsewhere.stderr).toMatch(/MODEL_PARENT_UNREGISTERED/);
    const registered = await runVigil(['model', 'register', child, '--json'], dataDir);
    expect(registered.code).toBe(0);
    const { version } = JSON.parse(registered.stdout) as { version: { versionId: string; parentVersionId: string } };
    expect(version).toMatchObject({ versionId: bundleVersionId(child), parentVersionId: demoId });
    const listed = await runVigil(['model', 'versions'], dataDir);
    expect(listed.stdout).toContain(`${version.versionId.slice(0, 12)}  pneumonia-demo 1.0.1  child of ${demoId.slice(0, 12)}`);
  });

  it('prints a generated model card: intended use, not-for, per-stratum performance with intervals, failure modes, uncertainty', async () => {
    const card = await runVigil(['model', 'card', demoId.slice(0, 10)], dataDir);
    expect(card.code).toBe(0);
    const report = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'reports', 'pneumoniamnist-test', 'report.json'), 'utf8')) as {
      metrics: { overall: { specificity: { value: number; ciLow: number; ciHigh: number } } };
    };
    const spec = report.metrics.overall.specificity;
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    expect(card.stdout).toContain('## Not for');
    expect(card.stdout).toContain(`${pct(spec.value)} (${pct(spec.ciLow)}–${pct(spec.ciHigh)})`);
    expect(card.stdout).toMatch(/## Known failure modes\n\n- On /);
    expect(card.stdout).toContain('## How its uncertainty is shown');
    expect(card.stdout).toContain(demoId);
  });

  it('records, when a model is loaded to judge, the version id of the exact bundle (registered or not)', async () => {
    const images = join(dir, 'pngs');
    mkdirSync(images);
    writeFileSync(join(images, 'a.png'), await texturedGreyPng(3));
    const predicted = await runVigil(
      ['predict', images, '--json', '--modality', 'CR', '--body-part', 'CHEST', '--view', 'PA', '--patient-age-years', '3'],
      dataDir,
    );
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(await auditEvents(dataDir, 'model_loaded')).toEqual([
      expect.objectContaining({ versionId: demoId, model: expect.objectContaining({ id: 'pneumonia-demo' }) }),
    ]);
  });

  it('refuses a version whose archived bytes were altered, and a bundle holding a link', async () => {
    const altered = join(dataDir, 'registry', demoId, 'MODEL_CARD.md');
    chmodSync(join(dataDir, 'registry', demoId), 0o755);
    chmodSync(altered, 0o644);
    writeFileSync(altered, 'edited\n');
    const card = await runVigil(['model', 'card', demoId], dataDir);
    expect(card.code).toBe(13);
    // The message names the version, so that the operator knows which archived bundle to restore (a rollback onto it says the same).
    expect(card.stderr).toBe(
      `vigil: MODEL_HASH_MISMATCH: The archived bundle of model version ${demoId} no longer hashes to its version id: its files were altered after it was registered\n`,
    );
    // A link planted in the archive (to /dev/zero, say) is an alteration too: the server's integrity fault (500), never read.
    symlinkSync('/dev/zero', join(dataDir, 'registry', demoId, 'planted.bin'));
    const planted = await runVigil(['model', 'card', demoId], dataDir);
    expect([planted.code, planted.stderr]).toEqual([
      13,
      `vigil: MODEL_HASH_MISMATCH: The archived bundle of model version ${demoId} was altered after it was registered: the bundle holds a link or a special file\n`,
    ]);

    const linked = join(dir, 'linked');
    cpSync(DEMO_MODEL_DIR, linked, { recursive: true });
    symlinkSync('/etc/passwd', join(linked, 'notes.txt'));
    const refused = await runVigil(['model', 'register', linked], dataDir);
    expect(refused.code).toBe(13);
    expect(refused.stderr).toMatch(/MODEL_BUNDLE_INVALID/);
    const unknown = await runVigil(['model', 'card', 'ffffffff'], dataDir);
    expect([unknown.code, unknown.stderr]).toEqual([13, expect.stringMatching(/MODEL_VERSION_NOT_FOUND/)]);
  });
});
