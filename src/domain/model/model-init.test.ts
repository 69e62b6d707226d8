import { describe, expect, it } from 'vitest';
import { PlatformError } from '../errors.js';
import { answersFromMonaiMetadata, draftManifest, mergeAnswers, parseModelInitAnswers, type ModelInitAnswers, type TensorDescription } from './model-init.js';
import { modelManifestSchema } from './model-manifest.js';

const SHA = 'a'.repeat(64);
const grey28: { inputs: TensorDescription[]; outputs: TensorDescription[] } = {
  inputs: [{ name: 'image', dtype: 'float32', shape: [null, 1, 28, 28] }],
  outputs: [{ name: 'logit', dtype: 'float32', shape: [null, 1] }],
};
const answers: ModelInitAnswers = {
  id: 'my-model',
  version: '1.0.0',
  name: 'My model',
  intendedUse: { summary: 'Finds X.', population: 'adults' },
  findings: [{ label: 'x', index: 0 }],
  costs: { costFalseNegative: 3, costFalsePositive: 1 },
  model: { opset: 17 },
};
const declared = { modality: 'cr', bodyPartExamined: 'chest', viewPosition: 'pa', patientAgeYears: { min: 18, max: 90 } };

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as PlatformError).code;
  }
  return 'none';
}

describe('draftManifest', () => {
  it('drafts a manifest the schema accepts once data adds its statistics, intended use filled from the declaration', () => {
    const draft = draftManifest(answers, grey28, { modelSha256: SHA, declared });
    expect(draft.input).toEqual({ name: 'image', dtype: 'float32', shape: [-1, 1, 28, 28], layout: 'NCHW', channels: ['grayscale'], valueRange: [0, 1] });
    expect(draft.intendedUse).toMatchObject({ modalities: ['CR'], bodyParts: ['CHEST'], views: ['PA'], patientAgeYears: { min: 18, max: 90 }, minRows: 28 });
    expect(draft.preprocessing.map((s) => s.op)).toEqual(['modality_lut', 'voi_window', 'invert_monochrome1', 'to_grayscale', 'resize', 'normalize']);
    expect(draft.outputs).toEqual([{ name: 'logit', activation: 'logit', findings: [{ index: 0, label: 'x' }] }]);
    const bound = { warn: 0, reject: 0, source: 's' };
    const complete = {
      ...draft,
      calibration: { method: 'none' },
      decisionPolicy: {
        x: {
          threshold: 0.25,
          abstainBand: { low: 0.25, high: 0.25 },
          costFalseNegative: 3,
          costFalsePositive: 1,
          prevalence: 0.3,
          onGateWarn: 'refer',
          source: 's',
        },
      },
      quality: { saturatedFraction: bound, dynamicRange: bound, laplacianVariance: bound, constantStd: 0 },
      referenceStatistics: { features: ['mean'], mean: [0.5], precision: [[1]], distance: bound, n: 40 },
      trainingData: { dataset: 'd', licence: 'l', sha256: SHA, splits: {}, citation: 'c' },
    };
    expect(modelManifestSchema.safeParse(complete).success).toBe(true);
  });

  it('maps each channel of normalize onto the value range, and keeps three channels in colour', () => {
    const rgb = { inputs: [{ name: 'x', dtype: 'float32', shape: [null, 3, null, null] }], outputs: grey28.outputs };
    const draft = draftManifest(
      { ...answers, preprocessing: { resize: { width: 224, height: 224 }, normalize: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } } },
      rgb,
      { modelSha256: SHA, declared },
    );
    expect(draft.input.shape).toEqual([-1, 3, 224, 224]);
    expect(draft.input.channels).toEqual(['red', 'green', 'blue']);
    expect(draft.input.valueRange[0]).toBeCloseTo(-0.485 / 0.229, 12);
    expect(draft.input.valueRange[1]).toBeCloseTo((1 - 0.406) / 0.225, 12);
    expect(draft.preprocessing.map((s) => s.op)).not.toContain('to_grayscale');
  });

  it('names every unanswered question at once, where each can be answered, and where the answers file is described', () => {
    // Only --onnx, --validation and --out given: the fields with no flag say so, and the format's place is named.
    try {
      draftManifest({}, grey28, { modelSha256: SHA });
      expect.unreachable();
    } catch (e) {
      const message = (e as Error).message;
      for (const line of [
        'intendedUse.summary: must be answered (the answers file)',
        'intendedUse.population: must be answered (the answers file)',
        'findings: must be answered (the answers file)',
        'id: must be answered (--id or the answers file)',
        'docs/model-bundle.md, "Bring your own model"',
      ])
        expect(message).toContain(line);
    }
    expect(() => draftManifest({ findings: answers.findings }, grey28, { modelSha256: SHA })).toThrow(
      /id: must be answered.*version: must be answered.*name: must be answered.*intendedUse.summary.*intendedUse.modalities.*intendedUse.bodyParts.*intendedUse.population.*costs.*model.opset/,
    );
  });

  it('refuses inputs the preprocessing cannot fill, and findings the outputs do not have', () => {
    const ctx = { modelSha256: SHA, declared };
    const withInput = (input: TensorDescription) => () => draftManifest(answers, { ...grey28, inputs: [input] }, ctx);
    expect(codeOf(withInput({ name: 'image', dtype: 'uint8', shape: [null, 1, 28, 28] }))).toBe('MODEL_INIT_INPUT_UNSUPPORTED');
    expect(codeOf(withInput({ name: 'image', dtype: 'float32', shape: [null, 2, 28, 28] }))).toBe('MODEL_INIT_INPUT_UNSUPPORTED');
    expect(codeOf(withInput({ name: 'image', dtype: 'float32', shape: [null, 1, 28] }))).toBe('MODEL_INIT_INPUT_UNSUPPORTED');
    expect(codeOf(withInput({ name: 'image', dtype: 'float32', shape: [null, 1, null, null] }))).toBe('MODEL_INIT_INPUT_UNSUPPORTED');
    expect(codeOf(() => draftManifest({ ...answers, preprocessing: { resize: { width: 32, height: 32 } } }, grey28, ctx))).toBe('MODEL_INIT_INPUT_UNSUPPORTED');
    expect(
      codeOf(() => draftManifest(answers, { ...grey28, inputs: [...grey28.inputs, { name: 'mask', dtype: 'float32', shape: [null, 1, 28, 28] }] }, ctx)),
    ).toBe('MODEL_INIT_INPUT_UNSUPPORTED');
    expect(codeOf(() => draftManifest({ ...answers, findings: [{ label: 'x', index: 1 }] }, grey28, ctx))).toBe('MODEL_INIT_OUTPUT_INVALID');
    expect(codeOf(() => draftManifest({ ...answers, findings: [{ label: 'x', index: 0, output: 'probs' }] }, grey28, ctx))).toBe('MODEL_INIT_OUTPUT_INVALID');
    const twoOutputs = { ...grey28, outputs: [...grey28.outputs, { name: 'other', dtype: 'float32', shape: [null, 4] }] };
    expect(codeOf(() => draftManifest(answers, twoOutputs, ctx))).toBe('MODEL_INIT_OUTPUT_INVALID');
    // A dynamic output size cannot be checked here; the first scored batch checks it (MODEL_OUTPUT_INVALID).
    expect(
      draftManifest(
        { ...answers, findings: [{ label: 'x', index: 5 }] },
        { ...grey28, outputs: [{ name: 'logit', dtype: 'float32', shape: [null, null] }] },
        ctx,
      ).outputs,
    ).toHaveLength(1);
  });
});

