import { describe, expect, it } from 'vitest';
import { PlatformError, isPlatformError } from '../domain/errors.js';
import type { UploadResult } from './ingest-upload.js';
import type { StoredPart } from './store-instances.js';
import { uploadFiles, type UploadFilesDependencies, type UploadedFile } from './upload-files.js';

const png = (n: number): UploadedFile => ({ bytes: new Uint8Array([0x89, n]), isDicom: false });
const dicom = (n: number): UploadedFile => ({ bytes: new Uint8Array([0x44, n]), isDicom: true });
const identity = { sopClassUid: '1.2.840.10008.5.1.4.1.1.1', sopInstanceUid: '1.2.3' };

/**
 * The two ingests are the boundary here (each has its own tests, and test/integration/http-api.test.ts
 * sends real uploads): they answer per file by the second byte, and record what they were given.
 */
function ingests(): UploadFilesDependencies & { readonly calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    uploadImages: (_declaration, images, sender) => {
      calls.push(`images ${images.map((b) => b[1]).join(',')} by ${sender?.senderId ?? '-'}`);
      if (images.every((b) => b[1] === 0)) return Promise.reject(new PlatformError('INPUT_FORMAT_UNKNOWN', 'no PNG or JPEG'));
      const result: UploadResult = {
        studyKey: 'st-images',
        stored: 0,
        duplicates: 0,
        failed: [],
        parts: images.map((b, index) =>
          b[1] === 0
            ? { index, status: 'refused', code: 'INPUT_FORMAT_UNKNOWN' }
            : { index, status: 'stored', studyKey: 'st-images', sopInstanceUid: `2.25.${index}` },
        ),
      };
      return Promise.resolve(result);
    },
    storeInstances: (instances, sender) => {
      calls.push(`dicom ${instances.map((b) => b[1]).join(',')} by ${sender?.senderId ?? '-'}`);
      return Promise.resolve(
        instances.map((b): StoredPart => {
          switch (b[1] ?? 0) {
            case 1:
              return { identity, outcome: { status: 'stored', studyKey: 'st-dicom', studyUid: '2.25.9', sopInstanceUid: '2.25.9.1' } };
            case 2:
              return { identity, outcome: { status: 'duplicate', studyKey: 'st-dicom', studyUid: '2.25.9', sopInstanceUid: '2.25.9.1' } };
            case 3:
              return { identity, outcome: { status: 'refused', reason: 'out_of_resources', code: 'STORE_DISK_FULL' } };
            default:
              return { identity, outcome: { status: 'failed', code: 'DICOM_PARSE_FAILED' } };
          }
        }),
      );
    },
  };
}

const sender = { senderId: 'u-1' };
const failsWith = (code: string) => (e: unknown) => isPlatformError(e) && e.code === code;

describe('uploadFiles', () => {
  it('sends raster files to the upload and DICOM files to the ingest, and answers each file at its own position', async () => {
    const deps = ingests();
    const uploaded = await uploadFiles(deps, {}, [dicom(1), png(1), png(0), dicom(2), dicom(3), dicom(4)], sender);
    expect(deps.calls).toEqual(['images 1,0 by u-1', 'dicom 1,2,3,4 by u-1']);
    expect(uploaded).toEqual({
      studyKey: 'st-images',
      stored: 2,
      duplicates: 1,
      failed: [
        { index: 2, code: 'INPUT_FORMAT_UNKNOWN' },
        { index: 4, code: 'STORE_DISK_FULL' },
        { index: 5, code: 'DICOM_PARSE_FAILED' },
      ],
      parts: [
        { index: 0, kind: 'dicom', status: 'stored', studyKey: 'st-dicom', sopInstanceUid: '2.25.9.1' },
        { index: 1, kind: 'image', status: 'stored', studyKey: 'st-images', sopInstanceUid: '2.25.0' },
        { index: 2, kind: 'image', status: 'refused', code: 'INPUT_FORMAT_UNKNOWN' },
        { index: 3, kind: 'dicom', status: 'duplicate', studyKey: 'st-dicom', sopInstanceUid: '2.25.9.1' },
        { index: 4, kind: 'dicom', status: 'refused', code: 'STORE_DISK_FULL', reason: 'out_of_resources' },
        { index: 5, kind: 'dicom', status: 'failed', code: 'DICOM_PARSE_FAILED' },
      ],
      studyKeys: ['st-dicom', 'st-images', 'st-dicom'],
    });
  });

  it("names the first DICOM file's study without images, and refuses unreadable non-DICOM files one by one beside DICOM files", async () => {
    const uploaded = await uploadFiles(ingests(), {}, [png(0), dicom(2)], sender);
    expect(uploaded.studyKey).toBe('st-dicom');
    expect(uploaded.parts[0]).toEqual({ index: 0, kind: 'image', status: 'refused', code: 'INPUT_FORMAT_UNKNOWN' });
  });

  it("fails with the one reason every file shares, else INPUT_FORMAT_UNKNOWN; without DICOM files the upload's own refusal stands", async () => {
    await expect(uploadFiles(ingests(), {}, [dicom(3), dicom(3)], sender)).rejects.toSatisfy(failsWith('STORE_DISK_FULL'));
    await expect(uploadFiles(ingests(), {}, [dicom(3), dicom(4)], sender)).rejects.toSatisfy(failsWith('INPUT_FORMAT_UNKNOWN'));
    await expect(uploadFiles(ingests(), {}, [png(0), dicom(4)], sender)).rejects.toSatisfy(failsWith('INPUT_FORMAT_UNKNOWN'));
    await expect(uploadFiles(ingests(), {}, [png(0)], sender)).rejects.toThrow('no PNG or JPEG');
  });
});
