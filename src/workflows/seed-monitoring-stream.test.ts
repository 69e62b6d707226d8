import { describe, expect, it } from 'vitest';
import type { StudyDeclaration } from '../ports/instance-store.js';
import type { Logger } from '../ports/logger.js';
import type { UploadResult } from './ingest-upload.js';
import { DEMO_SHIFT, sendMonitoringStream, type MonitoringStreamDependencies } from './seed-monitoring-stream.js';

const lines: string[] = [];
const logger: Logger = {
  info: (fields, message) => lines.push(JSON.stringify({ fields, message })),
  warn: (fields, message) => lines.push(JSON.stringify({ fields, message })),
  error: (fields, message) => lines.push(JSON.stringify({ fields, message })),
  debug: () => undefined,
};

/** Three 2×2 "val" images; the PNG encoder is the identity (the bytes show what was sent). */
function setUp(overrides: Partial<MonitoringStreamDependencies> = {}) {
  const sent: { declaration: StudyDeclaration; pixels: number[] }[] = [];
  const images = [Uint8Array.from([10, 20, 30, 40]), Uint8Array.from([100, 100, 200, 200]), Uint8Array.from([0, 0, 0, 255])];
  const deps: MonitoringStreamDependencies = {
    source: () => Promise.resolve({ images, width: 2, height: 2 }),
    encodePng: (pixels) => Promise.resolve(pixels),
    uploadImages: (declaration, files) => {
      sent.push({ declaration, pixels: Array.from(files[0]!) });
      return Promise.resolve({ studyKey: `k${sent.length}`, stored: 1, duplicates: 0, failed: [], parts: [] } satisfies UploadResult);
    },
    declared: { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA' },
    inDistribution: 5,
    shifted: 2,
    signal: new AbortController().signal,
    now: () => 0,
    deadlineMs: 1,
    logger,
    ...overrides,
  };
  return { deps, sent, images };
}

describe('sendMonitoringStream', () => {
  it('sends the in-distribution images (cycled) from the demo device, then contrast-shifted ones from another device, one study each', async () => {
    const { deps, sent, images } = setUp();
    expect(await sendMonitoringStream(deps)).toEqual({ status: 'sent', inDistribution: 5, shifted: 2, failed: 0 });
    expect(sent.map((s) => s.declaration.device)).toEqual([...Array(5).fill('pneumoniamnist'), DEMO_SHIFT.device, DEMO_SHIFT.device]);
    expect(sent.every((s) => s.declaration.site === 'demo-site' && s.declaration.modality === 'CR')).toBe(true);
    expect(sent.slice(0, 5).map((s) => s.pixels)).toEqual([0, 1, 2, 0, 1].map((i) => Array.from(images[i]!)));
    // Contrast × 0.7 about the mean (25): 10 → 14.5 → 15 (rounded), 40 → 35.5 → 36.
    expect(sent[5]!.pixels).toEqual([15, 22, 29, 36]);
    expect(sent[6]!.pixels).toEqual([115, 115, 185, 185]);
    // Counts in the log, nothing of the images.
    expect(lines.join('\n')).not.toMatch(/pneumoniamnist|portable/);
  });

  it('stops when the server closes, and at its deadline', async () => {
    const controller = new AbortController();
    const aborted = setUp({ signal: controller.signal });
    const upload = aborted.deps.uploadImages;
    const deps = {
      ...aborted.deps,
      uploadImages: async (d: StudyDeclaration, f: readonly Uint8Array[]) => {
        const r = await upload(d, f);
        if (aborted.sent.length === 3) controller.abort();
        return r;
      },
    };
    expect(await sendMonitoringStream(deps)).toEqual({ status: 'stopped', reason: 'aborted', inDistribution: 3, shifted: 0, failed: 0 });
    let t = 0;
    const late = setUp({ now: () => t++, deadlineMs: 6 });
    expect(await sendMonitoringStream(late.deps)).toEqual({ status: 'stopped', reason: 'deadline', inDistribution: 5, shifted: 1, failed: 0 });
  });

  it('counts an upload the ingest refused as failed', async () => {
    const { deps } = setUp({
      inDistribution: 2,
      shifted: 1,
      uploadImages: () =>
        Promise.resolve({ studyKey: 'k', stored: 0, duplicates: 0, failed: [{ index: 0, code: 'INPUT_FORMAT_UNKNOWN' }], parts: [] } as UploadResult),
    });
    expect(await sendMonitoringStream(deps)).toEqual({ status: 'sent', inDistribution: 0, shifted: 0, failed: 3 });
  });
});
