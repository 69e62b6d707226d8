import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '../image/frame-builder.js';
import { GATE_CHECKS, gateImage, type GateCheck, type GatePolicy, type GateVerdict } from './gate.js';
import { computeImageFeatures, IMAGE_FEATURE_NAMES, type ImageFeatures } from './image-features.js';

const oodFeatures = ['mean', 'std', 'p50'];
const policy: GatePolicy = {
  intendedUse: {
    summary: 'test',
    modalities: ['CR', 'DX'],
    bodyParts: ['CHEST'],
    views: ['PA', 'AP'],
    population: 'synthetic',
    notFor: [],
    photometricInterpretations: ['MONOCHROME1', 'MONOCHROME2'],
    minRows: 16,
    minColumns: 16,
    minBitsStored: 8,
    whenUndeclared: 'warn',
  },
  quality: {
    saturatedFraction: { warn: 0.2, reject: 0.6, source: 'test' },
    dynamicRange: { warn: 0.3, reject: 0.05, source: 'test' },
    laplacianVariance: { warn: 0.001, reject: 0.0001, source: 'test' },
    constantStd: 1 / 255,
  },
  referenceStatistics: {
    features: oodFeatures,
    mean: [0.5, 0.25, 0.5],
    precision: [
      [100, 0, 0],
      [0, 100, 0],
      [0, 0, 100],
    ],
    distance: { warn: 3, reject: 6, source: 'test' },
    n: 10,
  },
};

const typical: ImageFeatures = Object.fromEntries(IMAGE_FEATURE_NAMES.map((n) => [n, 0])) as Record<(typeof IMAGE_FEATURE_NAMES)[number], number>;
const good: ImageFeatures = {
  ...typical,
  mean: 0.5,
  std: 0.25,
  p50: 0.5,
  p01: 0.02,
  p99: 0.98,
  dynamicRange: 0.96,
  laplacianVariance: 0.01,
  saturatedFraction: 0.01,
};
const frame = buildFrame(new Uint16Array(32 * 32), 32, 32, { viewPosition: 'PA' });

const outcomes = (verdict: GateVerdict): Record<string, string> =>
  Object.fromEntries(verdict.checks.map((c) => [c.check, c.outcome === 'unchecked' ? `unchecked:${c.why ?? ''}` : c.outcome]));

