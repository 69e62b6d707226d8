import type { ImageAttributes } from '../image/image-frame.js';
import type { IntendedUse, QualityThresholds, ReferenceStatistics } from '../model/model-manifest.js';
import type { ImageFeatures } from './image-features.js';
import { mahalanobisDistance } from './ood.js';

export type GateVerdictKind = 'pass' | 'warn' | 'reject';

export type GateReasonCode =
  | 'modality_not_intended'
  | 'modality_undeclared'
  | 'body_part_not_intended'
  | 'body_part_undeclared'
  | 'view_not_intended'
  | 'photometric_not_intended'
  | 'too_small'
  | 'bit_depth_too_low'
  | 'patient_age_not_intended'
  | 'patient_age_unknown'
  | 'constant_image'
  | 'saturated'
  | 'low_dynamic_range'
  | 'blurred'
  | 'out_of_distribution';

/** One machine-readable reason; `measured` and `threshold` say exactly what tripped. */
export interface GateReason {
  readonly code: GateReasonCode;
  readonly verdict: 'warn' | 'reject';
  readonly message: string;
  readonly measured?: number | string;
  readonly threshold?: number | string;
}

export interface GateVerdict {
  readonly verdict: GateVerdictKind;
  readonly reasons: readonly GateReason[];
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
   * declared for a PNG/JPEG; absent when unknown.
   */
  readonly patientAgeYears?: number;
}

/**
 * Decides whether the model should judge this image: intended use (from the manifest), basic image
 * quality and distance from the training distribution. Returns a verdict, never throws: a refusal
 * is an expected outcome. The verdict is the worst of the reasons.
 */
export function gateImage(input: GateInput, policy: GatePolicy): GateVerdict {
  const reasons = [...checkIntendedUse(input, policy.intendedUse)];
  const { features } = input;
  const { quality } = policy;

  if (features.std <= quality.constantStd) {
    reasons.push({
      code: 'constant_image',
      verdict: 'reject',
      message: 'The image is constant (or empty): there is nothing to judge',
      measured: features.std,
      threshold: quality.constantStd,
    });
    return finish(reasons, Number.NaN);
  }
  pushHigherIsWorse(reasons, 'saturated', 'Too many pixels are clipped at black or white', features.saturatedFraction, quality.saturatedFraction);
  pushLowerIsWorse(reasons, 'low_dynamic_range', 'The image uses too little of its grey range', features.dynamicRange, quality.dynamicRange);
  pushLowerIsWorse(reasons, 'blurred', 'The image is blurred (low variance of the Laplacian)', features.laplacianVariance, quality.laplacianVariance);

  const distance = mahalanobisDistance(features, policy.referenceStatistics);
  pushHigherIsWorse(reasons, 'out_of_distribution', 'The image is unlike the images the model was trained on', distance, policy.referenceStatistics.distance);
  return finish(reasons, distance);
}

