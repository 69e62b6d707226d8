import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { buildFrame } from '../image/frame-builder.js';
import { gateImage, type GatePolicy } from './gate.js';
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

describe('gateImage', () => {
  it('passes an intended, good-quality, in-distribution image', () => {
    expect(gateImage({ ...frame, features: good }, policy)).toEqual({ verdict: 'pass', reasons: [], oodDistance: 0 });
  });

  it('rejects another modality and body part with the measured value and the allowed list', () => {
    const ct = buildFrame(new Uint16Array(32 * 32), 32, 32, { modality: 'CT', bodyPartExamined: 'HEAD' });
    const verdict = gateImage({ ...ct, features: good }, policy);
    expect(verdict.verdict).toBe('reject');
    expect(verdict.reasons.map((r) => [r.code, r.measured, r.threshold])).toEqual([
      ['modality_not_intended', 'CT', 'CR|DX'],
      ['body_part_not_intended', 'HEAD', 'CHEST'],
    ]);
  });

  it('warns (per manifest) when a raster image declares no modality or body part', () => {
    const png = buildFrame(new Uint8Array(32 * 32), 32, 32, { source: 'raster' });
    const { modality: _m, bodyPartExamined: _b, ...attributes } = png.attributes;
    const verdict = gateImage({ ...png, attributes, features: good }, policy);
    expect(verdict.verdict).toBe('warn');
    expect(verdict.reasons.map((r) => r.code)).toEqual(['modality_undeclared', 'body_part_undeclared']);
    expect(gateImage({ ...png, attributes, features: good }, { ...policy, intendedUse: { ...policy.intendedUse, whenUndeclared: 'pass' } }).verdict).toBe(
      'pass',
    );
  });

  it('rejects colour images, small images and shallow bit depths', () => {
    const rgb = buildFrame(new Uint8Array(8 * 8 * 3), 8, 8, { bitsStored: 4 }, 3);
    const codes = gateImage({ ...rgb, features: good }, policy).reasons.map((r) => r.code);
    expect(codes).toEqual(['photometric_not_intended', 'too_small', 'bit_depth_too_low']);
  });

  it('rejects a constant image without computing anything else', () => {
    const verdict = gateImage({ ...frame, features: { ...good, std: 0 } }, policy);
    expect(verdict.reasons.map((r) => r.code)).toEqual(['constant_image']);
    expect(verdict.verdict).toBe('reject');
  });

  it('grades quality against the manifest thresholds', () => {
    const blurred = gateImage({ ...frame, features: { ...good, laplacianVariance: 0.0005 } }, policy);
    expect(blurred.reasons).toEqual([expect.objectContaining({ code: 'blurred', verdict: 'warn', measured: 0.0005, threshold: 0.001 })]);
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
  const strict: GatePolicy = { ...paediatric, intendedUse: { ...paediatric.intendedUse, requireKnownAge: true } };
  const judge = (age: number | undefined, p: GatePolicy = paediatric) =>
    gateImage({ ...frame, features: good, ...(age === undefined ? {} : { patientAgeYears: age }) }, p);

  it('passes ages inside the range, both ends included', () => {
    for (const age of [1, 3, 5]) expect(judge(age)).toEqual({ verdict: 'pass', reasons: [], oodDistance: 0 });
  });

  it('rejects ages outside the range on either side, with the age measured and the range as threshold', () => {
    for (const age of [0, 6, 64, 90]) {
      const verdict = judge(age);
      expect(verdict.verdict).toBe('reject');
      expect(verdict.reasons).toEqual([expect.objectContaining({ code: 'patient_age_not_intended', verdict: 'reject', measured: age, threshold: '1-5' })]);
    }
  });

  it('says nothing about an unknown age unless the manifest requires a known age', () => {
    expect(judge(undefined).verdict).toBe('pass');
    const verdict = judge(undefined, strict);
    expect(verdict.verdict).toBe('reject');
    expect(verdict.reasons).toEqual([expect.objectContaining({ code: 'patient_age_unknown', verdict: 'reject', measured: 'absent', threshold: '1-5' })]);
    expect(judge(3, strict).verdict).toBe('pass');
    expect(judge(6, strict).reasons.map((r) => r.code)).toEqual(['patient_age_not_intended']);
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
