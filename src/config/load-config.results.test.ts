import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';

describe('results-back configuration', () => {
  it('re-identifies by default, sends nowhere, and names a default patient identifier system', () => {
    const config = loadConfig({}, '/srv');
    expect(config.resultsReidentify).toBe(true);
    expect(config.resultDicomDestination).toBeUndefined();
    expect(config.resultWebhookUrl).toBeUndefined();
    expect(config.fhirPatientIdSystem).toBe('urn:vigil:dicom-patient-id');
    expect(loadConfig({ VIGIL_RESULTS_REIDENTIFY: 'false' }, '/srv').resultsReidentify).toBe(false);
  });

  it('parses the DICOM destination as AE@host:port', () => {
    expect(loadConfig({ VIGIL_RESULT_DICOM_DESTINATION: 'PACS_MAIN@pacs.example.org:104' }, '/srv').resultDicomDestination).toEqual({
      aeTitle: 'PACS_MAIN',
      host: 'pacs.example.org',
      port: 104,
    });
    expect(loadConfig({ VIGIL_RESULT_DICOM_DESTINATION: 'PACS@[::1]:11112' }, '/srv').resultDicomDestination).toEqual({
      aeTitle: 'PACS',
      host: '::1',
      port: 11112,
    });
    for (const bad of ['PACS', 'PACS@host', '@host:104', 'A\\B@host:104', 'PACS@host:0', 'PACS@host:70000', 'SEVENTEEN_CHARS_AE@host:104']) {
      expect(() => loadConfig({ VIGIL_RESULT_DICOM_DESTINATION: bad }, '/srv'), bad).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('VIGIL_RESULT_DICOM_DESTINATION') }),
      );
    }
  });

  it('takes a webhook only with its secret file, over http or https, and never quotes the URL in an error', () => {
    const config = loadConfig({ VIGIL_RESULT_WEBHOOK_URL: 'https://ris.example.org/hook', VIGIL_RESULT_WEBHOOK_SECRET_FILE: 'secrets/hook' }, '/srv');
    expect(config.resultWebhookSecretFile).toBe('/srv/secrets/hook');
    expect(() => loadConfig({ VIGIL_RESULT_WEBHOOK_URL: 'https://ris.example.org/hook' }, '/srv')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => loadConfig({ VIGIL_RESULT_WEBHOOK_SECRET_FILE: 'secrets/hook' }, '/srv')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    let message = '';
    try {
      loadConfig({ VIGIL_RESULT_WEBHOOK_URL: 'ftp://secret-token@ris.example.org/', VIGIL_RESULT_WEBHOOK_SECRET_FILE: 'x' }, '/srv');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('VIGIL_RESULT_WEBHOOK_URL');
    expect(message).not.toContain('secret-token');
  });
});
