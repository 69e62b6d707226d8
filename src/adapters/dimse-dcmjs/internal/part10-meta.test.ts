import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPart10Header, isValidUid, VIGIL_IMPLEMENTATION_CLASS_UID } from './part10-meta.js';
import { readPart10 } from './test-raw-scu.js';

const fields = {
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  sopInstanceUid: '1.2.3.44',
  transferSyntaxUid: '1.2.840.10008.1.2.1.99',
  sendingAeTitle: 'CT1',
  receivingAeTitle: 'VIGIL',
};

describe('buildPart10Header', () => {
  it('writes preamble, DICM and an even-padded group 0002 with a correct group length', () => {
    const header = buildPart10Header(fields);
    expect(header.subarray(0, 128).every((byte) => byte === 0)).toBe(true);
    const info = readPart10(header);
    expect(info).toMatchObject({ sopClassUid: fields.sopClassUid, sopInstanceUid: fields.sopInstanceUid, transferSyntaxUid: fields.transferSyntaxUid });
    expect(info.datasetOffset).toBe(header.length);
    expect(header.readUInt32LE(140)).toBe(header.length - 144);
    expect(info.meta.get('00020001')).toEqual(Buffer.from([0, 1]));
    expect(info.meta.get('00020012')?.toString('latin1').replace(/\0$/, '')).toBe(VIGIL_IMPLEMENTATION_CLASS_UID);
    expect(info.meta.get('00020017')?.toString('latin1')).toBe('CT1 ');
    expect(info.meta.get('00020018')?.toString('latin1')).toBe('VIGIL ');
    for (const value of info.meta.values()) expect(value.length % 2).toBe(0);
  });

  it.skipIf(spawnSync('dcmdump', ['--version']).status !== 0)('is read by DCMTK dcmdump without warnings (needs dcmtk)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-meta-'));
    try {
      const path = join(dir, 'x.dcm');
      // An empty Explicit VR LE data set after the header.
      writeFileSync(path, buildPart10Header({ ...fields, transferSyntaxUid: '1.2.840.10008.1.2.1' }));
      const dump = spawnSync('dcmdump', ['-M', path], { encoding: 'utf8' });
      expect(dump.status, dump.stderr).toBe(0);
      expect(dump.stderr).toBe('');
      expect(dump.stdout).toMatch(/\(0002,0010\) UI =LittleEndianExplicit/);
      expect(dump.stdout).toMatch(/\(0002,0017\) AE \[CT1\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('isValidUid', () => {
  it('follows PS3.5 9.1', () => {
    expect(['1.2.840.10008.1.2', '0.1', '2.25.0', VIGIL_IMPLEMENTATION_CLASS_UID].every(isValidUid)).toBe(true);
    expect(['', '1..2', '1.02', '.1', '1.', 'a.b', '1.2 ', '1'.repeat(65)].some(isValidUid)).toBe(false);
  });
});
