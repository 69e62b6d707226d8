import type { ImageAttributes, PatientAgeYears } from '../image/image-frame.js';
import { unknownValueVerdicts, type IntendedUse, type QualityThresholds, type ReferenceStatistics } from '../model/model-manifest.js';
import type { ImageFeatures } from './image-features.js';
import { mahalanobisDistance } from './ood.js';

export type GateVerdictKind = 'pass' | 'warn' | 'reject';

export type GateReasonCode =
  | 'modality_not_intended'
  | 'modality_undeclared'
  | 'body_part_not_intended'
  | 'body_part_undeclared'
  | 'view_not_intended'
  | 'view_undeclared'
  | 'photometric_not_intended'
  | 'too_small'
  | 'bit_depth_too_low'
  | 'patient_age_not_intended'
  | 'patient_age_unknown'
  | 'constant_image'
  | 'saturated'
  | 'low_dynamic_range'
  | 'blurred'
  | 'out_of_distribution'
  | 'quality_not_computable';

/** Every check the gate makes, intended use first, in the order it reports them. */
export const GATE_CHECKS = [
  'modality',
  'body_part',
  'view',
  'patient_age',
  'photometric',
  'size',
  'bit_depth',
  'constant_image',
  'saturation',
  'dynamic_range',
  'sharpness',
  'distribution',
] as const;

export type GateCheckName = (typeof GATE_CHECKS)[number];

/**
 * Why a check was not made: the input does not tell the value (`value_unknown`), the manifest does not
 * restrict it (`not_required`), or it cannot be computed on these pixels (`not_computable`).
 */
export type UncheckedWhy = 'value_unknown' | 'not_required' | 'not_computable';

/**
 * The outcome of one check: made and within the manifest's bounds (`passed`), made and outside
 * (`failed`, with a reason), or not made (`unchecked`, with `why`; a restriction left unchecked also
 * gives a reason, so it is never a pass).
 */
export interface GateCheck {
  readonly check: GateCheckName;
  readonly outcome: 'passed' | 'failed' | 'unchecked';
  readonly why?: UncheckedWhy;
  /** The value the check saw ('absent' when unknown). */
  readonly measured?: number | string;
  /** What the manifest allows. */
  readonly threshold?: number | string;
}

/** One machine-readable reason; `measured` and `threshold` say exactly what tripped. */
export interface GateReason {
  readonly code: GateReasonCode;
  readonly verdict: 'warn' | 'reject';
  readonly message: string;
  readonly measured?: number | string;
  readonly threshold?: number | string;
  /** The check that gave the reason. */
  readonly check: GateCheckName;
  /** `failed`: the value was checked and is outside; `unchecked`: the check could not be made (see `why`). */
  readonly outcome: 'failed' | 'unchecked';
  readonly why?: Exclude<UncheckedWhy, 'not_required'>;
}

export interface GateVerdict {
  /** `pass` only when every check the manifest restricts was made and passed. */
  readonly verdict: GateVerdictKind;
  readonly reasons: readonly GateReason[];
  /** Every check of GATE_CHECKS, once, in that order. */
  readonly checks: readonly GateCheck[];
  /** Mahalanobis distance of the analysis features from the training reference (NaN when not computed). */
  readonly oodDistance: number;
}

export interface GatePolicy {
  readonly intendedUse: IntendedUse;
  readonly quality: QualityThresholds;
  readonly referenceStatistics: ReferenceStatistics;
}

export interface GateInput {
  readonly attributes: ImageAttributes;
  readonly rows: number;
  readonly columns: number;
  readonly features: ImageFeatures;
  /**
   * The patient's age in whole years (≥ 90 as 90), derived at the door before de-identification, or
   * declared for a PNG/JPEG (a number, or a range known to hold it); absent when unknown.
   */
  readonly patientAgeYears?: PatientAgeYears;
}

/** What one check found: its outcome, and the reason it adds to the verdict, if any. */
interface Finding {
  readonly check: GateCheck;
  readonly reason?: GateReason;
}

