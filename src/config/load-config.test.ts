import { describe, expect, it } from 'vitest';
import { PlatformError } from '../domain/errors.js';
import { loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('has a default for everything and resolves paths against the working directory', () => {
    const config = loadConfig({}, '/srv/site');
    expect(config).toMatchObject({ dataDir: '/srv/site/vigil-data', logLevel: 'warn', batchSize: 16, executionProvider: 'cpu', intraOpThreads: 0 });
    expect(config.modelDir).toMatch(/models\/pneumonia-demo$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads VIGIL_* variables', () => {
    const config = loadConfig({ VIGIL_DATA_DIR: 'd', VIGIL_BATCH_SIZE: '4', VIGIL_LOG_LEVEL: 'debug', VIGIL_EXECUTION_PROVIDER: 'cuda' }, '/x');
    expect(config).toMatchObject({ dataDir: '/x/d', batchSize: 4, logLevel: 'debug', executionProvider: 'cuda' });
  });

  it('reads the inflate ratio (default 100) and refuses one below 1', () => {
    expect(loadConfig({}, '/x').maxInflateRatio).toBe(100);
    expect(loadConfig({ VIGIL_MAX_INFLATE_RATIO: '250' }, '/x').maxInflateRatio).toBe(250);
    for (const bad of ['0.5', '-3', 'lots'])
      expect(() => loadConfig({ VIGIL_MAX_INFLATE_RATIO: bad }, '/x')).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('VIGIL_MAX_INFLATE_RATIO') }),
      );
  });

  it('names the variable, never the value, when one is wrong', () => {
    const secretLooking = 'abc-very-private-value';
    let error: unknown;
    try {
      loadConfig({ VIGIL_BATCH_SIZE: secretLooking, VIGIL_LOG_LEVEL: secretLooking }, '/x');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).code).toBe('CONFIG_INVALID');
    expect((error as PlatformError).message).toContain('VIGIL_BATCH_SIZE');
    expect((error as PlatformError).message).toContain('VIGIL_LOG_LEVEL');
    expect((error as PlatformError).message).not.toContain(secretLooking);
  });

  it('bounds DICOM handshakes and idle associations in seconds, and gives one host a share of the associations', () => {
    expect(loadConfig({}, '/x')).toMatchObject({
      dicomAssociateTimeoutMs: 5_000,
      dicomIdleTimeoutMs: 30_000,
      dicomMaxAssociations: 64,
      dicomMaxAssociationsPerHost: 16,
    });
    expect(
      loadConfig({ VIGIL_DICOM_ASSOCIATE_TIMEOUT_MS: '2000', VIGIL_DICOM_IDLE_TIMEOUT_MS: '10000', VIGIL_DICOM_MAX_ASSOCIATIONS_PER_HOST: '4' }, '/x'),
    ).toMatchObject({ dicomAssociateTimeoutMs: 2_000, dicomIdleTimeoutMs: 10_000, dicomMaxAssociationsPerHost: 4 });
    expect(() => loadConfig({ VIGIL_DICOM_ASSOCIATE_TIMEOUT_MS: '0' }, '/x')).toThrow(/VIGIL_DICOM_ASSOCIATE_TIMEOUT_MS/);
  });

  it('bounds an HTTP request in time by default (30 s headers and idle, 60 s + 4 KiB/s body), each setting overridable and refused below 100 ms', () => {
    expect(loadConfig({}, '/x')).toMatchObject({
      httpHeadersTimeoutMs: 30_000,
      httpIdleTimeoutMs: 30_000,
      httpBodyTimeoutMs: 60_000,
      httpBodyMinBytesPerSecond: 4096,
    });
    expect(
      loadConfig(
        {
          VIGIL_HTTP_HEADERS_TIMEOUT_MS: '5000',
          VIGIL_HTTP_IDLE_TIMEOUT_MS: '10000',
          VIGIL_HTTP_BODY_TIMEOUT_MS: '120000',
          VIGIL_HTTP_BODY_MIN_BYTES_PER_SECOND: '1024',
        },
        '/x',
      ),
    ).toMatchObject({ httpHeadersTimeoutMs: 5_000, httpIdleTimeoutMs: 10_000, httpBodyTimeoutMs: 120_000, httpBodyMinBytesPerSecond: 1024 });
    for (const name of ['VIGIL_HTTP_HEADERS_TIMEOUT_MS', 'VIGIL_HTTP_IDLE_TIMEOUT_MS', 'VIGIL_HTTP_BODY_TIMEOUT_MS']) {
      expect(() => loadConfig({ [name]: '99' }, '/x')).toThrow(new RegExp(name));
    }
    expect(() => loadConfig({ VIGIL_HTTP_BODY_MIN_BYTES_PER_SECOND: '0' }, '/x')).toThrow(/VIGIL_HTTP_BODY_MIN_BYTES_PER_SECOND/);
  });

  it('uses SQLite unless VIGIL_DATABASE_URL names a PostgreSQL server, whose URL (and password) never reaches an error', () => {
    expect(loadConfig({}, '/x').databaseUrl).toBeUndefined();
    const url = 'postgres://vigil:s3cret-pw@db.internal:5432/vigil';
    expect(loadConfig({ VIGIL_DATABASE_URL: url }, '/x').databaseUrl).toBe(url);
    let error: unknown;
    try {
      loadConfig({ VIGIL_DATABASE_URL: 'mysql://vigil:s3cret-pw@db' }, '/x');
    } catch (e) {
      error = e;
    }
    expect((error as PlatformError).message).toContain('VIGIL_DATABASE_URL');
    expect((error as PlatformError).message).not.toContain('s3cret-pw');
  });
});
