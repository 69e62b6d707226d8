import { readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { calibrateScore } from '../calibration/calibrate.js';
import { decideFinding } from '../decision/decide.js';
import { buildFrame } from '../image/frame-builder.js';
import { parseModelManifest } from '../model/model-bundle.js';
import type { ModelManifest } from '../model/model-manifest.js';
import { applyDeclaration, prepareImage, scoreImage, stackTensors } from './inference-steps.js';

// The demo bundle's manifest, read as the loader reads it (a file of the repository, not I/O of the domain).
const demo = parseModelManifest(JSON.parse(readFileSync(new URL('../../../models/pneumonia-demo/vigil-model.json', import.meta.url), 'utf8')));

/** The demo's manifest with two outputs of two findings each, to check strides and order. */
function twoOutputs(): ModelManifest {
  const policy = Object.values(demo.decisionPolicy)[0]!;
  const spec = demo.outputs[0]!;
  return {
    ...demo,
    outputs: [
      {
        ...spec,
        name: 'a',
        findings: [
          { label: 'f0', index: 0 },
          { label: 'f1', index: 1 },
        ],
      },
      { ...spec, name: 'b', activation: 'probability', findings: [{ label: 'g0', index: 1 }] },
    ],
    decisionPolicy: { f0: policy, f1: policy, g0: policy },
  };
}

const smooth = (seed: number) =>
  buildFrame(
    Uint8Array.from({ length: 28 * 28 }, (_, i) => Math.round(110 + 60 * Math.sin((i % 28) / 5 + seed) * Math.cos(Math.floor(i / 28) / 6) + ((i * 7) % 11))),
    28,
    28,
    { source: 'raster', bitsAllocated: 8, bitsStored: 8 },
  );

describe('the inference chain’s pure steps', () => {
  test.prop([fc.array(fc.array(fc.float({ noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 6 })])(
    'stackTensors lays each image’s tensor at its place in the batch',
    (images) => {
      const tensors = images.map((v) => Float32Array.from(v));
      const stacked = stackTensors(tensors);
      expect(stacked.length).toBe(3 * tensors.length);
      tensors.forEach((t, i) => expect(Array.from(stacked.subarray(3 * i, 3 * i + 3))).toEqual(Array.from(t)));
    },
  );

  test.prop([fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 6, maxLength: 6 }), fc.integer({ min: 0, max: 2 })])(
    'scoreImage reads each finding at its stride and index, calibrates it and decides it as the policy says',
    (values, b) => {
      const manifest = twoOutputs();
      // Three images; output a has two values per image, output b two (only index 1 is a finding).
      const outputs = { a: { data: Float32Array.from(values) }, b: { data: Float32Array.from(values.map((v) => 1 / (1 + Math.exp(-v)))) } };
      const gate = prepareImage(smooth(1), manifest, 3).gate;
      const scored = scoreImage(manifest, outputs, 3, b, gate);
      expect(scored.map((s) => s.finding)).toEqual(['f0', 'f1', 'g0']);
      const expectedRaw = [outputs.a.data[2 * b]!, outputs.a.data[2 * b + 1]!, outputs.b.data[2 * b + 1]!];
      scored.forEach((s, i) => {
        expect(s.raw).toBe(expectedRaw[i]);
        const spec = manifest.outputs.find((o) => o.name === s.output)!;
        expect(s.probability).toBe(calibrateScore(s.raw, spec.activation, manifest.calibration));
        expect(s.decision).toBe(decideFinding(s.probability, manifest.decisionPolicy[s.finding]!, gate.verdict === 'warn' ? 'warn' : 'pass').decision);
      });
    },
  );

  it('refuses an output the manifest declares but the model did not give, or one too short for its findings', () => {
    const manifest = twoOutputs();
    const gate = prepareImage(smooth(1), manifest, 3).gate;
    expect(() => scoreImage(manifest, { a: { data: new Float32Array(4) } }, 2, 0, gate)).toThrowError(
      expect.objectContaining({ code: 'MODEL_OUTPUT_INVALID' }),
    );
    expect(() => scoreImage(manifest, { a: { data: new Float32Array(2) }, b: { data: new Float32Array(2) } }, 2, 0, gate)).toThrowError(
      expect.objectContaining({ code: 'MODEL_OUTPUT_INVALID' }),
    );
  });

  it('applies a declaration to a PNG/JPEG frame only: a DICOM frame keeps its own attributes', () => {
    const declared = { modality: 'cr', bodyPartExamined: 'chest', viewPosition: 'pa' };
    expect(applyDeclaration(smooth(1), declared).attributes).toMatchObject({ modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA' });
    const dicom = buildFrame(new Uint8Array(28 * 28), 28, 28, { source: 'dicom', bitsAllocated: 8, bitsStored: 8, modality: 'MR' });
    expect(applyDeclaration(dicom, declared)).toBe(dicom);
  });

  it('gates on what was declared: the same film is refused as MR and judged as a child’s chest PA', () => {
    const asDeclared = (d: Parameters<typeof applyDeclaration>[1]) => prepareImage(applyDeclaration(smooth(2), d), demo, 3).gate;
    expect(asDeclared({ modality: 'MR', bodyPartExamined: 'CHEST', viewPosition: 'PA' }).verdict).toBe('reject');
    expect(asDeclared({ modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA' }).verdict).not.toBe('reject');
  });
});
