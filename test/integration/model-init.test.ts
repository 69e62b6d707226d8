import { readMonitoringReference, readMonitoringReferenceFile } from '../../src/adapters/model-bundle-fs/read-monitoring-reference.js';
import { embeddingReferenceOf } from '../../src/domain/monitoring/monitoring-reference-file.js';
import { MONITOR_SIGNAL_NAMES } from '../../src/domain/monitoring/case-signals.js';
import { designDeploymentPlan } from '../../src/domain/monitoring/deployment-plan.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMedmnistSplit } from '../../src/adapters/dataset-medmnist/read-npz.js';
import { encodeGreyPng } from '../../src/adapters/image-sharp/encode-png.js';
import { FsModelBundleSource } from '../../src/adapters/model-bundle-fs/fs-model-bundle-source.js';
import { OnnxModelRunner } from '../../src/adapters/onnx-runtime/onnx-model-runner.js';
import { buildFrame } from '../../src/domain/image/frame-builder.js';
import type { ModelBundle } from '../../src/domain/model/model-bundle.js';
import type { ModelManifest } from '../../src/domain/model/model-manifest.js';
import { InferenceChain } from '../../src/workflows/inference-chain.js';
import { runVigil } from '../helpers/run-vigil.js';
import { DEMO_MODEL_DIR, hasPneumoniaMnist, PNEUMONIA_NPZ } from '../helpers/sample-data.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-model-init-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEMO_ONNX = join(DEMO_MODEL_DIR, 'model.onnx');
const demo = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'vigil-model.json'), 'utf8')) as ModelManifest;
const CHEST_PA = ['--modality', 'CR', '--body-part', 'CHEST', '--view', 'PA', '--patient-age-years', '1-5'];

/**
 * The answers a CV engineer would give for the demo network (what models/pneumonia-demo/train.py
 * hard-codes), as committed beside it for the README's tour (outside the bundle folder, whose content is its version id).
 */
const DEMO_ANSWERS_FILE = join(DEMO_MODEL_DIR, '..', 'pneumonia-demo.init-answers.json');
const demoAnswers = JSON.parse(readFileSync(DEMO_ANSWERS_FILE, 'utf8')) as Record<string, unknown> & { preprocessing: Record<string, unknown> };

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

