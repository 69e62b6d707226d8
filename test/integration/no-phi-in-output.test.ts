import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPart10, el, imageDataset, SYNTHETIC_IDENTIFIERS, sampleBytes } from '../../src/adapters/dicom-dcmjs/internal/test-builders.js';
import { jsonLines, runVigil } from '../helpers/run-vigil.js';
import { DICOM_SAMPLES, hasDicomSamples } from '../helpers/sample-data.js';

const PLANTED = {
  birthDate: '19700101',
  institution: 'SYNTHETIC GENERAL HOSPITAL',
  referrer: 'REFERRER^SYNTHETIC',
  accession: 'SYNTHACC42',
  otherId: 'SYNTH-OTHER-77',
};

/** A CR chest (or CT) image carrying fake PHI everywhere a sender might put it. */
function syntheticStudy(modality: string, seed: number): Uint8Array {
  const rows = 64;
  const columns = 64;
  const pixels = Array.from({ length: rows * columns }, (_, i) => (((i * 7919 + seed * 131) % 997) + (i % columns) * 40) % 4096);
  return buildPart10(
    imageDataset({
      rows,
      columns,
      bitsAllocated: 16,
      bitsStored: 12,
      modality,
      pixelData: el(0x7fe00010, 'OW', sampleBytes(pixels, 16)),
      extra: [
        el(0x00080050, 'SH', PLANTED.accession),
        el(0x00080080, 'LO', PLANTED.institution),
        el(0x00080090, 'PN', PLANTED.referrer),
        el(0x00100030, 'DA', PLANTED.birthDate),
        el(0x00101000, 'LO', PLANTED.otherId),
        el(0x00180015, 'CS', modality === 'CR' ? 'CHEST' : 'HEAD'),
        // A frontal film of a 3-year-old (studied 1973): what the paediatric demo model decides, so the decision path runs.
        el(0x00080020, 'DA', '19730601'),
        el(0x00185101, 'CS', 'PA'),
      ],
    }),
    { transferSyntaxUid: '1.2.840.10008.1.2.1' },
  );
}

const work = mkdtempSync(join(tmpdir(), 'vigil-phi-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('no patient identifier reaches a log line, an error, the output or the store', () => {
  it('runs predict, verify and prove on files with planted fake PHI and finds none of it anywhere', async () => {
    const inputs = join(work, 'in');
    const dataDir = join(work, 'data');
    mkdirSync(inputs);
    const cr = syntheticStudy('CR', 1);
    writeFileSync(join(inputs, 'x1.dcm'), cr);
    writeFileSync(join(inputs, 'x2.dcm'), syntheticStudy('CT', 2));
    writeFileSync(join(inputs, 'x3.dcm'), cr.subarray(0, cr.length - 1000)); // truncated: the error path
    const forbidden: string[] = [
      SYNTHETIC_IDENTIFIERS.patientName,
      'SYNTHETIC^',
      SYNTHETIC_IDENTIFIERS.patientId,
      SYNTHETIC_IDENTIFIERS.studyInstanceUid,
      SYNTHETIC_IDENTIFIERS.seriesInstanceUid,
      SYNTHETIC_IDENTIFIERS.sopInstanceUid,
      ...Object.values(PLANTED),
    ];
    if (hasDicomSamples) {
      copyFileSync(join(DICOM_SAMPLES, 'sc_fake_phi_simpson.dcm'), join(inputs, 'x4.dcm'));
      forbidden.push('SIMPSON', 'HOMER');
    }

    // The needles are really in the inputs, so finding none of them in the outputs means something.
    const inputText = readdirSync(inputs)
      .map((f) => readFileSync(join(inputs, f)).toString('latin1'))
      .join('');
    for (const needle of forbidden) expect(inputText.includes(needle), `planted "${needle}"`).toBe(true);

    const runs = [
      await runVigil(['predict', inputs, '--json'], dataDir),
      await runVigil(['predict', inputs], dataDir),
      await runVigil(['audit', 'verify', '--json'], dataDir),
    ];
    const firstId = jsonLines<{ auditId: string | null }>(runs[0]?.stdout ?? '').find((l) => l.auditId !== null)?.auditId as string;
    runs.push(await runVigil(['audit', 'prove', firstId, '--json'], dataDir));

    const statuses = jsonLines<{ status: string; error?: { code: string } }>(runs[0]?.stdout ?? '').map((l) => l.error?.code ?? l.status);
    expect(statuses.slice(0, 3)).toEqual(['decided', 'rejected', 'DICOM_TRUNCATED']);
    const texts = runs.flatMap((r) => [r.stdout, r.stderr, r.logs]);
    expect(runs[0]?.logs.length, 'the debug log was captured').toBeGreaterThan(0);
    const stored = readdirSync(dataDir)
      .filter((f) => f.startsWith('vigil.sqlite'))
      .map((f) => readFileSync(join(dataDir, f)).toString('latin1'));
    expect(stored.length).toBeGreaterThan(0);
    for (const needle of forbidden) {
      for (const text of [...texts, ...stored]) expect(text.includes(needle), `found planted "${needle}"`).toBe(false);
    }
  });
});
