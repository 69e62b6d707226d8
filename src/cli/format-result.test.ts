import { describe, expect, it } from 'vitest';
import type { PredictResult } from '../workflows/predict-images.js';
import { formatResult } from './format-result.js';

const decided = (probability: number): PredictResult => ({
  input: { file: 'chest.dcm', frame: null },
  studyKey: 'st-1',
  status: 'decided',
  quality: { verdict: 'pass', reasons: [], checks: [] },
  outputs: [{ finding: 'pneumonia', probability, decision: 'positive' }],
  model: { id: 'm', version: '1.0.0', sha256: 'a'.repeat(64) },
  auditId: 'a-1',
});

describe('formatResult', () => {
  it('prints a probability at the precision the calibration supports, never as certainty', () => {
    expect(formatResult(decided(0.99987), 0.095)).toBe('chest.dcm: pneumonia p > 0.95 → positive  [a-1]');
    expect(formatResult(decided(0.874), 0.015)).toBe('chest.dcm: pneumonia p ≈ 0.88 → positive  [a-1]');
    expect(formatResult(decided(0.874))).toBe('chest.dcm: pneumonia p ≈ 0.8 → positive  [a-1]');
  });
});