/**
 * Decides whether the model should judge this image: intended use (from the manifest), basic image
 * quality and distance from the training distribution. Returns a verdict, never throws: a refusal
 * is an expected outcome. Every check reports whether it passed, failed or could not be made; the
 * verdict is the worst of the reasons, and a check the manifest restricts but the gate could not make
 * is a reason (at least `warn`), so `pass` means every restriction was checked and met.
 */
export function gateImage(input: GateInput, policy: GatePolicy): GateVerdict {
  const findings = [...checkIntendedUseFindings(input, policy.intendedUse), ...checkQuality(input.features, policy)];
  const distance = findings.find((f) => f.check.check === 'distribution')?.check.measured;
  return finish(findings, typeof distance === 'number' ? distance : Number.NaN);
}

/** The metadata part of the gate, usable before pixels are decoded: the reasons it gives. */
export function checkIntendedUse(input: Pick<GateInput, 'attributes' | 'rows' | 'columns' | 'patientAgeYears'>, use: IntendedUse): GateReason[] {
  return checkIntendedUseFindings(input, use).flatMap((f) => (f.reason === undefined ? [] : [f.reason]));
}

function checkIntendedUseFindings(input: Pick<GateInput, 'attributes' | 'rows' | 'columns' | 'patientAgeYears'>, use: IntendedUse): Finding[] {
  const { attributes } = input;
  const whenUnknown = unknownValueVerdicts(use);
  const photometric = attributes.source === 'raster' && attributes.photometricInterpretation === 'RGB' ? 'RGB' : attributes.originalPhotometric;
  const acceptsColour = use.photometricInterpretations.some((p) => p !== 'MONOCHROME1' && p !== 'MONOCHROME2');
  return [
    checkListed('modality', attributes.modality, use.modalities, whenUnknown.modality, {
      notIntended: ['modality_not_intended', 'The model is not intended for this modality'],
      unknown: ['modality_undeclared', 'The image does not declare its modality, so the gate could not check it'],
    }),
    checkListed('body_part', attributes.bodyPartExamined, use.bodyParts, whenUnknown.bodyPart, {
      notIntended: ['body_part_not_intended', 'The model is not intended for this body part'],
      unknown: ['body_part_undeclared', 'The image does not declare its body part, so the gate could not check it'],
    }),
    checkListed('view', attributes.viewPosition, use.views, whenUnknown.view, {
      notIntended: ['view_not_intended', 'The model is not intended for this view'],
      unknown: ['view_undeclared', 'The image does not declare its view (View Position), so the gate could not check it'],
    }),
    checkPatientAge(input.patientAgeYears, use, whenUnknown.patientAge),
    // Always known: readers report the photometric interpretation, size and bit depth of every image.
    checkBound(
      'photometric',
      use.photometricInterpretations.includes(photometric) || (attributes.source === 'raster' && acceptsColour),
      photometric,
      listed(use.photometricInterpretations),
      ['photometric_not_intended', 'The model is not intended for this kind of image (colour or greyscale)'],
    ),
    checkBound('size', input.rows >= use.minRows && input.columns >= use.minColumns, `${input.columns}x${input.rows}`, `${use.minColumns}x${use.minRows}`, [
      'too_small',
      'The image is smaller than the model needs',
    ]),
    checkBound('bit_depth', attributes.bitsStored >= use.minBitsStored, attributes.bitsStored, use.minBitsStored, [
      'bit_depth_too_low',
      'The image has fewer bits per pixel than the model needs',
    ]),
  ];
}

function listed(values: readonly string[]): string {
  return values.join('|');
}

/**
 * A check of a DICOM attribute against the manifest's list: an empty list restricts nothing (the check
 * is not required); an absent or empty value is unknown, which is a reason of the manifest's grade.
 */
