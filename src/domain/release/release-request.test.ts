import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../access/roles.js';
import { isPlatformError } from '../errors.js';
import { releaseProtocolSchema, type ReleaseProtocol } from './release-protocol.js';
import {
  applyReleaseAction,
  deployerSignedProblem,
  gatePassed,
  GATES,
  missingApprovals,
  preDeploymentGates,
  type Person,
  type ReleaseAction,
  type ReleaseRequest,
} from './release-request.js';

const protocolWith = (nonInferiority: boolean, shadow: boolean, twoQa = false): ReleaseProtocol =>
  releaseProtocolSchema.parse({
    changeType: 'recalibration',
    description: 'Recalibration on the site’s own validation data',
    validationData: { '*': 'ab'.repeat(32) },
    criteria: ['ece <= 0.05'],
    nonInferiority: nonInferiority ? { margin: 0.02 } : null,
    shadow: shadow ? { minCases: 100, minAgreement: 0.95 } : null,
    approvals: [
      { role: 'qa-regulatory', meaning: 'approved for release' },
      { role: 'clinician-reviewer', meaning: 'reviewed' },
      // A second QA signature of another meaning: one person must not give both.
      ...(twoQa ? [{ role: 'qa-regulatory', meaning: 'reviewed' }] : []),
    ],
  });

const people: Person[] = ROLES.flatMap((role: Role) => [1, 2].map((n) => ({ userId: `u-${role}-${n}`, userName: `${role} ${n}`, role })));
const requester = people.find((p) => p.role === 'ml-engineer')!;

function draft(requestedBy: Person = requester): ReleaseRequest {
  return {
    requestId: 'r-1',
    changeType: 'recalibration',
    site: 'north',
    candidateVersionId: 'c'.repeat(64),
    baselineVersionId: 'b'.repeat(64),
    protocolSha256: 'd'.repeat(64),
    requestedBy,
    state: 'draft',
    gates: [],
    signatures: [],
    canaryFraction: null,
    createdAt: '2026-12-07T00:00:00.000Z',
    updatedAt: '2026-12-07T00:00:00.000Z',
  };
}

// Biased towards actions that can succeed, so that random runs reach every state (checked below),
// while still trying the requester, a second signature by one person, wrong roles and no re-authentication.
const signers = [...people.filter((p) => p.role === 'qa-regulatory' || p.role === 'clinician-reviewer'), requester, people.find((p) => p.role === 'admin')!];
const action: fc.Arbitrary<ReleaseAction> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('record_gate' as const),
      gate: fc.constantFrom(...GATES),
      passed: fc.integer({ min: 0, max: 19 }).map((n) => n > 0),
      evidenceSha256: fc.constant('e'.repeat(64)),
      summary: fc.constant('s'),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom(...signers), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 9 })).map(([signer, m, r]): ReleaseAction => ({
      kind: 'sign',
      signer,
      // Mostly the meaning the protocol asks of the signer's role; sometimes the other.
      meaning: m > 0 === (signer.role === 'qa-regulatory') ? 'approved for release' : 'reviewed',
      reauthenticated: r > 0,
    })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'start_shadow' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('start_canary' as const),
      fraction: fc.oneof(
        { weight: 4, arbitrary: fc.double({ min: 0.01, max: 0.99, noNaN: true }) },
        { weight: 1, arbitrary: fc.double({ min: -0.5, max: 1.5, noNaN: true }) },
      ),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'promote' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'retire' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reinstate' as const }) },
);

/** Runs the actions, keeping each request the rules allowed; refused actions must be coded errors. */
function run(protocol: ReleaseProtocol, actions: readonly ReleaseAction[], requestedBy: Person = requester): ReleaseRequest[] {
  let request = draft(requestedBy);
  const seen = [request];
  for (const a of actions) {
    try {
      request = applyReleaseAction(request, a, protocol, '2026-12-07T01:00:00.000Z');
      seen.push(request);
    } catch (error) {
      expect(isPlatformError(error) && error.code.startsWith('RELEASE_')).toBe(true);
    }
  }
  return seen;
}

