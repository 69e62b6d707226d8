import { describe, expect, it } from 'vitest';
import { buildFrame } from '../domain/image/frame-builder.js';
import { standardInputKinds } from './input-kinds.js';

const frame = buildFrame(new Uint8Array(4), 2, 2, { source: 'raster', bitsAllocated: 8, bitsStored: 8 });
const kinds = standardInputKinds({
  dicom: {
    isDicom: (bytes) => bytes[0] === 0x44,
    readInstance: () =>
      Promise.resolve({
        identifiers: { studyInstanceUid: '1.2.3' },
        attributes: { ...frame.attributes, source: 'dicom' as const },
        frameCount: 2,
        decodeFrame: (index: number) => Promise.resolve({ ...frame, frameIndex: index }),
      }),
  },
  raster: { isRaster: (bytes) => bytes[0] === 0x89, readRaster: () => Promise.resolve(frame) },
});

describe('InputKinds', () => {
  it('opens each file by the kind its bytes show, and says which kinds it reads when none does', async () => {
    const dicom = await kinds.open(Uint8Array.of(0x44));
    expect([dicom.kind, dicom.frameCount, dicom.identifiers.studyInstanceUid, kinds.kindOf(Uint8Array.of(0x44))?.carriesIdentifiers]).toEqual([
      'dicom',
      2,
      '1.2.3',
      true,
    ]);
    expect((await dicom.decodeFrame(1)).frameIndex).toBe(1);
    const png = await kinds.open(Uint8Array.of(0x89));
    expect([png.kind, png.frameCount, png.attributes, kinds.kindOf(Uint8Array.of(0x89))?.selfDescribing]).toEqual(['raster', 1, undefined, false]);
    await expect(png.decodeFrame(0)).resolves.toBe(frame);
    await expect(png.decodeFrame(1)).rejects.toMatchObject({ code: 'IMAGE_DECODE_FAILED' });
    await expect(kinds.open(Uint8Array.of(0x00))).rejects.toMatchObject({ code: 'INPUT_FORMAT_UNKNOWN', message: 'The file is none of: DICOM, PNG/JPEG' });
  });
});
