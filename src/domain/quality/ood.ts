import type { ReferenceStatistics } from '../model/model-manifest.js';
import type { ImageFeatures, ImageFeatureName } from './image-features.js';
import { IMAGE_FEATURE_NAMES } from './image-features.js';

/**
 * Mahalanobis distance sqrt((x - μ)ᵀ P (x - μ)) of the image's features from the training
 * reference, with P the manifest's (regularised) precision matrix. A feature name the reference
 * lists but this build does not compute makes the distance NaN, which the gate treats as a reject.
 */
export function mahalanobisDistance(features: ImageFeatures, reference: ReferenceStatistics): number {
  const k = reference.features.length;
  const d = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const name = reference.features[i] as string;
    if (!isFeatureName(name)) return Number.NaN;
    d[i] = features[name] - (reference.mean[i] as number);
  }
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const row = reference.precision[i] as number[];
    let dot = 0;
    for (let j = 0; j < k; j++) dot += (row[j] as number) * (d[j] as number);
    sum += (d[i] as number) * dot;
  }
  return Math.sqrt(Math.max(0, sum));
}

function isFeatureName(name: string): name is ImageFeatureName {
  return (IMAGE_FEATURE_NAMES as readonly string[]).includes(name);
}
