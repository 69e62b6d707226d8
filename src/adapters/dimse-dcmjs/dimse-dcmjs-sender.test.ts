import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/dicom-peers.js';
import { buildResultSr } from '../../domain/results/result-sr.js';
import { writeResultSr } from '../dicom-dcmjs/write-result-sr.js';
import { DimseDcmjsSender } from './dimse-dcmjs-sender.js';

const hasStorescp = ['/usr/bin/storescp', '/usr/local/bin/storescp'].some((p) => existsSync(p));

const source = { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5', sopClassUid: '1.2.840.10008.5.1.4.1.1.1' };
const sr = writeResultSr(
  buildResultSr(
    {
      caseId: 'c-1',
      judgedAt: '2024-02-01T08:30:15.123Z',
      model: { id: 'pneumonia-demo', version: '1.0.0', sha256: 'ab'.repeat(32) },
      vigilVersion: '0.1.0',
      studyInstanceUid: '1.2.3',
      study: { patientId: 'SYNTH-PID-0001' },
      evidence: [source],
      images: [{ source, outputs: [{ finding: 'pneumonia', probability: 0.9, decision: 'positive' }] }],
      notJudged: 0,
      reidentified: false,
      reportCaseId: 'c-1',
    },
    { sopInstanceUid: '2.25.123456789', seriesInstanceUid: '2.25.987654321', deviceObserverUid: '2.25.1' },
  ),
);

describe.skipIf(!hasStorescp)('DimseDcmjsSender: C-STORE SCU (needs DCMTK storescp)', () => {
  let dir: string;
  let port: number;
  let storescp: ChildProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-scu-'));
    port = await freePort();
  });
  afterAll(() => {
    storescp?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with RESULT_DELIVERY_FAILED when nobody listens, then delivers once the destination is up', async () => {
    const sender = new DimseDcmjsSender({ destination: { aeTitle: 'PACS', host: '127.0.0.1', port }, callingAeTitle: 'VIGIL', timeoutMs: 5_000 });
    await expect(sender.send(sr)).rejects.toMatchObject({ code: 'RESULT_DELIVERY_FAILED' });

    storescp = spawn('storescp', ['-aet', 'PACS', '--output-directory', dir, String(port)], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await sender.send(sr);
        break;
      } catch (error) {
        // storescp takes a moment to listen.
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(readdirSync(dir)).toEqual(['SRc.2.25.123456789']);
    // A resend is the same instance: the destination sees one SOP Instance UID.
    await sender.send(sr);
    expect(readdirSync(dir)).toEqual(['SRc.2.25.123456789']);
  }, 30_000);
});
