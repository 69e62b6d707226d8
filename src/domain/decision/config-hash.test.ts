import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../audit/canonical-json.js';
import { DECISION_SETTINGS, hashDecisionSettings } from './config-hash.js';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const settings = {
  executionProvider: 'cpu',
  intraOpThreads: 2,
  batchSize: 8,
  maxInputBytes: 1_000,
  maxInflateRatio: 100,
  deidOptions: ['retain-device-identity'],
  studyQuietMs: 5_000,
  reviewSampleRate: 0.05,
};

describe('hashDecisionSettings', () => {
  it('hashes the canonical JSON of the decision settings only', () => {
    expect(hashDecisionSettings(settings, sha256Hex)).toBe(sha256Hex(canonicalJson(settings)));
    expect(hashDecisionSettings({ ...settings, httpPort: 9999, databaseUrl: 'postgres://u:secret@db/v' } as typeof settings, sha256Hex)).toBe(
      hashDecisionSettings(settings, sha256Hex),
    );
  });

  it('changes with each decision setting', () => {
    const base = hashDecisionSettings(settings, sha256Hex);
    for (const key of DECISION_SETTINGS) expect(hashDecisionSettings({ ...settings, [key]: 'changed' }, sha256Hex)).not.toBe(base);
  });

  it('does not depend on the order the settings come in', () => {
    const reversed = Object.fromEntries(Object.entries(settings).reverse()) as typeof settings;
    expect(hashDecisionSettings(reversed, sha256Hex)).toBe(hashDecisionSettings(settings, sha256Hex));
  });
});
