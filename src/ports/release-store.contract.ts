/**
 * The behaviour every `ReleaseStore` must show, written once and run against each store (STYLE.md,
 * "Contract suites"). The fixture gives two stores on one database, as two servers'.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { releaseProtocolSchema, type ReleaseProtocol } from '../domain/release/release-protocol.js';
import type { ReleaseRequest } from '../domain/release/release-request.js';
import type { ReleaseStore } from './release-store.js';

export interface ReleaseStoreFixture {
  readonly store: ReleaseStore;
  readonly second: ReleaseStore;
  dispose(): void | Promise<void>;
}

const at = (s: number): string => new Date(Date.UTC(2026, 11, 7, 12, 0, s)).toISOString();
const protocol: ReleaseProtocol = releaseProtocolSchema.parse({
  changeType: 'retraining',
  description: 'Retraining',
  validationData: { '*': 'ab'.repeat(32), north: 'cd'.repeat(32) },
  criteria: ['auroc.ci_low >= 0.90'],
  nonInferiority: { margin: 0.02 },
  shadow: { minCases: 200, minAgreement: 0.95 },
  approvals: [{ role: 'qa-regulatory', meaning: 'approved for release' }],
});
const requestOf = (n: number, site: string): ReleaseRequest => ({
  requestId: `r-00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
  changeType: 'retraining',
  site,
  candidateVersionId: '2'.repeat(64),
  baselineVersionId: '1'.repeat(64),
  protocolSha256: 'ef'.repeat(32),
  requestedBy: { userId: 'u-1', userName: 'erin', role: 'ml-engineer' },
  state: 'draft',
  gates: [],
  signatures: [],
  canaryFraction: null,
  createdAt: at(n),
  updatedAt: at(n),
});

export function describeReleaseStore(name: string, factory: () => ReleaseStoreFixture | Promise<ReleaseStoreFixture>): void {
  describe(`ReleaseStore contract: ${name}`, () => {
    let fixture: ReleaseStoreFixture | undefined;
    const open = async (): Promise<ReleaseStoreFixture> => (fixture = await factory());
    afterEach(async () => {
      await fixture?.dispose();
      fixture = undefined;
    });

    it('keeps a request with its protocol, and creates an id only once', async () => {
      const { store, second } = await open();
      const request = requestOf(1, 'north');
      expect(await store.get(request.requestId)).toBeUndefined();
      expect(await store.create(request, protocol)).toBe(true);
      expect(await second.create({ ...request, site: 'east' }, protocol)).toBe(false);
      expect(await second.get(request.requestId)).toEqual({ request, protocol, revision: 1 });
    });

    it('finds ids by a prefix, exactly and in id order, at most the limit asked', async () => {
      const { store, second } = await open();
      for (const n of [11, 12, 21]) expect(await store.create(requestOf(n, 'north'), protocol)).toBe(true);
      const base = 'r-00000000-0000-4000-8000-0000000000';
      expect(await second.idsStartingWith(`${base}1`, 10)).toEqual([`${base}11`, `${base}12`]);
      expect(await second.idsStartingWith(`${base}2`, 10)).toEqual([`${base}21`]);
      expect(await second.idsStartingWith('r-00000000', 2)).toHaveLength(2);
      expect(await second.idsStartingWith('r-1', 10)).toEqual([]);
      // Exact: no case folding, and no wildcard meaning for any character.
      expect(await second.idsStartingWith('R-00000000', 10)).toEqual([]);
      expect(await second.idsStartingWith('r-%', 10)).toEqual([]);
      expect(await second.idsStartingWith('r-0000000_', 10)).toEqual([]);
    });

    it('changes a request only over the revision it was read at, and never its protocol', async () => {
      const { store, second } = await open();
      const request = requestOf(1, 'north');
      await store.create(request, protocol);
      const gated: ReleaseRequest = {
        ...request,
        state: 'validated',
        gates: [{ gate: 'criteria', passed: true, evidenceSha256: '9'.repeat(64), summary: 'passed', at: at(2) }],
        updatedAt: at(2),
      };
      const rejected: ReleaseRequest = { ...request, state: 'rejected', updatedAt: at(3) };
      expect(await store.compareAndSet(gated, 1)).toBe(true);
      // Two servers changed revision 1: the second is told, and writes nothing.
      expect(await second.compareAndSet(rejected, 1)).toBe(false);
      expect(await second.get(request.requestId)).toEqual({ request: gated, protocol, revision: 2 });
      expect(await second.compareAndSet({ ...gated, state: 'approved', updatedAt: at(4) }, 2)).toBe(true);
      expect((await store.get(request.requestId))?.revision).toBe(3);
      expect((await store.get(request.requestId))?.protocol).toEqual(protocol);
      expect(await store.compareAndSet(requestOf(9, 'north'), 1)).toBe(false);
    });

    it('lists newest first, per site and up to a limit', async () => {
      const { store, second } = await open();
      await store.create(requestOf(1, 'north'), protocol);
      await store.create(requestOf(2, 'east'), protocol);
      await store.create(requestOf(3, 'north'), protocol);
      const ids = (list: readonly { request: ReleaseRequest }[]): string[] => list.map((r) => r.request.requestId.slice(-2));
      expect(ids(await second.list())).toEqual(['03', '02', '01']);
      expect(ids(await second.list({ site: 'north' }))).toEqual(['03', '01']);
      expect(ids(await second.list({ limit: 1 }))).toEqual(['03']);
      expect(await second.list({ site: 'west' })).toEqual([]);
    });
  });
}