describe('draftManifest: the embedding output', () => {
  const ctx = { modelSha256: SHA, declared };
  const withEmbedding = { ...grey28, outputs: [...grey28.outputs, { name: 'embedding', dtype: 'float32', shape: [null, 64] }] };

  it('declares the answered output with its size; the findings default to the one other output', () => {
    const draft = draftManifest({ ...answers, embedding: { output: 'embedding' } }, withEmbedding, ctx);
    expect(draft.embedding).toEqual({ output: 'embedding', dimension: 64 });
    expect(draft.outputs.map((o) => o.name)).toEqual(['logit']);
    expect(draftManifest(answers, grey28, ctx).embedding).toBeUndefined();
  });

  it('refuses an output the model lacks, one not float32 [N, d] of a fixed d, and two outputs with none named (MODEL_INIT_OUTPUT_INVALID)', () => {
    expect(codeOf(() => draftManifest({ ...answers, embedding: { output: 'features' } }, withEmbedding, ctx))).toBe('MODEL_INIT_OUTPUT_INVALID');
    const dynamic = { ...grey28, outputs: [...grey28.outputs, { name: 'embedding', dtype: 'float32', shape: [null, null] }] };
    expect(codeOf(() => draftManifest({ ...answers, embedding: { output: 'embedding' } }, dynamic, ctx))).toBe('MODEL_INIT_OUTPUT_INVALID');
    const map = { ...grey28, outputs: [...grey28.outputs, { name: 'embedding', dtype: 'float32', shape: [null, 8, 8] }] };
    expect(codeOf(() => draftManifest({ ...answers, embedding: { output: 'embedding' } }, map, ctx))).toBe('MODEL_INIT_OUTPUT_INVALID');
    expect(codeOf(() => draftManifest(answers, withEmbedding, ctx))).toBe('MODEL_INIT_OUTPUT_INVALID');
  });
});

