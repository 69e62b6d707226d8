/**
 * The behaviour every `DeploymentStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). The fixture gives two stores on one database, as two servers'.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyDeploymentChange, emptyDeployment } from '../domain/deployment/deployment.js';
import type { DeploymentStore, ShadowComparison } from './deployment-store.js';

export interface DeploymentStoreFixture {
  readonly store: DeploymentStore;
  readonly second: DeploymentStore;
  dispose(): void | Promise<void>;
}

const v = (n: number): string => n.toString(16).padStart(64, '0');
const at = (s: number): string => new Date(Date.UTC(2026, 11, 7, 12, 0, s)).toISOString();

export function describeDeploymentStore(name: string, factory: () => DeploymentStoreFixture | Promise<DeploymentStoreFixture>): void {
  describe(`DeploymentStore contract: ${name}`, () => {
    let fixture: DeploymentStoreFixture | undefined;
    const open = async (): Promise<DeploymentStoreFixture> => (fixture = await factory());
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('writes a change only over the state it was made from, and every server sees it at once', async () => {
      const { store, second } = await open();
      expect(await store.get('north')).toBeUndefined();
      const first = applyDeploymentChange(emptyDeployment('north'), { kind: 'deploy', versionId: v(1), requestId: null }, 'admin', at(1));
      expect(await store.compareAndSet(first)).toBe(true);
      expect(await second.get('north')).toEqual(first);
      // Two servers change the same state: one wins, the other is told and writes nothing.
      const a = applyDeploymentChange(first, { kind: 'start_shadow', versionId: v(2), requestId: 'r1' }, 'alice', at(2));
      const b = applyDeploymentChange(first, { kind: 'pause', reason: 'drift' }, 'bob', at(3));
      expect(await store.compareAndSet(a)).toBe(true);
      expect(await second.compareAndSet(b)).toBe(false);
      expect(await second.get('north')).toEqual(a);
      // A second first deployment of the site loses too.
      expect(await second.compareAndSet(first)).toBe(false);
      const c = applyDeploymentChange(a, { kind: 'promote' }, 'carol', at(4));
      expect(await second.compareAndSet(c)).toBe(true);
      expect(await store.get('north')).toEqual(c);
      await store.compareAndSet(applyDeploymentChange(emptyDeployment('east'), { kind: 'deploy', versionId: v(1), requestId: null }, 'admin', at(5)));
      expect((await second.list()).map((d) => [d.site, d.production])).toEqual([
        ['east', v(1)],
        ['north', v(2)],
      ]);
    });

    it('records a shadow comparison once per case and candidate, and sums them per request', async () => {
      const { store, second } = await open();
      const base: ShadowComparison = {
        caseId: 'case-1',
        site: 'north',
        productionVersionId: v(1),
        candidateVersionId: v(2),
        requestId: 'r1',
        images: 3,
        agreedImages: 3,
        createdAt: at(1),
      };
      await store.recordShadow(base);
      await second.recordShadow({ ...base, agreedImages: 0 });
      await store.recordShadow({ ...base, caseId: 'case-2', images: 2, agreedImages: 1 });
      await store.recordShadow({ ...base, caseId: 'case-3', requestId: 'r0' });
      await store.recordShadow({ ...base, caseId: 'case-4', site: 'east' });
      expect(await second.shadowSummary('north', v(2), 'r1')).toEqual({ cases: 2, agreedCases: 1, images: 5, agreedImages: 4 });
      expect(await second.shadowSummary('north', v(2))).toEqual({ cases: 3, agreedCases: 2, images: 8, agreedImages: 7 });
      expect(await second.shadowSummary('north', v(3))).toEqual({ cases: 0, agreedCases: 0, images: 0, agreedImages: 0 });
    });
  });
}