function checkListed(
  check: 'modality' | 'body_part' | 'view',
  value: string | undefined,
  allowed: readonly string[],
  whenUnknown: 'warn' | 'reject',
  text: { notIntended: [GateReasonCode, string]; unknown: [GateReasonCode, string] },
): Finding {
  const known = value !== undefined && value.trim() !== '';
  if (allowed.length === 0) return { check: { check, outcome: 'unchecked', why: 'not_required', ...(known ? { measured: value } : {}) } };
  const threshold = listed(allowed);
  if (!known) {
    const [code, message] = text.unknown;
    return {
      check: { check, outcome: 'unchecked', why: 'value_unknown', measured: 'absent', threshold },
      reason: { code, verdict: whenUnknown, message, measured: 'absent', threshold, check, outcome: 'unchecked', why: 'value_unknown' },
    };
  }
  if (allowed.includes(value)) return { check: { check, outcome: 'passed', measured: value, threshold } };
  const [code, message] = text.notIntended;
  return {
    check: { check, outcome: 'failed', measured: value, threshold },
    reason: { code, verdict: 'reject', message, measured: value, threshold, check, outcome: 'failed' },
  };
}

/** A check whose value every input has: passed, or failed with a rejection. */
function checkBound(
  check: 'photometric' | 'size' | 'bit_depth',
  ok: boolean,
  measured: number | string,
  threshold: number | string,
  [code, message]: [GateReasonCode, string],
): Finding {
  if (ok) return { check: { check, outcome: 'passed', measured, threshold } };
  return {
    check: { check, outcome: 'failed', measured, threshold },
    reason: { code, verdict: 'reject', message, measured, threshold, check, outcome: 'failed' },
  };
}

/**
 * Age is a matter of intended use, not of the image: known and outside the declared range is a
 * refusal; unknown (or known only as a range that reaches outside) is a reason of the manifest's
 * grade (`whenUnknown.patientAge`), since the gate cannot tell whether the model is for this patient.
 */
function checkPatientAge(age: PatientAgeYears | undefined, use: IntendedUse, whenUnknown: 'warn' | 'reject'): Finding {
  const check = 'patient_age';
  const range = use.patientAgeYears;
  const known = age === undefined ? undefined : typeof age === 'number' ? { min: age, max: age } : age;
  const measured = known === undefined ? 'absent' : known.min === known.max ? known.min : `${known.min}-${known.max}`;
  if (range === undefined) return { check: { check, outcome: 'unchecked', why: 'not_required', ...(known === undefined ? {} : { measured }) } };
  const threshold = `${range.min}-${range.max}`;
  if (known !== undefined && known.min >= range.min && known.max <= range.max) return { check: { check, outcome: 'passed', measured, threshold } };
  if (known !== undefined && (known.max < range.min || known.min > range.max)) {
    return {
      check: { check, outcome: 'failed', measured, threshold },
      reason: {
        code: 'patient_age_not_intended',
        verdict: 'reject',
        message: 'The model is not intended for patients of this age (years)',
        measured,
        threshold,
        check,
        outcome: 'failed',
      },
    };
  }
  const message =
    known === undefined
      ? "The patient's age is unknown, so the gate could not check it against the model's age range"
      : "The patient's age is known only as a range that reaches outside the model's age range";
  return {
    check: { check, outcome: 'unchecked', why: 'value_unknown', measured, threshold },
    reason: { code: 'patient_age_unknown', verdict: whenUnknown, message, measured, threshold, check, outcome: 'unchecked', why: 'value_unknown' },
  };
}

/**
 * Image quality and distribution, on the analysis image's features. A constant image is rejected and
 * the rest is not computable on it; a feature that is not a finite number (an analysis image too small
 * for a Laplacian, a reference feature this build does not compute) makes its check not computable,
 * which is a rejection: the gate cannot vouch for pixels it could not measure.
 */
