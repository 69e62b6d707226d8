import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../config/load-config.js';
import { canonicalJson } from '../../domain/audit/canonical-json.js';
import { CHANGE_TYPES } from '../../domain/release/release-protocol.js';
import { FsReleaseEvidence } from './fs-release-evidence.js';
import { FsReleaseProtocols } from './fs-release-protocols.js';

const bundled = join(PACKAGE_ROOT, 'config', 'release-protocols');
const dir = mkdtempSync(join(tmpdir(), 'vigil-protocols-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('release protocols as files', () => {
  it('bundles a valid protocol for every change type, each pinning the demo val split', async () => {
    const protocols = new FsReleaseProtocols({ bundled });
    for (const type of CHANGE_TYPES) {
      const { protocol, sha256 } = await protocols.get(type);
      expect(protocol.changeType).toBe(type);
      expect(protocol.validationData['*']).toBe('ec41edfc43b9f15f0dc0af3c29aaef1b16d0e8494115ff7117e9bf98d9432cb9');
      expect(sha256).toBe(createHash('sha256').update(canonicalJson(protocol)).digest('hex'));
    }
  });

  it.skipIf(process.platform !== 'linux')('refuses a site protocol that is a device, at once, rather than reading it (RELEASE_PROTOCOL_INVALID)', async () => {
    const site = join(dir, 'device-site');
    mkdirSync(site);
    symlinkSync('/dev/zero', join(site, 'threshold.json'));
    await expect(new FsReleaseProtocols({ bundled, site }).get('threshold')).rejects.toMatchObject({
      code: 'RELEASE_PROTOCOL_INVALID',
      message: 'The release protocol file is not a regular file (a device, pipe or socket): give a file',
    });
  });

  it('reads a site’s folder first, pins values not formatting, and refuses a malformed or misnamed file', async () => {
    const text = readFileSync(join(bundled, 'threshold.json'), 'utf8');
    const json = JSON.parse(text) as Record<string, unknown>;
    const site = new FsReleaseProtocols({ bundled, site: dir });
    // Reformatted, same values: the same pin.
    writeFileSync(join(dir, 'threshold.json'), JSON.stringify(json));
    expect((await site.get('threshold')).sha256).toBe((await new FsReleaseProtocols({ bundled }).get('threshold')).sha256);
    writeFileSync(join(dir, 'threshold.json'), JSON.stringify({ ...json, criteria: ['sensitivity.ci_low >= 0.95'] }));
    expect((await site.get('threshold')).protocol.criteria).toEqual(['sensitivity.ci_low >= 0.95']);
    expect((await site.get('threshold')).sha256).not.toBe((await new FsReleaseProtocols({ bundled }).get('threshold')).sha256);
    // Types the folder does not hold come from the bundle.
    expect((await site.get('retraining')).protocol.nonInferiority).toEqual({ margin: 0.02 });
    writeFileSync(join(dir, 'new_site.json'), JSON.stringify({ ...json }));
    await expect(site.get('new_site')).rejects.toMatchObject({ code: 'RELEASE_PROTOCOL_INVALID' });
    writeFileSync(
      join(dir, 'new_model.json'),
      JSON.stringify({ ...json, changeType: 'new_model', approvals: [{ role: 'qa-regulatory', meaning: 'reviewed' }] }),
    );
    await expect(site.get('new_model')).rejects.toMatchObject({ code: 'RELEASE_PROTOCOL_INVALID', message: expect.stringMatching(/approved for release/) });
    writeFileSync(join(dir, 'recalibration.json'), '{ not json');
    await expect(site.get('recalibration')).rejects.toMatchObject({ code: 'RELEASE_PROTOCOL_INVALID' });
  });
});

describe('release evidence on disk', () => {
  it('keeps bytes under their SHA-256, once, and refuses altered evidence', async () => {
    const evidence = new FsReleaseEvidence(join(dir, 'releases'));
    const id = 'r-12345678-1234-4234-8234-123456789abc';
    const bytes = new TextEncoder().encode('{"criteria":"passed"}');
    const sha = await evidence.keep(id, bytes);
    expect(sha).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await evidence.keep(id, bytes)).toBe(sha);
    expect(Buffer.from((await evidence.read(id, sha))!).toString()).toBe('{"criteria":"passed"}');
    expect(await evidence.read(id, '0'.repeat(64))).toBeUndefined();
    const folder = await evidence.runFolder(id, 'criteria');
    await evidence.writeRunFile(folder, 'report.json', 'x');
    expect(await evidence.keepRunFile(id, folder, 'report.json')).toBe(createHash('sha256').update('x').digest('hex'));
    writeFileSync(join(dir, 'releases', id, 'evidence', sha), 'changed');
    await expect(evidence.read(id, sha)).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
    await expect(evidence.keep('../elsewhere', bytes)).rejects.toMatchObject({ code: 'RELEASE_NOT_FOUND' });
  });
});