/** The metadata part of the gate, usable before pixels are decoded. */
export function checkIntendedUse(input: Pick<GateInput, 'attributes' | 'rows' | 'columns' | 'patientAgeYears'>, use: IntendedUse): GateReason[] {
  const reasons: GateReason[] = [];
  const { attributes } = input;
  const listed = (values: readonly string[]): string => values.join('|');

  const undeclared = (code: GateReasonCode, what: string, expected: readonly string[]): void => {
    if (use.whenUndeclared === 'pass') return;
    reasons.push({ code, verdict: use.whenUndeclared, message: `The image does not declare its ${what}`, measured: 'absent', threshold: listed(expected) });
  };

  if (attributes.modality === undefined) undeclared('modality_undeclared', 'modality', use.modalities);
  else if (!use.modalities.includes(attributes.modality)) {
    reasons.push({
      code: 'modality_not_intended',
      verdict: 'reject',
      message: 'The model is not intended for this modality',
      measured: attributes.modality,
      threshold: listed(use.modalities),
    });
  }

  if (attributes.bodyPartExamined === undefined) undeclared('body_part_undeclared', 'body part', use.bodyParts);
  else if (!use.bodyParts.includes(attributes.bodyPartExamined)) {
    reasons.push({
      code: 'body_part_not_intended',
      verdict: 'reject',
      message: 'The model is not intended for this body part',
      measured: attributes.bodyPartExamined,
      threshold: listed(use.bodyParts),
    });
  }

  if (use.views.length > 0 && attributes.viewPosition !== undefined && attributes.viewPosition !== '' && !use.views.includes(attributes.viewPosition)) {
    reasons.push({
      code: 'view_not_intended',
      verdict: 'reject',
      message: 'The model is not intended for this view',
      measured: attributes.viewPosition,
      threshold: listed(use.views),
    });
  }

  const photometric = attributes.source === 'raster' && attributes.photometricInterpretation === 'RGB' ? 'RGB' : attributes.originalPhotometric;
  const acceptsColour = use.photometricInterpretations.some((p) => p !== 'MONOCHROME1' && p !== 'MONOCHROME2');
  if (!use.photometricInterpretations.includes(photometric) && !(attributes.source === 'raster' && acceptsColour)) {
    reasons.push({
      code: 'photometric_not_intended',
      verdict: 'reject',
      message: 'The model is not intended for this kind of image (colour or greyscale)',
      measured: photometric,
      threshold: listed(use.photometricInterpretations),
    });
  }

  if (input.rows < use.minRows || input.columns < use.minColumns) {
    reasons.push({
      code: 'too_small',
      verdict: 'reject',
      message: 'The image is smaller than the model needs',
      measured: `${input.columns}x${input.rows}`,
      threshold: `${use.minColumns}x${use.minRows}`,
    });
  }
  if (attributes.bitsStored < use.minBitsStored) {
    reasons.push({
      code: 'bit_depth_too_low',
      verdict: 'reject',
      message: 'The image has fewer bits per pixel than the model needs',
      measured: attributes.bitsStored,
      threshold: use.minBitsStored,
    });
  }
  reasons.push(...checkPatientAge(input.patientAgeYears, use));
  return reasons;
}

/**
 * Age is a matter of intended use, not of the image: outside the declared range is a refusal, and an
 * unknown age is one only when the manifest requires a known age (otherwise the gate cannot say more).
 */
function checkPatientAge(age: number | undefined, use: IntendedUse): GateReason[] {
  const range = use.patientAgeYears;
  if (range === undefined) return [];
  const threshold = `${range.min}-${range.max}`;
  if (age === undefined) {
    if (use.requireKnownAge !== true) return [];
    return [
      { code: 'patient_age_unknown', verdict: 'reject', message: "The patient's age is unknown and the model requires it", measured: 'absent', threshold },
    ];
  }
  if (age >= range.min && age <= range.max) return [];
  return [
    { code: 'patient_age_not_intended', verdict: 'reject', message: 'The model is not intended for patients of this age (years)', measured: age, threshold },
  ];
}

function pushHigherIsWorse(reasons: GateReason[], code: GateReasonCode, message: string, value: number, bound: { warn: number; reject: number }): void {
  if (!(value <= bound.reject)) reasons.push({ code, verdict: 'reject', message, measured: value, threshold: bound.reject });
  else if (value > bound.warn) reasons.push({ code, verdict: 'warn', message, measured: value, threshold: bound.warn });
}

function pushLowerIsWorse(reasons: GateReason[], code: GateReasonCode, message: string, value: number, bound: { warn: number; reject: number }): void {
  if (!(value >= bound.reject)) reasons.push({ code, verdict: 'reject', message, measured: value, threshold: bound.reject });
  else if (value < bound.warn) reasons.push({ code, verdict: 'warn', message, measured: value, threshold: bound.warn });
}

function finish(reasons: GateReason[], oodDistance: number): GateVerdict {
  const verdict: GateVerdictKind = reasons.some((r) => r.verdict === 'reject') ? 'reject' : reasons.length > 0 ? 'warn' : 'pass';
  return { verdict, reasons, oodDistance };
}
