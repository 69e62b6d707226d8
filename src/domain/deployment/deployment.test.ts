import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isPlatformError } from '../errors.js';
import { applyDeploymentChange, emptyDeployment, routeStudy, withHistoryRequestIds, type DeploymentChange, type SiteDeployment } from './deployment.js';

const v = (n: number): string => n.toString(16).padStart(64, '0');
const now = '2026-12-07T12:00:00.000Z';

const change: fc.Arbitrary<DeploymentChange> = fc.oneof(
  fc.record({ kind: fc.constant('deploy' as const), versionId: fc.integer({ min: 1, max: 4 }).map(v), requestId: fc.constant(null) }),
  fc.record({ kind: fc.constant('start_shadow' as const), versionId: fc.integer({ min: 1, max: 4 }).map(v), requestId: fc.constant('r') }),
  fc.record({
    kind: fc.constant('start_canary' as const),
    versionId: fc.integer({ min: 1, max: 4 }).map(v),
    fraction: fc.oneof(fc.double({ min: 0.01, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
    requestId: fc.constant('r'),
  }),
  fc.constantFrom<DeploymentChange>(
    { kind: 'promote' },
    { kind: 'end_candidate' },
    { kind: 'pause', reason: 'drift alarm' },
    { kind: 'resume' },
    { kind: 'rollback' },
  ),
);

/** Applies what can be applied; a refused change must be a coded DEPLOYMENT_CHANGE_INVALID and change nothing. */
function run(changes: readonly DeploymentChange[]): SiteDeployment[] {
  const states = [emptyDeployment('north')];
  for (const c of changes) {
    const current = states.at(-1)!;
    try {
      states.push(applyDeploymentChange(current, c, 'someone', now));
    } catch (error) {
      if (!(isPlatformError(error) && error.code === 'DEPLOYMENT_CHANGE_INVALID')) throw error;
    }
  }
  return states;
}

describe('site deployments', () => {
  test.prop([fc.array(change, { maxLength: 40 })])('each change adds one generation; a candidate never is the production version', (changes) => {
    const states = run(changes);
    states.forEach((s, i) => {
      expect(s.generation).toBe(i);
      if (s.candidate !== null) expect(s.candidate.versionId).not.toBe(s.production);
      if (s.production === null) expect(s.candidate).toBeNull();
    });
  });

  test.prop([fc.array(change, { maxLength: 40 })])('rollback restores exactly the production version before the last change of it', (changes) => {
    const states = run(changes);
    for (let i = 1; i < states.length; i++) {
      const before = states[i - 1]!;
      const after = states[i]!;
      if (after.production !== before.production && after.history.length > before.history.length) {
        // A promotion or deployment: rolling back at once restores what was.
        const undone = applyDeploymentChange(after, { kind: 'rollback' }, 'someone', now);
        expect(undone.production).toBe(before.production);
        expect(undone.history).toEqual(before.history);
        // With the request that had put it there, so the ledger still names who approved what runs again.
        expect(undone.productionRequestId).toBe(before.productionRequestId);
        expect(undone.historyRequestIds).toEqual(before.historyRequestIds);
      }
    }
  });

  test.prop([fc.array(change, { maxLength: 40 })])(
    'the history keeps one request id per earlier version; a production change ends any candidate',
    (changes) => {
      const states = run(changes);
      for (let i = 1; i < states.length; i++) {
        const after = states[i]!;
        expect(after.historyRequestIds).toHaveLength(after.history.length);
        // A candidate ran beside a production version (its shadow compared with it): it does not outlive it.
        if (after.production !== states[i - 1]!.production) expect(after.candidate).toBeNull();
      }
    },
  );

  test.prop([fc.array(change, { maxLength: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })])(
    'a paused site judges nothing; a shadow never judges; a canary judges only its share',
    (changes, draw) => {
      for (const s of run(changes)) {
        const route = routeStudy(s, draw);
        if (s.paused !== null || s.production === null) {
          expect(route.kind).toBe('human_review');
          continue;
        }
        if (route.kind !== 'judge') throw new Error('expected a judge');
        const candidate = s.candidate;
        if (candidate?.mode === 'canary') {
          expect(route.versionId).toBe(draw < candidate.fraction! ? candidate.versionId : s.production);
          expect(route.shadow).toBeNull();
        } else {
          expect(route).toEqual({ kind: 'judge', versionId: s.production, route: 'production', shadow: candidate?.versionId ?? null });
        }
      }
    },
  );

  it('says why a change cannot be made', () => {
    const deployed = applyDeploymentChange(emptyDeployment('north'), { kind: 'deploy', versionId: v(1), requestId: null }, 'admin', now);
    const refused = (d: SiteDeployment, c: DeploymentChange): string => {
      try {
        applyDeploymentChange(d, c, 'admin', now);
      } catch (error) {
        if (isPlatformError(error)) return `${error.code}: ${error.message}`;
      }
      return 'applied';
    };
    expect(refused(emptyDeployment('north'), { kind: 'start_shadow', versionId: v(2), requestId: null })).toMatch(/DEPLOYMENT_CHANGE_INVALID: .*has none/);
    expect(refused(deployed, { kind: 'rollback' })).toMatch(/no earlier production version/);
    for (const fraction of [1, 1e-300, 0.6, Number.NaN]) {
      expect(refused(deployed, { kind: 'start_canary', versionId: v(2), fraction, requestId: null })).toBe(
        "DEPLOYMENT_CHANGE_INVALID: A canary fraction is between 0.01 and 0.5 of the site's studies",
      );
    }
    expect(refused(deployed, { kind: 'pause', reason: '  ' })).toMatch(/needs a reason/);
    // Whoever calls (the API and the CLI check first): the human-text rule holds for every pause reason.
    expect(refused(deployed, { kind: 'pause', reason: 'drift\u001b[2J' })).toBe(
      'DEPLOYMENT_CHANGE_INVALID: A pause reason: one line, no control, bidi or invisible formatting characters',
    );
    expect(refused(deployed, { kind: 'pause', reason: 'x'.repeat(501) })).toBe('DEPLOYMENT_CHANGE_INVALID: A pause reason: at most 500 characters');
    expect(refused(deployed, { kind: 'promote' })).toMatch(/no candidate/);
    const shadowing = applyDeploymentChange(deployed, { kind: 'start_shadow', versionId: v(2), requestId: 'r' }, 'admin', now);
    expect(refused(shadowing, { kind: 'start_canary', versionId: v(3), fraction: 0.1, requestId: 'q' })).toMatch(/Another candidate/);
    // A rollback restores the request that had put the restored version in production.
    const released = applyDeploymentChange(
      applyDeploymentChange(deployed, { kind: 'deploy', versionId: v(2), requestId: 'r-2' }, 'admin', now),
      { kind: 'deploy', versionId: v(3), requestId: 'r-3' },
      'admin',
      now,
    );
    expect(released.historyRequestIds).toEqual([null, 'r-2']);
    expect(applyDeploymentChange(released, { kind: 'rollback' }, 'admin', now)).toMatchObject({
      production: v(2),
      productionRequestId: 'r-2',
      history: [v(1)],
      historyRequestIds: [null],
    });
    // The same candidate may go from shadow to canary.
    expect(applyDeploymentChange(shadowing, { kind: 'start_canary', versionId: v(2), fraction: 0.1, requestId: 'r' }, 'admin', now).candidate?.mode).toBe(
      'canary',
    );
  });
});

describe('deployments stored before each earlier version kept its request', () => {
  it('read with null for each earlier version, aligned on the newest', () => {
    const { historyRequestIds: _dropped, ...old } = { ...emptyDeployment('north'), history: [v(1), v(2)], historyRequestIds: [] as (string | null)[] };
    expect(withHistoryRequestIds(old).historyRequestIds).toEqual([null, null]);
    expect(withHistoryRequestIds({ ...old, historyRequestIds: ['r-2'] }).historyRequestIds).toEqual([null, 'r-2']);
    expect(withHistoryRequestIds({ ...old, history: [] }).historyRequestIds).toEqual([]);
  });
});
