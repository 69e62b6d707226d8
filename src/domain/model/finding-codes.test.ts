import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelManifest } from './model-bundle.js';
import { findingCodesOf } from './finding-codes.js';

// The demo bundle's manifest, read as the loader reads it (this test reads a file of the repository, not I/O of the domain).
const demo = parseModelManifest(JSON.parse(readFileSync(new URL('../../../models/pneumonia-demo/vigil-model.json', import.meta.url), 'utf8')));

describe('findingCodesOf', () => {
  it("gives the manifest's codes by finding label for the model it describes", () => {
    expect(findingCodesOf(demo, { sha256: demo.model.sha256 })).toEqual(
      new Map([['pneumonia', { system: 'http://snomed.info/sct', code: '233604007', display: 'Pneumonia' }]]),
    );
  });

  it('gives none for a case judged by another model', () => {
    expect(findingCodesOf(demo, { sha256: '0'.repeat(64) }).size).toBe(0);
  });

  it('leaves out findings without a code', () => {
    const output = demo.outputs[0];
    if (output === undefined) throw new Error('the demo manifest has an output');
    const uncoded = { ...demo, outputs: [{ ...output, findings: output.findings.map(({ code: _code, ...f }) => f) }] };
    expect(findingCodesOf(uncoded, { sha256: demo.model.sha256 }).size).toBe(0);
  });
});