describe('release requests: the state machine of a controlled change', () => {
  it('explores every state with these generators (so the invariants below are tested where they matter)', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.array(action, { maxLength: 60, size: 'max' }), (n, sh, actions) => {
        for (const r of run(protocolWith(n, sh), actions)) reached.add(r.state);
      }),
      { numRuns: 400 },
    );
    expect([...reached].sort()).toEqual(['approved', 'canary', 'draft', 'production', 'rejected', 'retired', 'shadow', 'validated']);
  });

  test.prop([fc.boolean(), fc.boolean(), fc.boolean(), fc.constantFrom(...signers), fc.array(action, { maxLength: 60, size: 'max' })], { numRuns: 500 })(
    'no sequence of actions deploys a candidate (shadow, canary, production) without its gates passed and its distinct, non-requester signatures',
    (nonInferiority, shadow, twoQa, requestedBy, actions) => {
      const protocol = protocolWith(nonInferiority, shadow, twoQa);
      const seen = run(protocol, actions, requestedBy);
      for (const [i, r] of seen.entries()) {
        if (!['approved', 'shadow', 'canary', 'production', 'retired'].includes(r.state)) continue;
        for (const g of preDeploymentGates(protocol)) expect(gatePassed(r, g)).toBe(true);
        expect(missingApprovals(r, protocol)).toEqual([]);
        const signedBy = r.signatures.map((s) => s.signer.userId);
        expect(new Set(signedBy).size).toBe(signedBy.length);
        expect(signedBy).not.toContain(requestedBy.userId);
        if (shadow && ['canary', 'production'].includes(r.state)) expect(gatePassed(r, 'shadow_agreement')).toBe(true);
        // Retired from shadow (its candidate ended under it) needs no agreement; from canary or production it had one.
        if (shadow && r.state === 'retired' && seen[i - 1]?.state !== 'shadow' && seen[i - 1]?.state !== 'retired') {
          expect(gatePassed(r, 'shadow_agreement')).toBe(true);
        }
      }
    },
  );

  test.prop([fc.array(action, { maxLength: 60, size: 'max' })])('a rejected request stays rejected, with the evidence of the gate that failed', (actions) => {
    const seen = run(protocolWith(true, true), actions);
    const first = seen.findIndex((r) => r.state === 'rejected');
    if (first < 0) return;
    for (const r of seen.slice(first)) expect(r.state).toBe('rejected');
    expect(seen[first]!.gates.at(-1)).toMatchObject({ passed: false, evidenceSha256: 'e'.repeat(64) });
  });

  it('walks the whole way: gates, two signatures, shadow, canary, production, and refuses self-approval on the way', () => {
    const protocol = protocolWith(true, true);
    const at = '2026-12-07T02:00:00.000Z';
    let r = draft();
    const step = (a: ReleaseAction) => (r = applyReleaseAction(r, a, protocol, at));
    step({ kind: 'record_gate', gate: 'criteria', passed: true, evidenceSha256: 'e'.repeat(64), summary: 'ece 0.03' });
    expect(r.state).toBe('draft');
    step({ kind: 'record_gate', gate: 'non_inferiority', passed: true, evidenceSha256: 'e'.repeat(64), summary: 'ΔAUROC −0.002, lower bound −0.011 > −0.02' });
    expect(r.state).toBe('validated');
    const qa = people.find((p) => p.role === 'qa-regulatory')!;
    const clinician = people.find((p) => p.role === 'clinician-reviewer')!;
    expect(() => step({ kind: 'sign', signer: requester, meaning: 'reviewed', reauthenticated: true })).toThrow(
      expect.objectContaining({ code: 'RELEASE_SELF_APPROVAL' }),
    );
    expect(() => step({ kind: 'sign', signer: qa, meaning: 'approved for release', reauthenticated: false })).toThrow(
      expect.objectContaining({ code: 'RELEASE_SIGNATURE_INVALID' }),
    );
    step({ kind: 'sign', signer: qa, meaning: 'approved for release', reauthenticated: true });
    expect(() => step({ kind: 'promote' })).toThrow(expect.objectContaining({ code: 'RELEASE_TRANSITION_INVALID' }));
    step({ kind: 'sign', signer: clinician, meaning: 'reviewed', reauthenticated: true });
    expect(r.state).toBe('approved');
    expect(() => step({ kind: 'start_canary', fraction: 0.1 })).toThrow(expect.objectContaining({ code: 'RELEASE_TRANSITION_INVALID' }));
    step({ kind: 'start_shadow' });
    step({ kind: 'record_gate', gate: 'shadow_agreement', passed: true, evidenceSha256: 'f'.repeat(64), summary: '412 cases, agreement 0.981' });
    step({ kind: 'start_canary', fraction: 0.1 });
    expect([r.state, r.canaryFraction]).toEqual(['canary', 0.1]);
    step({ kind: 'promote' });
    expect([r.state, r.canaryFraction, r.signatures.map((s) => `${s.signer.userName}: ${s.meaning}`)]).toEqual([
      'production',
      null,
      ['qa-regulatory 1: approved for release', 'clinician-reviewer 1: reviewed'],
    ]);
  });

  it('refuses a signature without re-authentication alike in every state, so a wrong credential does not disclose the state', () => {
    const qa = people.find((p) => p.role === 'qa-regulatory')!;
    for (const state of ['draft', 'validated', 'approved', 'production', 'rejected'] as const) {
      expect(() =>
        applyReleaseAction(
          { ...draft(), state },
          { kind: 'sign', signer: qa, meaning: 'approved for release', reauthenticated: false },
          protocolWith(false, false),
          'now',
        ),
      ).toThrow(expect.objectContaining({ code: 'RELEASE_SIGNATURE_INVALID' }));
    }
  });

  it('bounds the canary fraction (at least 1 %, at most half), so a canary neither judges nothing nor is a promotion', () => {
    const approved: ReleaseRequest = { ...draft(), state: 'approved', gates: [], signatures: [] };
    const protocol = protocolWith(false, false);
    for (const fraction of [1e-300, 0, 0.009, 0.51, 0.99, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => applyReleaseAction(approved, { kind: 'start_canary', fraction }, protocol, 'now')).toThrow(
        expect.objectContaining({ code: 'RELEASE_TRANSITION_INVALID', message: "A canary fraction is between 0.01 and 0.5 of the site's studies" }),
      );
    }
    for (const fraction of [0.01, 0.1, 0.5])
      expect(applyReleaseAction(approved, { kind: 'start_canary', fraction }, protocol, 'now').canaryFraction).toBe(fraction);
  });

  it('says a protocol that asks no shadow is why a shadow cannot start (not the state)', () => {
    const approved: ReleaseRequest = { ...draft(), state: 'approved' };
    expect(() => applyReleaseAction(approved, { kind: 'start_shadow' }, protocolWith(false, false), 'now')).toThrow(
      expect.objectContaining({
        code: 'RELEASE_TRANSITION_INVALID',
        message: 'The recalibration protocol asks for no shadow: the request goes to canary or production once approved',
      }),
    );
    // With a shadow protocol, the state is the reason.
    expect(() => applyReleaseAction({ ...draft(), state: 'validated' }, { kind: 'start_shadow' }, protocolWith(false, true), 'now')).toThrow(
      'A request in state "validated" cannot start shadow',
    );
  });

  it('retires a request in shadow or canary whose candidate was ended (a rollback, another promotion): it can never proceed, and says so', () => {
    const protocol = protocolWith(false, true);
    for (const state of ['shadow', 'canary', 'production'] as const) {
      const retired = applyReleaseAction({ ...draft(), state, canaryFraction: state === 'canary' ? 0.1 : null }, { kind: 'retire' }, protocol, 'now');
      expect([retired.state, retired.canaryFraction]).toEqual(['retired', null]);
    }
    for (const state of ['draft', 'validated', 'approved', 'rejected', 'retired'] as const) {
      expect(() => applyReleaseAction({ ...draft(), state }, { kind: 'retire' }, protocol, 'now')).toThrow(
        expect.objectContaining({ code: 'RELEASE_TRANSITION_INVALID' }),
      );
    }
  });

  it('reinstates a retired request in production (a rollback restored its version) only if it was fit for production', () => {
    const qa = people.find((p) => p.role === 'qa-regulatory')!;
    const clinician = people.find((p) => p.role === 'clinician-reviewer')!;
    const protocol = protocolWith(false, true);
    const signed: ReleaseRequest = {
      ...draft(),
      state: 'retired',
      gates: [{ gate: 'criteria', passed: true, evidenceSha256: 'e'.repeat(64), summary: 'met', at: 'then' }],
      signatures: [
        { signer: qa, meaning: 'approved for release', at: 'then' },
        { signer: clinician, meaning: 'reviewed', at: 'then' },
      ],
    };
    // Retired from shadow, without agreement: not fit for production.
    expect(() => applyReleaseAction(signed, { kind: 'reinstate' }, protocol, 'now')).toThrow(expect.objectContaining({ code: 'RELEASE_TRANSITION_INVALID' }));
    const agreed = {
      ...signed,
      gates: [...signed.gates, { gate: 'shadow_agreement' as const, passed: true, evidenceSha256: 'f'.repeat(64), summary: 'agreed', at: 'then' }],
    };
    expect(applyReleaseAction(agreed, { kind: 'reinstate' }, protocol, 'now').state).toBe('production');
    expect(() => applyReleaseAction({ ...agreed, state: 'approved' }, { kind: 'reinstate' }, protocol, 'now')).toThrow(
      expect.objectContaining({ code: 'RELEASE_TRANSITION_INVALID' }),
    );
  });

  it('refuses a signer of the request as its deployer, whatever role they hold now (duties split by identity)', () => {
    const qa = people.find((p) => p.role === 'qa-regulatory')!;
    const signed: ReleaseRequest = { ...draft(), state: 'approved', signatures: [{ signer: qa, meaning: 'approved for release', at: 'now' }] };
    expect(deployerSignedProblem(signed, qa.userId)).toMatchObject({ code: 'RELEASE_SELF_APPROVAL' });
    expect(deployerSignedProblem(signed, requester.userId)).toBeUndefined();
  });

  it('refuses a protocol without an approval for release', () => {
    expect(() => releaseProtocolSchema.parse({ ...protocolWith(false, false), approvals: [{ role: 'clinician-reviewer', meaning: 'reviewed' }] })).toThrow(
      /approved for release/,
    );
  });
});
