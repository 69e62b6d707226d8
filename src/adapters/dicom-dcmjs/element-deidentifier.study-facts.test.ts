import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accessionLookupKey } from '../../domain/deidentification/keyed-pseudonyms.js';
import { ElementDeidentifier } from './element-deidentifier.js';
import { buildPart10, el, imageDataset, type ElementSpec } from './internal/test-builders.js';

const digest = (purpose: string, value: string): Uint8Array => createHmac('sha256', 'facts-secret').update(`${purpose}\0${value}`).digest();
const deidentifier = new ElementDeidentifier();
const ACCESSION = 'SYNACC0042';

const instance = (extra: readonly ElementSpec[]) =>
  buildPart10(imageDataset({ rows: 4, columns: 4, bitsAllocated: 8, modality: 'DX', pixelData: el(0x7fe00010, 'OB', new Uint8Array(16)), extra }), {
    transferSyntaxUid: '1.2.840.10008.1.2.1',
  });

describe('ElementDeidentifier: what a study is found by', () => {
  it('keys the Accession Number as received, before the profile empties it, and reports the de-identified date and modality', async () => {
    const bytes = instance([el(0x00080020, 'DA', '20240315'), el(0x00080050, 'SH', ACCESSION)]);
    // The ingest profile's default options: dates shifted by the patient's offset, not removed.
    const options = new Set(['retain-longitudinal-modified-dates'] as const);
    const outcome = await deidentifier.deidentify(bytes, { profile: { name: 'basic', options }, digest, pixelRules: [], headersOnly: true });
    if (outcome.status !== 'deidentified') throw new Error(outcome.status);
    expect(outcome.studyFacts.accessionKey).toBe(accessionLookupKey(digest, ACCESSION));
    expect(outcome.studyFacts.modality).toBe('DX');
    // The date as the stored instance has it: shifted (a per-patient offset, always back).
    expect(outcome.studyFacts.studyDate).toMatch(/^\d{8}$/);
    expect(outcome.studyFacts.studyDate).not.toBe('20240315');
    expect(Buffer.from(outcome.bytes).includes(ACCESSION), 'the number itself is emptied').toBe(false);
    expect(JSON.stringify(outcome.studyFacts)).not.toContain(ACCESSION);
    // Without the option the Basic Profile empties the date: there is none to report.
    const basic = await deidentifier.deidentify(bytes, { profile: { name: 'basic', options: new Set() }, digest, pixelRules: [], headersOnly: true });
    if (basic.status !== 'deidentified') throw new Error(basic.status);
    expect(basic.studyFacts).toEqual({ accessionKey: accessionLookupKey(digest, ACCESSION), modality: 'DX' });
  });

  it('reports nothing it does not have', async () => {
    const outcome = await deidentifier.deidentify(instance([]), { profile: { name: 'basic', options: new Set() }, digest, pixelRules: [], headersOnly: true });
    if (outcome.status !== 'deidentified') throw new Error(outcome.status);
    expect(outcome.studyFacts).toEqual({ modality: 'DX' });
  });
});
