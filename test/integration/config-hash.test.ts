import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { hashConfig } from '../../src/main.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

const hashOf = (env: Record<string, string>) => hashConfig(loadConfig({ VIGIL_DATA_DIR: '/tmp/vigil-hash', ...env }, REPO_ROOT));

describe('the configuration hash recorded with every decision', () => {
  it('changes with a setting that changes decisions', () => {
    const base = hashOf({});
    expect(hashOf({ VIGIL_DEID_OPTIONS: 'retain-device-identity' })).not.toBe(base);
    expect(hashOf({ VIGIL_STUDY_QUIET_MS: '5000' })).not.toBe(base);
    expect(hashOf({ VIGIL_REVIEW_SAMPLE_RATE: '0.2' })).not.toBe(base);
  });

  it('ignores ports, sessions, folders (the model is recorded by its own hash) and the database address', () => {
    const base = hashOf({});
    expect(hashOf({ VIGIL_HTTP_PORT: '9999', VIGIL_DICOM_PORT: '4242', VIGIL_SESSION_IDLE_MS: '60000', VIGIL_LOG_LEVEL: 'debug' })).toBe(base);
    expect(hashOf({ VIGIL_DATA_DIR: '/tmp/elsewhere', VIGIL_MODEL_DIR: '/tmp/model-copy' })).toBe(base);
    expect(hashOf({ VIGIL_DATABASE_URL: 'postgres://user:secret@db/vigil' })).toBe(base);
  });
});
