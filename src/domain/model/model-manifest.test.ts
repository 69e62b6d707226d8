import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelManifest } from './model-bundle.js';
import { unknownValueVerdicts, type IntendedUse } from './model-manifest.js';

// The demo bundle's manifest, read as the loader reads it (this test reads a file of the repository, not I/O of the domain).
const demo = JSON.parse(readFileSync(new URL('../../../models/pneumonia-demo/vigil-model.json', import.meta.url), 'utf8')) as {
  intendedUse: Record<string, unknown>;
};
const withUse = (changes: Record<string, unknown>, drop: readonly string[] = []) => {
  const use = { ...demo.intendedUse, ...changes };
  for (const key of drop) delete use[key];
  return { ...demo, intendedUse: use };
};

describe('intendedUse: what an unknown value is', () => {
  it('the demo model rejects an unknown age and warns about an unknown view, modality or body part', () => {
    expect(unknownValueVerdicts(parseModelManifest(demo).intendedUse)).toEqual({ modality: 'warn', bodyPart: 'warn', view: 'warn', patientAge: 'reject' });
  });

  it('reads manifests written before whenUnknown (backward compatible): whenUndeclared for every check, requireKnownAge for the age', () => {
    const old = parseModelManifest(withUse({ whenUndeclared: 'reject' }, ['whenUnknown'])).intendedUse;
    expect(unknownValueVerdicts(old)).toEqual({ modality: 'reject', bodyPart: 'reject', view: 'reject', patientAge: 'reject' });
    const oldWarn = parseModelManifest(withUse({ whenUndeclared: 'warn', requireKnownAge: true }, ['whenUnknown'])).intendedUse;
    expect(unknownValueVerdicts(oldWarn)).toEqual({ modality: 'warn', bodyPart: 'warn', view: 'warn', patientAge: 'reject' });
  });

  it('never makes an unknown value a pass: whenUndeclared "pass" is read as "warn", and the default is "warn"', () => {
    const legacyPass = parseModelManifest(withUse({ whenUndeclared: 'pass' }, ['whenUnknown'])).intendedUse;
    expect(Object.values(unknownValueVerdicts(legacyPass))).toEqual(['warn', 'warn', 'warn', 'warn']);
    const bare = parseModelManifest(withUse({}, ['whenUnknown', 'whenUndeclared'])).intendedUse;
    expect(Object.values(unknownValueVerdicts(bare))).toEqual(['warn', 'warn', 'warn', 'warn']);
  });

  it('lets each check override the default', () => {
    const use = { whenUndeclared: 'reject', whenUnknown: { view: 'warn' } } as unknown as IntendedUse;
    expect(unknownValueVerdicts(use)).toEqual({ modality: 'reject', bodyPart: 'reject', view: 'warn', patientAge: 'reject' });
  });

  it('refuses "pass" per check and unknown check names (a typo must not silently disable a check)', () => {
    expect(() => parseModelManifest(withUse({ whenUnknown: { patientAge: 'pass' } }))).toThrow(/intendedUse\.whenUnknown\.patientAge/);
    expect(() => parseModelManifest(withUse({ whenUnknown: { patient_age: 'reject' } }))).toThrow(/intendedUse\.whenUnknown/);
  });
});

describe('text people read is held to the human-text rule, as written', () => {
  const manifest = demo as unknown as { name: string; description: string; outputs: { findings: { label: string }[] }[] } & Record<string, unknown>;
  const withFindingLabel = (label: string) => ({
    ...manifest,
    outputs: manifest.outputs.map((o) => ({ ...o, findings: o.findings.map((f) => ({ ...f, label })) })),
    decisionPolicy: { [label]: (manifest.decisionPolicy as Record<string, unknown>).pneumonia },
  });

  it('accepts the demo manifest, and a description of several lines', () => {
    expect(parseModelManifest(demo).name).toBe(manifest.name);
    expect(parseModelManifest({ ...manifest, description: 'Line one.\nLine two.' }).description).toBe('Line one.\nLine two.');
  });

  it.each([
    ['an ANSI escape in the name', { name: 'Pneumonia \u001b[2Jdemo' }, /name: one line, no control, bidi or invisible formatting characters/],
    [
      'a bidi override in the description',
      { description: 'safe \u202e fig.' },
      /description: no control, bidi or invisible formatting characters \(line breaks and tabs allowed\)/,
    ],
    ['a line break in the name', { name: 'Pneumonia\ndemo' }, /name: one line/],
    [
      'a zero-width space in a contraindication',
      { intendedUse: { ...(demo.intendedUse as object), notFor: ['adults\u200b'] } },
      /intendedUse\.notFor\.0: one line/,
    ],
    ['surrounding spaces in the name', { name: ' Pneumonia demo' }, /name: no leading or trailing white space/],
    ['a 201-character name', { name: 'x'.repeat(201) }, /name: at most 200 characters/],
  ])('refuses %s (MODEL_MANIFEST_INVALID, naming the field)', (_, change, message) => {
    expect(() => parseModelManifest({ ...manifest, ...change })).toThrow(message);
  });

  it('refuses a finding label with a control character or surrounding spaces (the policy key must match it exactly)', () => {
    expect(parseModelManifest(withFindingLabel('consolidation')).outputs[0]?.findings[0]?.label).toBe('consolidation');
    expect(() => parseModelManifest(withFindingLabel('pneu\u0007monia'))).toThrow(/outputs\.0\.findings\.0\.label: one line/);
    expect(() => parseModelManifest(withFindingLabel('pneumonia '))).toThrow(/outputs\.0\.findings\.0\.label: no leading or trailing white space/);
  });
});

describe('embedding: the output monitoring watches', () => {
  it('is optional, and names an output other than the findings’ with a size of 1 to 4096', () => {
    expect(parseModelManifest(demo).embedding).toEqual({ output: 'embedding', dimension: 64 });
    const { embedding: _embedding, ...without } = demo as typeof demo & { embedding?: unknown };
    expect(parseModelManifest(without).embedding).toBeUndefined();
    const refused = (embedding: unknown): string => {
      try {
        parseModelManifest({ ...demo, embedding });
      } catch (e) {
        return (e as { code: string; message: string }).code + ' ' + (e as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ output: 'logit', dimension: 1 })).toMatch(/MODEL_MANIFEST_INVALID.*embedding\.output/);
    expect(refused({ output: 'embedding', dimension: 0 })).toMatch(/MODEL_MANIFEST_INVALID.*embedding\.dimension/);
    expect(refused({ output: 'embedding', dimension: 64, pooling: 'mean' })).toMatch(/MODEL_MANIFEST_INVALID/);
  });
});