function checkQuality(features: ImageFeatures, policy: GatePolicy): Finding[] {
  const { quality } = policy;
  const constant = notComputable('constant_image', features.std);
  if (constant !== undefined) return [constant, ...afterConstant()];
  if (features.std <= quality.constantStd) {
    return [
      {
        check: { check: 'constant_image', outcome: 'failed', measured: features.std, threshold: quality.constantStd },
        reason: {
          code: 'constant_image',
          verdict: 'reject',
          message: 'The image is constant (or empty): there is nothing to judge',
          measured: features.std,
          threshold: quality.constantStd,
          check: 'constant_image',
          outcome: 'failed',
        },
      },
      ...afterConstant(),
    ];
  }
  return [
    { check: { check: 'constant_image', outcome: 'passed', measured: features.std, threshold: quality.constantStd } },
    checkGraded('saturation', 'higher', 'saturated', 'Too many pixels are clipped at black or white', features.saturatedFraction, quality.saturatedFraction),
    checkGraded('dynamic_range', 'lower', 'low_dynamic_range', 'The image uses too little of its grey range', features.dynamicRange, quality.dynamicRange),
    checkGraded('sharpness', 'lower', 'blurred', 'The image is blurred (low variance of the Laplacian)', features.laplacianVariance, quality.laplacianVariance),
    checkGraded(
      'distribution',
      'higher',
      'out_of_distribution',
      'The image is unlike the images the model was trained on',
      mahalanobisDistance(features, policy.referenceStatistics),
      policy.referenceStatistics.distance,
    ),
  ];
}

/**
 * The quality checks after the constant-image check, when it stopped them: not computable on such an
 * image, with no reason of their own (the verdict is a rejection already).
 */
function afterConstant(): Finding[] {
  return (['saturation', 'dynamic_range', 'sharpness', 'distribution'] as const).map((check) => ({
    check: { check, outcome: 'unchecked', why: 'not_computable' },
  }));
}

function notComputable(check: GateCheckName, value: number): Finding | undefined {
  if (Number.isFinite(value)) return undefined;
  return {
    check: { check, outcome: 'unchecked', why: 'not_computable', measured: 'not computable' },
    reason: {
      code: 'quality_not_computable',
      verdict: 'reject',
      message: 'An image measure the gate needs could not be computed',
      measured: 'not computable',
      threshold: check,
      check,
      outcome: 'unchecked',
      why: 'not_computable',
    },
  };
}

function checkGraded(
  check: 'saturation' | 'dynamic_range' | 'sharpness' | 'distribution',
  worse: 'higher' | 'lower',
  code: GateReasonCode,
  message: string,
  value: number,
  bound: { warn: number; reject: number },
): Finding {
  const missing = notComputable(check, value);
  if (missing !== undefined) return missing;
  const beyond = (limit: number) => (worse === 'higher' ? value > limit : value < limit);
  const verdict = beyond(bound.reject) ? 'reject' : beyond(bound.warn) ? 'warn' : undefined;
  if (verdict === undefined) return { check: { check, outcome: 'passed', measured: value, threshold: bound.warn } };
  const threshold = verdict === 'reject' ? bound.reject : bound.warn;
  return {
    check: { check, outcome: 'failed', measured: value, threshold },
    reason: { code, verdict, message, measured: value, threshold, check, outcome: 'failed' },
  };
}

function finish(findings: readonly Finding[], oodDistance: number): GateVerdict {
  const reasons = findings.flatMap((f) => (f.reason === undefined ? [] : [f.reason]));
  const verdict: GateVerdictKind = reasons.some((r) => r.verdict === 'reject') ? 'reject' : reasons.length > 0 ? 'warn' : 'pass';
  return { verdict, reasons, checks: findings.map((f) => f.check), oodDistance };
}

/** The checks that could not be made, with why (for the audit entry and summaries). */
export function uncheckedChecks(checks: readonly GateCheck[]): { readonly check: GateCheckName; readonly why: UncheckedWhy }[] {
  return checks.flatMap((c) => (c.outcome === 'unchecked' && c.why !== undefined ? [{ check: c.check, why: c.why }] : []));
}

/**
 * True when a check the manifest restricts could not be made (a value unknown, a measure not
 * computable) and that counts in the verdict; quality measures skipped after a constant image do not.
 */
export function hasUncheckedRestriction(reasons: readonly Pick<GateReason, 'outcome'>[]): boolean {
  return reasons.some((r) => r.outcome === 'unchecked');
}
