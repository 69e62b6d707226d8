import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';

describe('VIGIL_DEID_OPTIONS', () => {
  it('defaults to keeping device identity and modified dates (needed for stratified evaluation and drift)', () => {
    expect(loadConfig({}, '/srv').deidOptions).toEqual(['retain-device-identity', 'retain-longitudinal-modified-dates']);
  });

  it('takes a comma-separated list of option names, trimmed and de-duplicated', () => {
    expect(loadConfig({ VIGIL_DEID_OPTIONS: ' retain-uids, clean-descriptors,retain-uids ' }, '/srv').deidOptions).toEqual([
      'retain-uids',
      'clean-descriptors',
    ]);
  });

  it('refuses an unknown option, naming the variable and not the value', () => {
    expect(() => loadConfig({ VIGIL_DEID_OPTIONS: 'keep-everything' }, '/srv')).toThrow(/VIGIL_DEID_OPTIONS/);
  });
});
