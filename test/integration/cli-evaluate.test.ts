import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMedmnistSplit } from '../../src/adapters/dataset-medmnist/read-npz.js';
import { encodeGreyPng } from '../../src/adapters/image-sharp/encode-png.js';
import { SeededRandom } from '../../src/domain/evaluation/random.js';
import { texturedGreyPng } from '../helpers/images.js';
import { runVigil } from '../helpers/run-vigil.js';
import { DEMO_MODEL_DIR, hasPneumoniaMnist, PNEUMONIA_NPZ } from '../helpers/sample-data.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-evaluate-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Synthetic predictions: two sites, the second one worse calibrated. No patient data. */
function writePredictions(path: string, n: number, seed: number, noise = 1): void {
  const random = new SeededRandom(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const label = random.nextFloat() < 0.3 ? 1 : 0;
    const site = i % 3 === 0 ? 'B' : 'A';
    const z = (label === 1 ? 1.6 : -1.6) + noise * (site === 'B' ? 1.8 : 1) * (random.nextFloat() * 2 - 1) * 1.7;
    lines.push(JSON.stringify({ id: `c${i}`, score: 1 / (1 + Math.exp(-z)), label, site }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

describe('vigil evaluate --predictions', () => {
  const preds = join(dir, 'preds.jsonl');
  const ref = join(dir, 'ref.jsonl');
  writePredictions(preds, 600, 1);
  writePredictions(ref, 600, 1, 1.3);

  it('writes report.json with every number, its interval and method, and a self-contained report.html', async () => {
    const out = join(dir, 'r1');
    const run = await runVigil(['evaluate', '--predictions', preds, '--out', out, '--replicates', '300'], dataDir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      dataset: { sha256: string };
      metrics: {
        overall: { n: number; auroc: { value: number; ciLow: number; ciHigh: number; method: string } };
        strata: { column: string; level: string; sufficient: boolean }[];
      };
    };
    expect(report.dataset.sha256).toBe(createHash('sha256').update(readFileSync(preds)).digest('hex'));
    expect(report.metrics.overall.n).toBe(600);
    const auroc = report.metrics.overall.auroc;
    expect(auroc.ciLow).toBeLessThan(auroc.value);
    expect(auroc.ciHigh).toBeGreaterThan(auroc.value);
    expect(auroc.method).toMatch(/DeLong/);
    expect(report.metrics.strata.map((s) => `${s.column}=${s.level}`)).toEqual(['site=A', 'site=B']);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBe(5);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('is reproducible: the same seed gives the same numbers', async () => {
    const a = await runVigil(['evaluate', '--predictions', preds, '--out', join(dir, 'r2'), '--replicates', '200', '--seed', '5', '--json'], dataDir);
    const b = await runVigil(['evaluate', '--predictions', preds, '--out', join(dir, 'r3'), '--replicates', '200', '--seed', '5', '--json'], dataDir);
    const metrics = (p: string) => (JSON.parse(readFileSync(join(dir, p, 'report.json'), 'utf8')) as { metrics: unknown }).metrics;
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(metrics('r2')).toEqual(metrics('r3'));
  });

  it('exits 5 when a criterion fails, and reports each criterion with a sentence and the criteria hash', async () => {
    const criteria = join(dir, 'criteria.txt');
    writeFileSync(
      criteria,
      '# fixed before the test\nauroc.ci_low >= 0.80\nece <= 0.001\nsensitivity.ci_low >= 0.5 in every site with n >= 50\nauroc noninferior to reference margin 0.05\n',
    );
    const out = join(dir, 'r4');
    const run = await runVigil(
      ['evaluate', '--predictions', preds, '--reference-predictions', ref, '--criteria', criteria, '--out', out, '--replicates', '200'],
      dataDir,
    );
    expect(run.code).toBe(5);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      criteria: { sha256: string; passed: boolean; results: { line: number; passed: boolean; sentence: string }[] };
    };
    expect(report.criteria.sha256).toBe(createHash('sha256').update(readFileSync(criteria)).digest('hex'));
    expect(report.criteria.results.map((r) => [r.line, r.passed])).toEqual([
      [2, true],
      [3, false],
      [4, true],
      [5, true],
    ]);
    expect(report.criteria.results[1]?.sentence).toMatch(/expected calibration error must be at most 0.001; measured .*NOT met/);
    expect(run.stdout).toMatch(/FAIL {2}ece <= 0.001/);
  });

  it('decides non-inferiority by a paired bootstrap when the criterion asks, and reports method, replicates, seed and interval', async () => {
    const criteria = join(dir, 'criteria-bootstrap.json');
    writeFileSync(
      criteria,
      JSON.stringify({
        criteria: [
          'auroc noninferior to reference margin 0.05',
          { criterion: 'auroc noninferior to reference margin 0.05', method: 'paired-bootstrap', replicates: 500, seed: 42 },
        ],
      }),
    );
    const out = join(dir, 'r7');
    const run = await runVigil(
      ['evaluate', '--predictions', preds, '--reference-predictions', ref, '--criteria', criteria, '--out', out, '--replicates', '200'],
      dataDir,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      criteria: { results: { text: string; passed: boolean; sentence: string; measurements: { estimate: { ciLow: number; method: string } }[] }[] };
      comparison: {
        difference: { value: number; ciLow: number; ciHigh: number };
        pairedBootstrap: { replicates: number; seed: number; difference: { value: number; ciLow: number; ciHigh: number; method: string } }[];
      };
    };
    const [boot] = report.comparison.pairedBootstrap;
    expect(report.comparison.pairedBootstrap).toHaveLength(1);
    expect(boot).toMatchObject({ replicates: 500, seed: 42 });
    expect(boot?.difference.value).toBeCloseTo(report.comparison.difference.value, 12);
    expect(boot?.difference.ciLow).toBeLessThan(boot!.difference.value);
    expect(boot?.difference.method).toMatch(/paired bootstrap, 500 replicates resampling cases within each label .*seed 42, percentile 95% interval/);
    const [byDelong, byBootstrap] = report.criteria.results;
    expect(byDelong?.measurements[0]?.estimate.ciLow).toBe(report.comparison.difference.ciLow);
    expect(byBootstrap?.text).toBe('auroc noninferior to reference margin 0.05 method paired-bootstrap replicates 500 seed 42');
    expect(byBootstrap?.measurements[0]?.estimate.ciLow).toBe(boot?.difference.ciLow);
    expect(byBootstrap?.sentence).toMatch(/by paired bootstrap \(500 replicates .*seed 42; percentile interval\).*: met\./);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('paired bootstrap (500 replicates, seed 42)');
    expect(html).toMatch(
      /by paired bootstrap \(500 replicates of the cases, resampled within each label and shared by both models, seed 42; percentile interval\)/,
    );
  });

  it('names the bad line of a criteria file (CRITERIA_INVALID, exit 18) before evaluating', async () => {
    const criteria = join(dir, 'bad-criteria.txt');
    writeFileSync(criteria, 'auroc >= 0.9\n\nsensitvity.ci_low >= 0.9\n');
    const run = await runVigil(['evaluate', '--predictions', preds, '--criteria', criteria, '--out', join(dir, 'r5')], dataDir);
    expect(run.code).toBe(18);
    expect(run.stderr).toMatch(/CRITERIA_INVALID: Criteria line 3 \("sensitvity.ci_low >= 0.9"\): unknown metric "sensitvity"/);
  });

  it('refuses a predictions file with a bad row (DATASET_INVALID, exit 18)', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"score":0.2,"label":0}\n{"score":"x","label":1}\n');
    const run = await runVigil(['evaluate', '--predictions', bad, '--out', join(dir, 'r6')], dataDir);
    expect(run.code).toBe(18);
    expect(run.stderr).toMatch(/DATASET_INVALID: Line 2 of the predictions file/);
  });
});

describe.skipIf(!hasPneumoniaMnist)('evaluate, calibrate and policy on PneumoniaMNIST (needs ../shared/data/medmnist)', () => {
  const spec = (split: string) => `medmnist:${PNEUMONIA_NPZ}:${split}`;
  // PneumoniaMNIST's images are frontal chest radiographs: declared, as a device integration would declare them.
  // The PneumoniaMNIST population: the files carry no age, and the paediatric model refuses an unknown one.
  const CHEST_PA = ['--modality', 'CR', '--body-part', 'CHEST', '--view', 'PA', '--patient-age-years', '1-5'];
  const manifestBefore = readFileSync(join(DEMO_MODEL_DIR, 'vigil-model.json'));

  it('evaluates the demo model on test through the gate, with the numbers of the model card', async () => {
    const out = join(dir, 'm1');
    const run = await runVigil(['evaluate', '--model', DEMO_MODEL_DIR, '--dataset', spec('test'), '--out', out, '--replicates', '200', ...CHEST_PA], dataDir);
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      gate: { total: number; rejected: number };
      metrics: { overall: { n: number; auroc: { value: number }; ece: { value: number } }; strata: { column: string }[] };
    };
    expect(report.gate).toMatchObject({ total: 624, rejected: 1 });
    expect(report.metrics.overall.n).toBe(623);
    expect(report.metrics.overall.auroc.value).toBeCloseTo(0.982, 3);
    expect(report.metrics.overall.ece.value).toBeGreaterThan(0.08); // the shift the model card describes
    expect(new Set(report.metrics.strata.map((s) => s.column))).toEqual(new Set(['exposure', 'contrast']));
  });

  it('evaluates a CSV manifest of PNG files with a site column, against a reference model (paired DeLong)', async () => {
    const split = readMedmnistSplit(readFileSync(PNEUMONIA_NPZ), 'test');
    const images = join(dir, 'pngs');
    mkdirSync(images);
    const rows = ['path,label,site'];
    for (let i = 0; i < 120; i++) {
      writeFileSync(join(images, `img-${i}.png`), await encodeGreyPng(split.images[i]!, split.width, split.height));
      rows.push(`pngs/img-${i}.png,${split.labels[i]},${i % 2 === 0 ? 'north' : 'south'}`);
    }
    writeFileSync(join(dir, 'manifest.csv'), rows.join('\n') + '\n');
    const criteria = join(dir, 'ni.txt');
    writeFileSync(criteria, 'auroc noninferior to reference margin 0.01\n');
    const out = join(dir, 'm0');
    const run = await runVigil(
      [
        'evaluate',
        '--model',
        DEMO_MODEL_DIR,
        '--dataset',
        join(dir, 'manifest.csv'),
        '--reference-model',
        DEMO_MODEL_DIR,
        '--criteria',
        criteria,
        '--out',
        out,
        '--replicates',
        '200',
        '--modality',
        'CR',
        '--body-part',
        'CHEST',
        '--view',
        'PA',
        // The PneumoniaMNIST population: the files carry no age, and the paediatric model refuses an unknown one.
        '--patient-age-years',
        '1-5',
      ],
      dataDir,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      gate: { total: number };
      comparison: { difference: { value: number } };
      metrics: { strata: { column: string; level: string; n: number }[] };
    };
    expect(report.gate.total).toBe(120);
    expect(report.comparison.difference.value).toBe(0);
    expect(report.metrics.strata.map((s) => `${s.column}=${s.level}`)).toEqual(['site=north', 'site=south']);
  });

  it('calibrate and policy write new bundles that load, record their parent, and leave the original untouched', async () => {
    const recal = join(dir, 'recal');
    const cal = await runVigil(
      ['calibrate', '--model', DEMO_MODEL_DIR, '--dataset', spec('test:part=0/2'), '--method', 'platt', '--out', recal, '--json', ...CHEST_PA],
      dataDir,
    );
    expect(cal.stderr).toBe('');
    expect(cal.code).toBe(0);
    const m = JSON.parse(readFileSync(join(recal, 'vigil-model.json'), 'utf8')) as {
      version: string;
      parent: { version: string };
      calibration: { method: string; fit: { eceBefore: number; eceAfter: number; datasetSha256: string } };
    };
    expect(m.parent.version).toBe('1.0.0');
    expect(m.calibration.method).toBe('platt');
    expect(m.calibration.fit.eceAfter).toBeLessThan(m.calibration.fit.eceBefore);
    expect(readFileSync(join(recal, 'model.onnx')).equals(readFileSync(join(DEMO_MODEL_DIR, 'model.onnx')))).toBe(true);
    expect(readFileSync(join(DEMO_MODEL_DIR, 'vigil-model.json')).equals(manifestBefore)).toBe(true);

    const policy = join(dir, 'policy');
    const pol = await runVigil(
      [
        'policy',
        '--model',
        recal,
        '--dataset',
        spec('test:part=0/2'),
        '--cost-fn',
        '5',
        '--cost-fp',
        '1',
        '--prevalence',
        '0.625',
        '--coverage',
        '0.98',
        '--mondrian',
        'contrast',
        '--out',
        policy,
        '--json',
        ...CHEST_PA,
      ],
      dataDir,
    );
    expect(pol.code).toBe(0);
    const p = JSON.parse(pol.stdout) as {
      decisionPolicy: { pneumonia: { threshold: number; abstainBand: { low: number; high: number } } };
      versionId: string;
      parentVersionId: string;
    };
    // Both derived bundles are registered, each as a child of the version it was derived from: demo → recal → policy.
    const c = JSON.parse(cal.stdout) as { versionId: string; parentVersionId: string };
    expect(p.parentVersionId).toBe(c.versionId);
    const listed = JSON.parse((await runVigil(['model', 'versions', '--json'], dataDir)).stdout) as {
      versions: { versionId: string; parentVersionId: string | null; lineage: { derivedBy: string | null; validationDataSha256: string | null } }[];
    };
    const byId = new Map(listed.versions.map((v) => [v.versionId, v]));
    expect(byId.get(c.versionId)).toMatchObject({
      parentVersionId: c.parentVersionId,
      lineage: { derivedBy: 'vigil calibrate', validationDataSha256: m.calibration.fit.datasetSha256 },
    });
    expect(byId.get(p.versionId)).toMatchObject({ parentVersionId: c.versionId, lineage: { derivedBy: 'vigil policy' } });
    expect(byId.get(c.parentVersionId)).toMatchObject({ parentVersionId: null });
    const { threshold, abstainBand } = p.decisionPolicy.pneumonia;
    expect(abstainBand.low).toBeLessThanOrEqual(threshold);
    expect(abstainBand.high).toBeGreaterThanOrEqual(threshold);
    const again = await runVigil(['calibrate', '--model', DEMO_MODEL_DIR, '--dataset', spec('val'), '--method', 'platt', '--out', recal, ...CHEST_PA], dataDir);
    expect(again.code).toBe(18);
    expect(again.stderr).toMatch(/EVAL_OUTPUT_EXISTS/);

    // The recalibrated bundle is better calibrated on the held-out half than the original.
    const evalOf = async (model: string, out: string) => {
      const r = await runVigil(
        ['evaluate', '--model', model, '--dataset', spec('test:part=1/2'), '--out', join(dir, out), '--replicates', '200', ...CHEST_PA],
        dataDir,
      );
      expect(r.code).toBe(0);
      return (JSON.parse(readFileSync(join(dir, out, 'report.json'), 'utf8')) as { metrics: { overall: { ece: { value: number } } } }).metrics.overall.ece
        .value;
    };
    expect(await evalOf(policy, 'm3')).toBeLessThan((await evalOf(DEMO_MODEL_DIR, 'm2')) / 2);
  });
});

describe('vigil evaluate on images that declare nothing', () => {
  it('says what to declare when the gate refused every image for a value the images do not carry', async () => {
    const folder = join(dir, 'undeclared');
    mkdirSync(folder, { recursive: true });
    const lines = ['path,label'];
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(folder, `${i}.png`), await texturedGreyPng(i + 1));
      lines.push(`${i}.png,${i % 2}`);
    }
    writeFileSync(join(folder, 'manifest.csv'), lines.join('\n') + '\n');
    const run = await runVigil(
      ['evaluate', '--model', DEMO_MODEL_DIR, '--dataset', join(folder, 'manifest.csv'), '--out', join(dir, 'undeclared-out')],
      dataDir,
    );
    expect(run.stderr).toMatch(
      /^vigil: EVAL_INSUFFICIENT_DATA: No case reached the model .*: there is nothing to measure\. The images do not declare their .*patient age \(--patient-age-years N or A-B\): declare what the dataset is with those options, "declared" over the API \(docs\/api\.md\)/,
    );
  });
});
