/**
 * The behaviour every `ModelRegistry` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). The fixture gives two registries on one store, as two servers'.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelVersion } from '../domain/registry/model-version.js';
import type { ModelRegistry } from './model-registry.js';

export interface ModelRegistryFixture {
  readonly registry: ModelRegistry;
  readonly second: ModelRegistry;
  dispose(): void | Promise<void>;
}

const version = (n: number, changes: Partial<ModelVersion> = {}): ModelVersion => ({
  versionId: n.toString(16).padStart(64, '0'),
  model: { id: 'pneumonia-demo', version: '1.0.0', sha256: 'ab'.repeat(32) },
  name: 'Pneumonia demo',
  parentVersionId: null,
  lineage: { trainingDataSha256: 'cd'.repeat(32), validationDataSha256: null, codeReference: 'git:abc123', derivedBy: null },
  files: 3,
  bytes: 4_294_967_296 + n,
  registeredAt: new Date(Date.UTC(2026, 11, 7, 12, 0, n)).toISOString(),
  registeredBy: 'local-cli',
  ...changes,
});

export function describeModelRegistry(name: string, factory: () => ModelRegistryFixture | Promise<ModelRegistryFixture>): void {
  describe(`ModelRegistry contract: ${name}`, () => {
    let fixture: ModelRegistryFixture | undefined;
    const open = async (): Promise<ModelRegistryFixture> => (fixture = await factory());
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('records a version once, as given, and every server of the store sees it', async () => {
      const { registry, second } = await open();
      const first = version(1);
      expect(await registry.register(first)).toEqual({ version: first, created: true });
      expect(await second.get(first.versionId)).toEqual(first);
      // Registering the same id again changes nothing: the first record stands.
      expect(await second.register({ ...first, registeredBy: 'someone-else' })).toEqual({ version: first, created: false });
      expect(await registry.get('f'.repeat(64))).toBeUndefined();
    });

    it('lists newest first, links children to parents and finds the versions of one manifest identity', async () => {
      const { registry } = await open();
      const parent = version(1);
      const child = version(2, {
        parentVersionId: parent.versionId,
        model: { ...parent.model, version: '1.0.0-recalibrated' },
        lineage: { ...parent.lineage, derivedBy: 'vigil calibrate' },
      });
      const other = version(3, { model: { id: 'other', version: '2', sha256: 'ef'.repeat(32) } });
      for (const v of [parent, child, other]) await registry.register(v);
      expect((await registry.list()).map((v) => v.versionId)).toEqual([other, child, parent].map((v) => v.versionId));
      expect(await registry.withIdentity(parent.model)).toEqual([parent]);
      expect((await registry.get(child.versionId))?.parentVersionId).toBe(parent.versionId);
    });

    it('refuses a parent that is not registered', async () => {
      const { registry } = await open();
      await expect(registry.register(version(2, { parentVersionId: version(9).versionId }))).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
      expect(await registry.list()).toEqual([]);
    });
  });
}