const maxAbsDifference = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('vigil model init: refusals, coded', () => {
  const answers = writeJson('answers.json', demoAnswers);
  const init = (extra: readonly string[], onnx = DEMO_ONNX) =>
    runVigil(
      ['model', 'init', '--onnx', onnx, '--validation', join(dir, 'nowhere.csv'), '--out', join(dir, 'never'), '--answers', answers, '--json', ...extra],
      dataDir,
    );
  const codeOf = (stdout: string): string => (JSON.parse(stdout) as { error: { code: string } }).error.code;

  it('prints its usage for --help', async () => {
    const run = await runVigil(['model', 'init', '--help'], join(dir, 'help'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('model init --onnx FILE --validation SPEC [--reference SPEC] --out DIR [--answers FILE] [--monai-metadata FILE]');
  });

  it('bounds the answers file and the MONAI metadata.json in bytes before reading them, and in nesting before parsing', async () => {
    const run = (option: '--answers' | '--monai-metadata', file: string) =>
      runVigil(['model', 'init', '--onnx', DEMO_ONNX, '--validation', 'x', '--out', join(dir, 'never'), option, file], dataDir);
    // 5 MB of valid JSON (a long description): refused by its size, before it is read.
    const big = writeJson('big.json', { ...demoAnswers, description: 'x'.repeat(5_000_000) });
    for (const option of ['--answers', '--monai-metadata'] as const) {
      const refused = await run(option, big);
      expect([refused.code, refused.stderr]).toEqual([11, expect.stringContaining('INPUT_TOO_LARGE: The ')]);
      expect(refused.stderr).toContain('is larger than 65536 bytes');
    }
    // An unknown key nested 10,000 deep (29 kB, under the byte bound): refused before it is parsed, naming the limit.
    const deep = join(dir, 'deep.json');
    writeFileSync(deep, `{"name":"x","unknown":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    const nested = await run('--monai-metadata', deep);
    expect([nested.code, nested.stderr]).toEqual([
      13,
      'vigil: MODEL_INIT_ANSWERS_INVALID: The MONAI metadata.json file nests arrays and objects deeper than 32 levels, the most it may\n',
    ]);
    // A directory where a file belongs: coded, not INTERNAL.
    const folder = await run('--answers', dir);
    expect([folder.code, folder.stderr]).toEqual([11, 'vigil: INPUT_UNREADABLE: The answers file is a directory: give a file\n']);
    const missing = await run('--answers', join(dir, 'no-such.json'));
    expect([missing.code, missing.stderr]).toEqual([11, 'vigil: INPUT_NOT_FOUND: The answers file does not exist\n']);
  });

  it('an ONNX file that will not load: MODEL_INIT_ONNX_UNREADABLE', async () => {
    const bad = join(dir, 'not-a-model.onnx');
    writeFileSync(bad, 'this is not a protobuf');
    const run = await init([], bad);
    expect(run.code).toBe(13);
    expect(codeOf(run.stdout)).toBe('MODEL_INIT_ONNX_UNREADABLE');
  });

  it('an output index the model does not have: MODEL_INIT_OUTPUT_INVALID, naming the outputs', async () => {
    const wrong = writeJson('wrong-index.json', { ...demoAnswers, findings: [{ label: 'pneumonia', index: 1 }] });
    const run = await runVigil(['model', 'init', '--onnx', DEMO_ONNX, '--validation', 'x', '--out', join(dir, 'never'), '--answers', wrong], dataDir);
    expect(run.code).toBe(13);
    expect(run.stderr).toMatch(/MODEL_INIT_OUTPUT_INVALID: Finding "pneumonia" reads value 1 of output "logit", which has 1 per image \(logit \[\?, 1\]\)/);
  });

  it('an embedding the model does not output: MODEL_INIT_OUTPUT_INVALID, naming the outputs', async () => {
    const wrong = writeJson('wrong-embedding.json', { ...demoAnswers, embedding: { output: 'features' } });
    const run = await runVigil(['model', 'init', '--onnx', DEMO_ONNX, '--validation', 'x', '--out', join(dir, 'never'), '--answers', wrong], dataDir);
    expect(run.code).toBe(13);
    expect(run.stderr).toMatch(
      /MODEL_INIT_OUTPUT_INVALID: The model has no output "features", which the answers name as the embedding; its outputs: logit \[\?, 1\], embedding \[\?, 64\]/,
    );
  });

  it('an input the preprocessing cannot fill (a resize to another size): MODEL_INIT_INPUT_UNSUPPORTED', async () => {
    const wrong = writeJson('wrong-size.json', { ...demoAnswers, preprocessing: { ...demoAnswers.preprocessing, resize: { width: 32, height: 32 } } });
    const run = await runVigil(['model', 'init', '--onnx', DEMO_ONNX, '--validation', 'x', '--out', join(dir, 'never'), '--answers', wrong, '--json'], dataDir);
    expect(run.code).toBe(13);
    expect(codeOf(run.stdout)).toBe('MODEL_INIT_INPUT_UNSUPPORTED');
  });

  it('unanswered questions: MODEL_INIT_ANSWERS_INVALID naming each', async () => {
    const partial = writeJson('partial.json', { ...demoAnswers, costs: undefined, model: undefined });
    const run = await runVigil(['model', 'init', '--onnx', DEMO_ONNX, '--validation', 'x', '--out', join(dir, 'never'), '--answers', partial], dataDir);
    expect(run.code).toBe(13);
    expect(run.stderr).toBe(
      'vigil: MODEL_INIT_ANSWERS_INVALID: The answers: costs: must be answered (--cost-fn and --cost-fp, or the answers file); model.opset: must be answered (--opset or the answers file); the answers file (--answers FILE, JSON) is described in docs/model-bundle.md, "Bring your own model"\n',
    );
    // Flags answer them.
    const flagged = await runVigil(
      [
        'model',
        'init',
        '--onnx',
        DEMO_ONNX,
        '--validation',
        join(dir, 'nowhere.csv'),
        '--out',
        join(dir, 'never'),
        '--answers',
        partial,
        '--cost-fn',
        '5',
        '--cost-fp',
        '1',
        '--opset',
        '13',
      ],
      dataDir,
    );
    expect(flagged.stderr).not.toContain('MODEL_INIT_ANSWERS_INVALID');
  });

  it('too few usable reference images: MODEL_INIT_NO_REFERENCE_IMAGES', async () => {
    const images = join(dir, 'few');
    mkdirSync(images);
    const rows = ['path,label'];
    for (let i = 0; i < 6; i++) {
      const pixels = Uint8Array.from({ length: 28 * 28 }, (_, k) => (k * (i + 3)) % 256);
      writeFileSync(join(images, `img-${i}.png`), await encodeGreyPng(pixels, 28, 28));
      rows.push(`few/img-${i}.png,${i % 2}`);
    }
    // One more, constant: the gate rejects it, and it is no reference either.
    writeFileSync(join(images, 'flat.png'), await encodeGreyPng(new Uint8Array(28 * 28).fill(128), 28, 28));
    rows.push('few/flat.png,0');
    writeFileSync(join(dir, 'few.csv'), rows.join('\n') + '\n');
    const run = await runVigil(
      ['model', 'init', '--onnx', DEMO_ONNX, '--validation', join(dir, 'few.csv'), '--out', join(dir, 'never'), '--answers', answers],
      dataDir,
    );
    expect(run.code).toBe(13);
    expect(run.stderr).toContain("MODEL_INIT_NO_REFERENCE_IMAGES: The gate's statistics need at least 40 usable reference images; 6 of 7 could be used");
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});

describe.skipIf(!hasPneumoniaMnist)(
  'vigil model init rebuilds the demo bundle from its ONNX file and PneumoniaMNIST alone (needs ../shared/data/medmnist/pneumoniamnist.npz)',
  () => {
    const spec = (split: string) => `medmnist:${PNEUMONIA_NPZ}:${split}`;
    const out = join(dir, 'rebuilt');
    let rebuilt: ModelManifest;

    it('builds, evaluates, writes the card and registers the bundle', async () => {
      const answers = writeJson('demo-answers.json', demoAnswers);
      const run = await runVigil(
        [
          'model',
          'init',
          '--onnx',
          DEMO_ONNX,
          '--reference',
          spec('train'),
          '--validation',
          spec('val'),
          '--out',
          out,
          '--answers',
          answers,
          '--json',
          ...CHEST_PA,
        ],
        dataDir,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout) as { versionId: string; reference: { images: number }; validation: { cases: number }; reports: string[] };
      expect(result.versionId).toMatch(/^[0-9a-f]{64}$/);
      expect(result.reference.images).toBe(4708);
      expect(result.validation.cases).toBe(524);
      rebuilt = JSON.parse(readFileSync(join(out, 'vigil-model.json'), 'utf8')) as ModelManifest;
      expect(existsSync(join(out, 'reports', 'validation', 'report.json'))).toBe(true);
      const card = readFileSync(join(out, 'MODEL_CARD.md'), 'utf8');
      expect(card).toContain('## Not for');
      expect(card).toContain('## How it performed');
      // The monitors' reference: the 524 val images' signal values, which a deployment designs from at once.
      const monitoring = await readMonitoringReference(out);
      expect(monitoring?.get('probability')?.length).toBe(524);
      expect([...(monitoring?.keys() ?? [])]).toEqual([...MONITOR_SIGNAL_NAMES]);
      const positives = Array.from(monitoring?.get('positive') ?? []).filter((v) => v === 1).length;
      expect(positives).toBeGreaterThan(300);
      // The embedding summary's projection, fitted on the val embeddings: the top 8 of 64 components and
      // each image's float32 summary (all 524 reach the model: the gate rejects none of val).
      expect(rebuilt.embedding).toEqual(demo.embedding);
      const file = await readMonitoringReferenceFile(out);
      const embedding = file?.embedding;
      expect(embedding?.output).toBe('embedding');
      expect(embedding?.components).toHaveLength(8);
      expect(embedding?.projected).toHaveLength(524);
      expect(embedding?.projected.every((p) => p !== null && p.length === 8 && p.every((v) => Math.fround(v) === v))).toBe(true);
      const kept = embedding!.variances.reduce((a, b) => a + b, 0) / embedding!.totalVariance;
      expect(kept).toBeGreaterThan(0.999);
      const reference = embeddingReferenceOf(file);
      expect(reference.kind === 'projection' ? reference.reference.projected.length : 0).toBe(524);
      expect(
        designDeploymentPlan(monitoring!, { falseAlarmDays: 90, casesPerDay: 200, states: 60 }, { kind: 'version', bootstraps: 200 }).detectors,
      ).toHaveLength(16);
      // The labels' summary the review detectors take p₀ from: confident positives and negatives of val
      // (not referred, not gate-warned) and those the label contradicts (7 of 377 and 3 of 119 under the demo's policy).
      const strata = file?.review?.strata ?? [];
      expect(strata.map((st) => st.name)).toEqual(['reviewWrong:confidentPositive', 'reviewWrong:confidentNegative']);
      expect(strata[0]!.referenceCases).toBeGreaterThan(300);
      expect(strata[0]!.referenceWrong / strata[0]!.referenceCases).toBeLessThan(0.05);
      expect(strata[0]!.share + strata[1]!.share).toBeLessThanOrEqual(1);
      expect(
        designDeploymentPlan(monitoring!, { falseAlarmDays: 90, casesPerDay: 200, states: 60 }, { kind: 'version', bootstraps: 200 }, undefined, undefined, {
          strata,
          sampleRate: 0.05,
        }).detectors,
      ).toHaveLength(18);
      const versions = await runVigil(['model', 'versions', '--json'], dataDir);
      expect((JSON.parse(versions.stdout) as { versions: { versionId: string; lineage: { derivedBy: string } }[] }).versions).toContainEqual(
        expect.objectContaining({ versionId: result.versionId, lineage: expect.objectContaining({ derivedBy: 'vigil model init' }) }),
      );
    }, 300_000);

    it("reproduces the demo manifest's quality thresholds and reference statistics to 1e-6", () => {
      const q = rebuilt.quality;
      const d = demo.quality;
      const differences = {
        quality: Math.max(
          ...(['saturatedFraction', 'dynamicRange', 'laplacianVariance'] as const).flatMap((k) => [
            Math.abs(q[k].warn - d[k].warn),
            Math.abs(q[k].reject - d[k].reject),
          ]),
          Math.abs(q.constantStd - d.constantStd),
        ),
        mean: maxAbsDifference(rebuilt.referenceStatistics.mean, demo.referenceStatistics.mean),
        precision: Math.max(...rebuilt.referenceStatistics.precision.map((row, a) => maxAbsDifference(row, demo.referenceStatistics.precision[a]!))),
        distance: Math.max(
          Math.abs(rebuilt.referenceStatistics.distance.warn - demo.referenceStatistics.distance.warn),
          Math.abs(rebuilt.referenceStatistics.distance.reject - demo.referenceStatistics.distance.reject),
        ),
        temperature:
          rebuilt.calibration.method === 'temperature' && demo.calibration.method === 'temperature'
            ? Math.abs(rebuilt.calibration.temperature - demo.calibration.temperature)
            : Number.NaN,
      };
      // The measured differences, for the record (the report of the change quotes them).
      console.log(`model init vs demo manifest, max abs differences: ${JSON.stringify(differences)}`);
      expect(rebuilt.referenceStatistics.features).toEqual(demo.referenceStatistics.features);
      expect(rebuilt.referenceStatistics.n).toBe(demo.referenceStatistics.n);
      expect(differences.quality).toBeLessThanOrEqual(1e-6);
      expect(differences.mean).toBeLessThanOrEqual(1e-6);
      expect(differences.precision).toBeLessThanOrEqual(1e-6);
      expect(differences.distance).toBeLessThanOrEqual(1e-6);
      expect(differences.temperature).toBeLessThanOrEqual(1e-5);
      expect(rebuilt.preprocessing).toEqual(demo.preprocessing);
      expect(rebuilt.input).toEqual(demo.input);
      expect(rebuilt.outputs).toEqual(demo.outputs);
      expect(rebuilt.intendedUse).toEqual(demo.intendedUse);
    });

    it('chooses the same threshold and abstain band, and makes identical decisions on every val image', async () => {
      const policy = rebuilt.decisionPolicy.pneumonia!;
      const demoPolicy = demo.decisionPolicy.pneumonia!;
      expect(policy.threshold).toBe(demoPolicy.threshold);
      expect(policy.abstainBand).toEqual(demoPolicy.abstainBand);
      expect(policy.prevalence).toBe(demoPolicy.prevalence);
      expect(policy.onGateWarn).toBe(demoPolicy.onGateWarn);

      const bundles = new FsModelBundleSource();
      const runner = new OnnxModelRunner({ executionProvider: 'cpu', intraOpThreads: 1 });
      const split = readMedmnistSplit(readFileSync(PNEUMONIA_NPZ), 'val');
      const decide = async (bundle: ModelBundle): Promise<string[]> => {
        const session = await runner.createSession(bundle);
        const chain = new InferenceChain(bundle, session);
        const decisions: string[] = [];
        try {
          for (let start = 0; start < split.images.length; start += 64) {
            const prepared = split.images.slice(start, start + 64).map((pixels) =>
              chain.prepare(
                buildFrame(pixels, 28, 28, { source: 'raster', bitsAllocated: 8, bitsStored: 8 }),
                { min: 1, max: 5 },
                {
                  modality: 'CR',
                  bodyPartExamined: 'CHEST',
                  viewPosition: 'PA',
                },
              ),
            );
            const passed = prepared.filter((p) => p.gate.verdict !== 'reject');
            const scored = await chain.infer(passed);
            let next = 0;
            for (const p of prepared) decisions.push(p.gate.verdict === 'reject' ? 'rejected' : `${p.gate.verdict}:${scored[next++]![0]!.decision}`);
          }
        } finally {
          await session.close();
        }
        return decisions;
      };
      const mine = await decide(await bundles.loadBundle(out));
      const theirs = await decide(await bundles.loadBundle(DEMO_MODEL_DIR));
      expect(mine).toHaveLength(524);
      const differing = mine.filter((d, i) => d !== theirs[i]).length;
      console.log(`model init vs demo: ${differing} of ${mine.length} val decisions differ`);
      expect(mine).toEqual(theirs);
    }, 120_000);

    it('vigil policy --bayes-threshold --max-error-not-referred gives the demo bundle its own threshold and band again', async () => {
      const run = await runVigil(
        [
          'policy',
          '--model',
          DEMO_MODEL_DIR,
          '--dataset',
          spec('val'),
          '--cost-fn',
          '5',
          '--cost-fp',
          '1',
          '--prevalence',
          '0.742141',
          '--bayes-threshold',
          '--max-error-not-referred',
          '0.02',
          '--out',
          join(dir, 'policy'),
          '--json',
          ...CHEST_PA,
        ],
        dataDir,
      );
      expect(run.stderr).toBe('');
      const policy = (JSON.parse(run.stdout) as { decisionPolicy: ModelManifest['decisionPolicy'] }).decisionPolicy.pneumonia!;
      expect(policy.threshold).toBe(demo.decisionPolicy.pneumonia!.threshold);
      expect(policy.abstainBand).toEqual(demo.decisionPolicy.pneumonia!.abstainBand);
      expect(policy.source).toMatch(/w = 0\.37, bounds rounded outward to 6 decimals$/);
    }, 120_000);

    it('maps a MONAI bundle metadata.json into the answers; flags and the answers file override it', async () => {
      // A small synthetic metadata.json in MONAI's format (not a copy of any real bundle's).
      const monai = writeJson('metadata.json', {
        schema: 'https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/meta_schema_20220324.json',
        version: '0.3.0',
        monai_version: '1.3.0',
        pytorch_version: '2.1.0',
        name: 'Synthetic chest classifier',
        task: 'Pneumonia classification',
        description: 'A made-up MONAI bundle description for a test.',
        intended_use: 'Testing only; not for clinical use.',
        data_source: 'A synthetic description of a data source',
        network_data_format: {
          inputs: {
            image: {
              type: 'image',
              format: 'magnitude',
              num_channels: 1,
              spatial_shape: [28, 28],
              dtype: 'float32',
              value_range: [-2, 2],
              is_patch_data: false,
              channel_def: { '0': 'image' },
            },
          },
          outputs: {
            pred: {
              type: 'logits',
              format: 'classes',
              num_channels: 1,
              spatial_shape: [1],
              dtype: 'float32',
              value_range: [],
              channel_def: { '0': 'pneumonia' },
            },
          },
        },
      });
      const rest = writeJson('rest.json', {
        id: 'monai-mapped',
        intendedUse: { modalities: ['CR'], bodyParts: ['CHEST'], population: 'test population', patientAgeYears: { min: 1, max: 5 } },
        preprocessing: { normalize: { mean: [0.5], std: [0.25] } },
        costs: { costFalseNegative: 5, costFalsePositive: 1 },
        model: { opset: 13 },
        // The network has two outputs: naming the embedding leaves the findings one output to be on.
        embedding: { output: 'embedding' },
      });
      const monaiOut = join(dir, 'monai');
      const run = await runVigil(
        [
          'model',
          'init',
          '--onnx',
          DEMO_ONNX,
          '--validation',
          spec('val'),
          '--out',
          monaiOut,
          '--monai-metadata',
          monai,
          '--answers',
          rest,
          '--model-version',
          '0.3.1',
          '--json',
          ...CHEST_PA,
        ],
        dataDir,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const m = JSON.parse(readFileSync(join(monaiOut, 'vigil-model.json'), 'utf8')) as ModelManifest;
      expect(m.name).toBe('Synthetic chest classifier');
      expect(m.version).toBe('0.3.1');
      expect(m.description).toBe('A made-up MONAI bundle description for a test.');
      expect(m.intendedUse.summary).toBe('Testing only; not for clinical use.');
      expect(m.input).toEqual({ name: 'image', dtype: 'float32', shape: [-1, 1, 28, 28], layout: 'NCHW', channels: ['grayscale'], valueRange: [-2, 2] });
      expect(m.outputs).toEqual([{ name: 'logit', activation: 'logit', findings: [{ index: 0, label: 'pneumonia' }] }]);
      expect(m.embedding).toEqual({ output: 'embedding', dimension: 64 });
      expect(m.model.libraryVersions).toEqual({ monai: '1.3.0', torch: '2.1.0' });
      expect(m.trainingData.dataset).toBe('A synthetic description of a data source');
      // Without --reference the gate's statistics come from the validation images.
      expect(m.referenceStatistics.n).toBe(524);
      expect(m.decisionPolicy.pneumonia!.threshold).toBe(1 / 6);
    }, 300_000);
  },
);
