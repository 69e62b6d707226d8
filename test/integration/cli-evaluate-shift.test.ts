import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runVigil } from '../helpers/run-vigil.js';
import { DEMO_MODEL_DIR, hasPneumoniaMnist, PNEUMONIA_NPZ } from '../helpers/sample-data.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-shift-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ShiftReport {
  shift:
    | {
        status: 'compared';
        shifted: boolean;
        verdict: string;
        sameDataAsReference: boolean;
        reference: { dataset: string; images: number };
        rows: { name: string; pValue: number; adjustedPValue: number | null; psi: number; differs: boolean }[];
      }
    | { status: 'not_compared'; reason: string };
}

const CHEST_PA = ['--modality', 'CR', '--body-part', 'CHEST', '--view', 'PA', '--patient-age-years', '1-5'];
const spec = (split: string): string => `medmnist:${PNEUMONIA_NPZ}:${split}`;

async function evaluate(model: string, split: string, out: string): Promise<ShiftReport['shift']> {
  const run = await runVigil(['evaluate', '--model', model, '--dataset', spec(split), '--out', join(dir, out), '--replicates', '200', ...CHEST_PA], dataDir);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const html = readFileSync(join(dir, out, 'report.html'), 'utf8');
  expect(html).toContain("Dataset shift against the model's reference");
  return (JSON.parse(readFileSync(join(dir, out, 'report.json'), 'utf8')) as ShiftReport).shift;
}

describe.skipIf(!hasPneumoniaMnist)('dataset shift at evaluation time on PneumoniaMNIST (skipped: needs ../shared/data/medmnist/pneumoniamnist.npz)', () => {
  it("flags the test split against the demo bundle's reference (PneumoniaMNIST val), and draws the PSI chart", async () => {
    const shift = await evaluate(DEMO_MODEL_DIR, 'test', 'test');
    if (shift.status !== 'compared') throw new Error(shift.reason);
    expect(shift.reference.images).toBe(524);
    expect(shift.shifted).toBe(true);
    expect(shift.verdict).toMatch(/^Differs from the reference in/);
    // The calibrated probabilities moved most: the shift behind the specificity drop on test.
    const probability = shift.rows.find((r) => r.name === 'probability')!;
    expect(probability.differs).toBe(true);
    expect(probability.adjustedPValue!).toBeLessThan(0.001);
    // Five metric plots, the PSI chart, and reference-against-evaluated bins for each differing variable (at most 3).
    const html = readFileSync(join(dir, 'test', 'report.html'), 'utf8');
    const differing = shift.rows.filter((r) => r.differs).length;
    expect((html.match(/<svg/g) ?? []).length).toBe(6 + Math.min(3, differing));
    expect(html).toContain('calibrated probability: reference against evaluated');
  });

  it('does not flag val: against its own reference it says so, and one random half against the other finds nothing', async () => {
    const own = await evaluate(DEMO_MODEL_DIR, 'val', 'val');
    if (own.status !== 'compared') throw new Error(own.reason);
    expect(own.shifted).toBe(false);
    expect(own.sameDataAsReference).toBe(true);

    // A reference from one label-stratified half of val, the other half evaluated against it.
    const halfBundle = join(dir, 'half-reference');
    const ref = await runVigil(['model', 'reference', '--model', DEMO_MODEL_DIR, '--dataset', spec('val:part=0/2'), '--out', halfBundle, ...CHEST_PA], dataDir);
    expect(ref.stderr).toBe('');
    expect(ref.code).toBe(0);
    const half = await evaluate(halfBundle, 'val:part=1/2', 'half');
    if (half.status !== 'compared') throw new Error(half.reason);
    expect(half.sameDataAsReference).toBe(false);
    expect(half.shifted).toBe(false);
    expect(half.verdict).toMatch(/^No shift detected/);
    // The same half-reference still flags test.
    const test = await evaluate(halfBundle, 'test', 'test-half');
    if (test.status !== 'compared') throw new Error(test.reason);
    expect(test.shifted).toBe(true);
  });

  it('keeps comparing images, but not outputs, for a bundle derived with another calibration', async () => {
    const recal = join(dir, 'recal');
    const cal = await runVigil(
      ['calibrate', '--model', DEMO_MODEL_DIR, '--dataset', spec('test:part=0/2'), '--method', 'platt', '--out', recal, ...CHEST_PA],
      dataDir,
    );
    expect(cal.code).toBe(0);
    const shift = await evaluate(recal, 'test:part=1/2', 'recal');
    if (shift.status !== 'compared') throw new Error(shift.reason);
    expect((shift as { outputsNotCompared?: string }).outputsNotCompared).toMatch(/calibration or decision policy/);
    expect(shift.rows.some((r) => r.name === 'probability')).toBe(false);
    expect(shift.rows.some((r) => r.name === 'std')).toBe(true);
  });

  it('says the comparison was not possible, and why, for a bundle without a reference', async () => {
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    copyFileSync(join(DEMO_MODEL_DIR, 'model.onnx'), join(bare, 'model.onnx'));
    const manifest = JSON.parse(readFileSync(join(DEMO_MODEL_DIR, 'vigil-model.json'), 'utf8')) as Record<string, unknown>;
    delete manifest.referenceDistribution;
    writeFileSync(join(bare, 'vigil-model.json'), JSON.stringify(manifest));
    const shift = await evaluate(bare, 'test:part=0/2', 'bare');
    expect(shift.status).toBe('not_compared');
    if (shift.status === 'not_compared') expect(shift.reason).toMatch(/no reference distribution.*vigil model reference/);
  });
});