describe('answersFromMonaiMetadata', () => {
  it('maps inputs, outputs and intended use; a two-class output gives class 1 as the finding', () => {
    const a = answersFromMonaiMetadata({
      name: 'N',
      version: '0.1.0',
      description: 'D',
      intended_use: 'U',
      pytorch_version: '2.1.0',
      network_data_format: {
        inputs: { image: { num_channels: 3, spatial_shape: [224, 192], value_range: [0, 1] } },
        outputs: { pred: { type: 'probabilities', num_channels: 2, channel_def: { '0': 'normal', '1': 'nodule' } } },
      },
    });
    expect(a).toEqual({
      name: 'N',
      version: '0.1.0',
      description: 'D',
      intendedUse: { summary: 'U' },
      model: { framework: 'PyTorch 2.1.0', libraryVersions: { torch: '2.1.0' } },
      input: { channels: ['red', 'green', 'blue'], valueRange: [0, 1] },
      preprocessing: { resize: { height: 224, width: 192 } },
      findings: [{ label: 'nodule', index: 1, activation: 'probability' }],
    });
  });

  it('ignores what Vigil has no use for, and refuses what is not an object', () => {
    expect(answersFromMonaiMetadata({ authors: 'x', network_data_format: { inputs: { image: { num_channels: 4 } } } })).toEqual({});
    expect(codeOf(() => answersFromMonaiMetadata([1, 2]))).toBe('MODEL_INIT_ANSWERS_INVALID');
    expect(codeOf(() => answersFromMonaiMetadata({ network_data_format: { inputs: { image: { spatial_shape: [0, 28] } } } }))).toBe(
      'MODEL_INIT_ANSWERS_INVALID',
    );
  });
});

describe('answers', () => {
  it('merge field by field, later layers winning, arrays replaced', () => {
    const merged = mergeAnswers({ name: 'a', intendedUse: { summary: 's', modalities: ['CR', 'DX'] } }, { intendedUse: { modalities: ['MR'] } }, { name: 'c' });
    expect(merged).toEqual({ name: 'c', intendedUse: { summary: 's', modalities: ['MR'] } });
  });

  it('refuse an unknown field or a wrong type, naming the path and never the value', () => {
    expect(() => parseModelInitAnswers({ costs: { costFalseNegative: 'SECRET' }, colour: 1 }, 'The answers file')).toThrow(PlatformError);
    try {
      parseModelInitAnswers({ costs: { costFalseNegative: 'SECRET' }, colour: 1 }, 'The answers file');
    } catch (e) {
      expect((e as PlatformError).code).toBe('MODEL_INIT_ANSWERS_INVALID');
      expect((e as Error).message).toContain('costs.costFalseNegative');
      expect((e as Error).message).not.toContain('SECRET');
    }
  });
});