describe('gateImage', () => {
  it('passes an intended, good-quality, in-distribution image, every check made and passed', () => {
    const verdict = gateImage(
      { ...frame, features: good, patientAgeYears: 3 },
      { ...policy, intendedUse: { ...policy.intendedUse, patientAgeYears: { min: 1, max: 5 } } },
    );
    expect(verdict).toMatchObject({ verdict: 'pass', reasons: [], oodDistance: 0 });
    expect(verdict.checks.map((c) => c.check)).toEqual([...GATE_CHECKS]);
    expect(verdict.checks.every((c) => c.outcome === 'passed')).toBe(true);
    expect(verdict.checks[0]).toEqual({ check: 'modality', outcome: 'passed', measured: 'CR', threshold: 'CR|DX' });
  });

  it('rejects another modality and body part with the measured value and the allowed list', () => {
    const ct = buildFrame(new Uint16Array(32 * 32), 32, 32, { modality: 'CT', bodyPartExamined: 'HEAD', viewPosition: 'AP' });
    const verdict = gateImage({ ...ct, features: good }, policy);
    expect(verdict.verdict).toBe('reject');
    expect(verdict.reasons.map((r) => [r.code, r.measured, r.threshold])).toEqual([
      ['modality_not_intended', 'CT', 'CR|DX'],
      ['body_part_not_intended', 'HEAD', 'CHEST'],
    ]);
  });

  it('warns (per manifest) when a raster image declares no modality, body part or view, each reported as not checked', () => {
    const png = buildFrame(new Uint8Array(32 * 32), 32, 32, { source: 'raster' });
    const { modality: _m, bodyPartExamined: _b, ...attributes } = png.attributes;
    const verdict = gateImage({ ...png, attributes, features: good }, policy);
    expect(verdict.verdict).toBe('warn');
    expect(verdict.reasons.map((r) => [r.code, r.verdict, r.check, r.outcome, r.why])).toEqual([
      ['modality_undeclared', 'warn', 'modality', 'unchecked', 'value_unknown'],
      ['body_part_undeclared', 'warn', 'body_part', 'unchecked', 'value_unknown'],
      ['view_undeclared', 'warn', 'view', 'unchecked', 'value_unknown'],
    ]);
    expect(outcomes(verdict)).toMatchObject({ modality: 'unchecked:value_unknown', body_part: 'unchecked:value_unknown', view: 'unchecked:value_unknown' });
    // `pass` for an unknown value is read as `warn`: an unchecked restriction is never a pass.
    const legacy = gateImage({ ...png, attributes, features: good }, { ...policy, intendedUse: { ...policy.intendedUse, whenUndeclared: 'pass' } });
    expect(legacy.verdict).toBe('warn');
    const strict = gateImage({ ...png, attributes, features: good }, { ...policy, intendedUse: { ...policy.intendedUse, whenUndeclared: 'reject' } });
    expect(strict.reasons.map((r) => r.verdict)).toEqual(['reject', 'reject', 'reject']);
  });

  it('treats an empty View Position as unknown, not as any view', () => {
    const blank = buildFrame(new Uint16Array(32 * 32), 32, 32, { viewPosition: '' });
    const verdict = gateImage({ ...blank, features: good }, policy);
    expect(verdict.verdict).toBe('warn');
    expect(verdict.reasons).toEqual([
      expect.objectContaining({ code: 'view_undeclared', check: 'view', outcome: 'unchecked', measured: 'absent', threshold: 'PA|AP' }),
    ]);
    const reject = gateImage({ ...blank, features: good }, { ...policy, intendedUse: { ...policy.intendedUse, whenUnknown: { view: 'reject' } } });
    expect(reject.verdict).toBe('reject');
  });

  it('reports a check the manifest does not restrict as not required, and an unknown value there is fine', () => {
    const open: GatePolicy = { ...policy, intendedUse: { ...policy.intendedUse, views: [] } };
    const noView = buildFrame(new Uint16Array(32 * 32), 32, 32);
    const verdict = gateImage({ ...noView, features: good }, open);
    expect(verdict).toMatchObject({ verdict: 'pass', reasons: [] });
    expect(verdict.checks.filter((c) => c.outcome !== 'passed')).toEqual([
      { check: 'view', outcome: 'unchecked', why: 'not_required' },
      { check: 'patient_age', outcome: 'unchecked', why: 'not_required' },
    ]);
    const lateral = gateImage({ ...buildFrame(new Uint16Array(32 * 32), 32, 32, { viewPosition: 'LL' }), features: good, patientAgeYears: 64 }, open);
    expect(lateral.checks.filter((c) => c.outcome !== 'passed')).toEqual([
      { check: 'view', outcome: 'unchecked', why: 'not_required', measured: 'LL' },
      { check: 'patient_age', outcome: 'unchecked', why: 'not_required', measured: 64 },
    ]);
  });

  it('rejects colour images, small images and shallow bit depths', () => {
    const rgb = buildFrame(new Uint8Array(8 * 8 * 3), 8, 8, { bitsStored: 4, viewPosition: 'PA' }, 3);
    const codes = gateImage({ ...rgb, features: good }, policy).reasons.map((r) => r.code);
    expect(codes).toEqual(['photometric_not_intended', 'too_small', 'bit_depth_too_low']);
  });

  it('rejects a constant image without computing anything else, and says the rest could not be computed', () => {
    const verdict = gateImage({ ...frame, features: { ...good, std: 0 } }, policy);
    expect(verdict.reasons.map((r) => r.code)).toEqual(['constant_image']);
    expect(verdict.verdict).toBe('reject');
    expect(Number.isNaN(verdict.oodDistance)).toBe(true);
    expect(outcomes(verdict)).toMatchObject({
      constant_image: 'failed',
      saturation: 'unchecked:not_computable',
      dynamic_range: 'unchecked:not_computable',
      sharpness: 'unchecked:not_computable',
      distribution: 'unchecked:not_computable',
    });
  });

  it('rejects an image whose quality measure cannot be computed (not a number), as not checked rather than as measured', () => {
    const verdict = gateImage({ ...frame, features: { ...good, laplacianVariance: Number.NaN } }, policy);
    expect(verdict.verdict).toBe('reject');
    expect(verdict.reasons).toEqual([
      expect.objectContaining({ code: 'quality_not_computable', verdict: 'reject', check: 'sharpness', outcome: 'unchecked', why: 'not_computable' }),
    ]);
    const unknownFeature = gateImage(
      { ...frame, features: good },
      { ...policy, referenceStatistics: { ...policy.referenceStatistics, features: ['mean', 'std', 'p42'] } },
    );
    expect(unknownFeature.reasons.map((r) => [r.code, r.check])).toEqual([['quality_not_computable', 'distribution']]);
  });

  it('grades quality against the manifest thresholds', () => {
    const blurred = gateImage({ ...frame, features: { ...good, laplacianVariance: 0.0005 } }, policy);
    expect(blurred.reasons).toEqual([
      expect.objectContaining({ code: 'blurred', verdict: 'warn', measured: 0.0005, threshold: 0.001, check: 'sharpness', outcome: 'failed' }),
    ]);
    const saturated = gateImage({ ...frame, features: { ...good, saturatedFraction: 0.7 } }, policy);
    expect(saturated.reasons).toEqual([expect.objectContaining({ code: 'saturated', verdict: 'reject', threshold: 0.6 })]);
  });

  it('scores out-of-distribution images by Mahalanobis distance', () => {
    const far = gateImage({ ...frame, features: { ...good, mean: 0.9 } }, policy); // distance = 0.4 * 10 = 4
    expect(far.oodDistance).toBeCloseTo(4, 9);
    expect(far.reasons).toEqual([expect.objectContaining({ code: 'out_of_distribution', verdict: 'warn' })]);
  });

  test.prop([
    fc.record({
      mean: fc.double({ min: 0, max: 1, noNaN: true }),
      std: fc.double({ min: 0, max: 0.5, noNaN: true }),
      sat: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  ])('the verdict is the worst of its reasons', ({ mean, std, sat }) => {
    const verdict = gateImage({ ...frame, features: { ...good, mean, std, saturatedFraction: sat } }, policy);
    const worst = verdict.reasons.some((r) => r.verdict === 'reject') ? 'reject' : verdict.reasons.length > 0 ? 'warn' : 'pass';
    expect(verdict.verdict).toBe(worst);
  });

  it('measures features the same way on a real array', () => {
    const pixels = Float32Array.from({ length: 64 }, (_, i) => (i % 8) / 7);
    const features = computeImageFeatures(pixels, 8, 8);
    expect(features.mean).toBeCloseTo(0.5, 6);
    expect(features.saturatedFraction).toBeCloseTo(0.25, 9);
    expect(features.laplacianVariance).toBeCloseTo(0, 12); // a linear ramp has zero Laplacian
  });
});

describe('gateImage: the patient age range of the intended use', () => {
  const paediatric: GatePolicy = { ...policy, intendedUse: { ...policy.intendedUse, patientAgeYears: { min: 1, max: 5 } } };
  const strict: GatePolicy = { ...paediatric, intendedUse: { ...paediatric.intendedUse, whenUnknown: { patientAge: 'reject' } } };
  const judge = (age: number | { min: number; max: number } | undefined, p: GatePolicy = paediatric) =>
    gateImage({ ...frame, features: good, ...(age === undefined ? {} : { patientAgeYears: age }) }, p);

  it('passes ages inside the range, both ends included', () => {
    for (const age of [1, 3, 5]) expect(judge(age)).toMatchObject({ verdict: 'pass', reasons: [], oodDistance: 0 });
    expect(judge(3).checks.find((c) => c.check === 'patient_age')).toEqual({ check: 'patient_age', outcome: 'passed', measured: 3, threshold: '1-5' });
  });

  it('rejects ages outside the range on either side, with the age measured and the range as threshold', () => {
    for (const age of [0, 6, 64, 90]) {
      const verdict = judge(age);
      expect(verdict.verdict).toBe('reject');
      expect(verdict.reasons).toEqual([
        expect.objectContaining({
          code: 'patient_age_not_intended',
          verdict: 'reject',
          measured: age,
          threshold: '1-5',
          check: 'patient_age',
          outcome: 'failed',
        }),
      ]);
    }
  });

  it('never passes an unknown age: a warning by default, a rejection when the manifest says so', () => {
    const warned = judge(undefined);
    expect(warned.verdict).toBe('warn');
    expect(warned.reasons).toEqual([
      expect.objectContaining({
        code: 'patient_age_unknown',
        verdict: 'warn',
        measured: 'absent',
        threshold: '1-5',
        outcome: 'unchecked',
        why: 'value_unknown',
      }),
    ]);
    const verdict = judge(undefined, strict);
    expect(verdict.verdict).toBe('reject');
    expect(verdict.reasons).toEqual([expect.objectContaining({ code: 'patient_age_unknown', verdict: 'reject', measured: 'absent', threshold: '1-5' })]);
    expect(judge(3, strict).verdict).toBe('pass');
    expect(judge(6, strict).reasons.map((r) => r.code)).toEqual(['patient_age_not_intended']);
    // The older spelling, requireKnownAge: true, still means a rejection.
    expect(judge(undefined, { ...paediatric, intendedUse: { ...paediatric.intendedUse, requireKnownAge: true } }).verdict).toBe('reject');
  });

  it('judges an age known only as a range: inside passes, outside is refused, reaching across is not checked', () => {
    expect(judge({ min: 1, max: 5 }).verdict).toBe('pass');
    expect(judge({ min: 18, max: 90 }).reasons.map((r) => [r.code, r.measured])).toEqual([['patient_age_not_intended', '18-90']]);
    const across = judge({ min: 0, max: 10 }, strict);
    expect(across.verdict).toBe('reject');
    expect(across.reasons).toEqual([expect.objectContaining({ code: 'patient_age_unknown', measured: '0-10', outcome: 'unchecked', why: 'value_unknown' })]);
  });

  it('ignores the age when the manifest declares no range (requireKnownAge alone changes nothing)', () => {
    expect(judge(64, policy).verdict).toBe('pass');
    expect(judge(undefined, { ...policy, intendedUse: { ...policy.intendedUse, requireKnownAge: true } }).verdict).toBe('pass');
  });

  it('rejects a constant image of a patient outside the range for both reasons', () => {
    const verdict = gateImage({ ...frame, features: { ...good, std: 0 }, patientAgeYears: 64 }, paediatric);
    expect(verdict.reasons.map((r) => r.code)).toEqual(['patient_age_not_intended', 'constant_image']);
  });

  test.prop([fc.integer({ min: 0, max: 130 }), fc.integer({ min: 0, max: 130 }), fc.integer({ min: 0, max: 90 })])(
    'rejects exactly the ages outside [min, max]',
    (a, b, age) => {
      const range = { min: Math.min(a, b), max: Math.max(a, b) };
      const verdict = judge(age, { ...policy, intendedUse: { ...policy.intendedUse, patientAgeYears: range } });
      expect(verdict.verdict === 'reject').toBe(age < range.min || age > range.max);
    },
  );
});

describe('gateImage: pass means every restriction was checked and met', () => {
  const grade = fc.constantFrom<'warn' | 'reject' | undefined>('warn', 'reject', undefined);
  const attribute = (values: readonly string[]) => fc.option(fc.constantFrom(...values, ''), { nil: undefined });
  test.prop([
    fc.record({
      modality: attribute(['CR', 'DX', 'CT']),
      bodyPart: attribute(['CHEST', 'HEAD']),
      view: attribute(['PA', 'AP', 'LL']),
      age: fc.option(fc.oneof(fc.integer({ min: 0, max: 90 }), fc.record({ min: fc.integer({ min: 0, max: 10 }), max: fc.integer({ min: 10, max: 90 }) })), {
        nil: undefined,
      }),
      restrictViews: fc.boolean(),
      ageRange: fc.option(fc.record({ min: fc.integer({ min: 0, max: 5 }), max: fc.integer({ min: 5, max: 20 }) }), { nil: undefined }),
      whenUndeclared: fc.constantFrom<'pass' | 'warn' | 'reject' | undefined>('pass', 'warn', 'reject', undefined),
      whenUnknown: fc.record({ modality: grade, bodyPart: grade, view: grade, patientAge: grade }),
      requireKnownAge: fc.option(fc.boolean(), { nil: undefined }),
      std: fc.constantFrom(0, 0.25, Number.NaN),
    }),
  ])('for any known and unknown attributes and any manifest, pass only when every restricting check was made and passed', (c) => {
    const whenUnknown = Object.fromEntries(Object.entries(c.whenUnknown).filter(([, v]) => v !== undefined));
    const use = {
      ...policy.intendedUse,
      views: c.restrictViews ? ['PA', 'AP'] : [],
      whenUnknown,
      ...(c.whenUndeclared === undefined ? {} : { whenUndeclared: c.whenUndeclared }),
      ...(c.requireKnownAge === undefined ? {} : { requireKnownAge: c.requireKnownAge }),
      ...(c.ageRange === undefined ? {} : { patientAgeYears: c.ageRange }),
    };
    const { modality: _m, bodyPartExamined: _b, viewPosition: _v, ...rest } = frame.attributes;
    const attributes = {
      ...rest,
      ...(c.modality === undefined ? {} : { modality: c.modality }),
      ...(c.bodyPart === undefined ? {} : { bodyPartExamined: c.bodyPart }),
      ...(c.view === undefined ? {} : { viewPosition: c.view }),
    };
    const verdict = gateImage(
      { ...frame, attributes, features: { ...good, std: c.std }, ...(c.age === undefined ? {} : { patientAgeYears: c.age }) },
      { ...policy, intendedUse: use },
    );
    expect(verdict.checks.map((ch) => ch.check)).toEqual([...GATE_CHECKS]);
    const restricting = (ch: GateCheck) => !(ch.outcome === 'unchecked' && ch.why === 'not_required');
    const allMadeAndPassed = verdict.checks.filter(restricting).every((ch) => ch.outcome === 'passed');
    expect(verdict.verdict === 'pass').toBe(allMadeAndPassed);
    // Exactly the checks a manifest does not restrict are "not required": the view without a view list, the age without a range.
    expect(verdict.checks.filter((ch) => !restricting(ch)).map((ch) => ch.check)).toEqual([
      ...(c.restrictViews ? [] : ['view']),
      ...(c.ageRange === undefined ? ['patient_age'] : []),
    ]);
    // Every restricted value left unknown is a reason of its own, at least a warning.
    for (const ch of verdict.checks.filter((x) => x.outcome === 'unchecked' && x.why === 'value_unknown')) {
      expect(verdict.reasons.some((r) => r.check === ch.check && r.outcome === 'unchecked')).toBe(true);
    }
    if (c.whenUnknown.patientAge === 'reject' && c.ageRange !== undefined && c.age === undefined) expect(verdict.verdict).toBe('reject');
  });
});
