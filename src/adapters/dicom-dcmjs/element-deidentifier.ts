/**
 * De-identification at the element level: the file's bytes are walked into the domain's dataset, the
 * profile is applied by domain/deidentification, and the dataset is written back in its own transfer
 * syntax with Pixel Data untouched. Only when a Clean Pixel Data rule blanks rectangles are pixels changed:
 * native pixels are blanked in place (same syntax); compressed pixels are decoded with Vigil's reader,
 * blanked and written as Explicit VR Little Endian native pixels (lossless: no second lossy compression).
 */
import { createHash } from 'node:crypto';
import { assessPixels, type PixelRectangle } from '../../domain/deidentification/assess-pixels.js';
import { DEID_TAG, textOf, type DeidDataset, type DeidElement } from '../../domain/deidentification/deid-dataset.js';
import { deidentifyDataset } from '../../domain/deidentification/deidentify-dataset.js';
import { refuseDirectory } from '../../domain/deidentification/directory-objects.js';
import { derivePatientAgeOfDataset } from '../../domain/deidentification/patient-age.js';
import { accessionLookupKey, remapUid } from '../../domain/deidentification/keyed-pseudonyms.js';
import { PlatformError, isPlatformError } from '../../domain/errors.js';
import type { InstanceIdentity } from '../../domain/results/result-identity.js';
import type { DeidFileOutcome, DeidRequest, DeidStudyFacts, DicomDeidentifier } from '../../ports/dicom-deidentifier.js';
import { DcmjsDicomReader } from './dcmjs-dicom-reader.js';
import { parseForDeid, writePart10, type ParsedForDeid } from './internal/deid-codec.js';
import { toDicomError } from './internal/dicom-error.js';
import { DEFAULT_INFLATE_LIMITS, checkInflateLimits, hasPart10Signature, looksLikeBareDataset, type InflateLimits } from './internal/part10.js';
import { readInstanceIdentityOfParsed } from './read-instance-identity.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './internal/transfer-syntax.js';

/** Vigil's Implementation Class UID (PS3.7 D.3.3.2), used only when the input's meta group has none. */
export const VIGIL_IMPLEMENTATION_CLASS_UID = '2.25.37362250914693751145880500793447977159';

/** File Meta elements kept (PS3.10 7.1); Source/Sending/Receiving AE titles and private meta are dropped. */
const META_KEPT = new Set([0x00020001, 0x00020002, 0x00020012, 0x00020013]);

/** (0002,0002) Media Storage SOP Class UID. */
const MEDIA_STORAGE_SOP_CLASS_UID = 0x00020002;

export interface ElementDeidentifierOptions {
  /** How far a Deflated dataset may inflate (internal/part10.ts); default DEFAULT_INFLATE_LIMITS. */
  readonly inflate?: InflateLimits;
}

export class ElementDeidentifier implements DicomDeidentifier {
  readonly #inflate: InflateLimits;
  readonly #reader: DcmjsDicomReader;

  constructor(options: ElementDeidentifierOptions = {}) {
    this.#inflate = checkInflateLimits(options.inflate ?? DEFAULT_INFLATE_LIMITS);
    this.#reader = new DcmjsDicomReader({ inflate: this.#inflate });
  }

  isDicom(bytes: Uint8Array): boolean {
    return hasPart10Signature(bytes) || looksLikeBareDataset(bytes);
  }

  async deidentify(bytes: Uint8Array, request: DeidRequest): Promise<DeidFileOutcome> {
    let parsed: ParsedForDeid;
    try {
      parsed = await parseForDeid(bytes, this.#inflate);
    } catch (error) {
      throw toDicomError(error, 'DICOM_PARSE_FAILED', 'The DICOM data could not be parsed');
    }
    refuseDirectory(textOf(parsed.meta, MEDIA_STORAGE_SOP_CLASS_UID), parsed.dataset);
    // The name of the output (and its Media Storage SOP Instance UID) when the dataset has no SOP Instance UID:
    // the File Meta's, else one made from the input's bytes, so that two such inputs never share a name by accident.
    const fallbackSopInstanceUid = (): string =>
      remapUid(
        request.digest,
        parsed.mediaStorageSopInstanceUid?.replace(/[\0 ]+$/, '') || `no-sop-instance-uid:${createHash('sha256').update(bytes).digest('hex')}`,
      );
    const verdict = assessPixels(parsed.dataset, request.pixelRules, request.profile.options.has('clean-pixel-data'), parsed.syntax.littleEndian);
    if (verdict.kind === 'quarantine' && request.headersOnly !== true) {
      const original = textOf(parsed.dataset, DEID_TAG.SOPInstanceUID) ?? '';
      return {
        status: 'quarantined',
        sopInstanceUid: original === '' ? fallbackSopInstanceUid() : remapUid(request.digest, original),
        reasons: verdict.reasons,
      };
    }
    let original: InstanceIdentity | undefined;
    if (request.readOriginal === true) {
      try {
        original = readInstanceIdentityOfParsed(parsed);
      } catch {
        original = undefined;
      }
    }
    // Read before the profile removes Patient's Age and the dates it could be derived from.
    const patientAgeYears = derivePatientAgeOfDataset(parsed.dataset);
    let dataset = parsed.dataset;
    let transferSyntaxUid = parsed.transferSyntaxUid;
    let syntax = parsed.syntax;
    let deflated = parsed.transferSyntax.deflated;
    if (deflated && request.keepDeflated === false) {
      // The same elements, only not deflated again (lossless): see DeidRequest.keepDeflated. Labelled as they
      // are encoded (part10.ts reads a dataset mislabelled implicit VR as such).
      transferSyntaxUid = parsed.syntax.explicitVR ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN;
      deflated = false;
    }
    const pixelsCleaned = verdict.kind === 'clean';
    if (verdict.kind === 'clean') {
      try {
        if (parsed.transferSyntax.encoding === 'native') dataset = blankNative(parsed, verdict.rule.rectangles);
        else {
          dataset = await this.#blankDecoded(bytes, parsed, verdict.rule.rectangles);
          transferSyntaxUid = EXPLICIT_VR_LITTLE_ENDIAN;
          syntax = { explicitVR: true, littleEndian: true };
          deflated = false;
        }
      } catch (cause) {
        if (isPlatformError(cause) && cause.code === 'DEID_PIXEL_CLEAN_FAILED') throw cause;
        throw new PlatformError('DEID_PIXEL_CLEAN_FAILED', 'The pixels could not be cleaned', { rule: verdict.rule.name }, { cause });
      }
    }
    // Keyed before the profile empties it (action Z): the only trace of the Accession Number Vigil keeps.
    const accessionKey = accessionLookupKey(request.digest, textOf(parsed.dataset, ACCESSION_NUMBER) ?? '');
    const result = deidentifyDataset(dataset, { profile: request.profile, digest: request.digest, pixelsCleaned });
    const sopInstanceUid = result.sopInstanceUid || fallbackSopInstanceUid();
    const meta = buildMeta(parsed.meta, result.dataset, sopInstanceUid, transferSyntaxUid);
    return {
      status: 'deidentified',
      bytes: writePart10(meta, result.dataset, syntax, deflated),
      studyInstanceUid: result.studyInstanceUid,
      sopInstanceUid,
      counts: result.counts,
      pixelsCleaned,
      transferSyntaxUid,
      ...(original === undefined ? {} : { original }),
      ...(patientAgeYears === undefined ? {} : { patientAgeYears }),
      studyFacts: studyFactsOf(result.dataset, accessionKey),
    };
  }

  async #blankDecoded(bytes: Uint8Array, parsed: ParsedForDeid, rectangles: readonly PixelRectangle[]): Promise<DeidElement[]> {
    const instance = await this.#reader.readInstance(bytes);
    const frames = [];
    for (let i = 0; i < instance.frameCount; i++) frames.push(await instance.decodeFrame(i));
    const first = frames[0];
    if (first === undefined) throw new PlatformError('DEID_PIXEL_CLEAN_FAILED', 'The image has no frames', {});
    if (first.attributes.originalPhotometric === 'PALETTE COLOR' || first.attributes.bitsAllocated === 1 || first.pixels instanceof Float32Array) {
      throw new PlatformError('DEID_PIXEL_CLEAN_FAILED', 'Pixel cleaning supports greyscale and RGB/YBR integer images only', {});
    }
    const width = first.pixels.BYTES_PER_ELEMENT;
    const out = new Uint8Array(frames.reduce((n, f) => n + f.pixels.length * width, 0));
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const frame of frames) {
      const pixels = frame.pixels;
      blankInterleaved(pixels, frame.rows, frame.columns, frame.samplesPerPixel, rectangles);
      for (let i = 0; i < pixels.length; i++) {
        const value = pixels[i] ?? 0;
        if (width === 1) view.setUint8(offset, value & 0xff);
        else if (width === 2) view.setUint16(offset, value & 0xffff, true);
        else view.setUint32(offset, value >>> 0, true);
        offset += width;
      }
    }
    const rgb = first.samplesPerPixel === 3;
    const le16 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, n >>> 8);
    const replaced = new Map<number, DeidElement>([
      [0x7fe00010, { tag: 0x7fe00010, vr: width === 1 ? 'OB' : 'OW', value: { kind: 'bytes', bytes: out } }],
      [0x00280100, { tag: 0x00280100, vr: 'US', value: { kind: 'bytes', bytes: le16(width * 8) } }],
    ]);
    if (rgb) {
      replaced.set(0x00280004, { tag: 0x00280004, vr: 'CS', value: { kind: 'text', text: 'RGB' } });
      replaced.set(0x00280006, { tag: 0x00280006, vr: 'US', value: { kind: 'bytes', bytes: le16(0) } });
    }
    // Encapsulated-only attributes (Extended Offset Table and its lengths) no longer apply.
    const dropped = new Set([0x7fe00001, 0x7fe00002]);
    const dataset = parsed.dataset.filter((e) => !dropped.has(e.tag)).map((e) => replaced.get(e.tag) ?? e);
    for (const [tag, element] of replaced) if (!dataset.some((e) => e.tag === tag)) dataset.push(element);
    return dataset.sort((a, b) => a.tag - b.tag);
  }
}

/** (0008,0050) Accession Number, (0008,0020) Study Date, (0008,0060) Modality. */
const ACCESSION_NUMBER = 0x00080050;
const STUDY_DATE = 0x00080020;
const MODALITY = 0x00080060;

function studyFactsOf(deidentified: DeidDataset, accessionKey: string | undefined): DeidStudyFacts {
  const clean = (value: string | undefined): string | undefined => {
    const trimmed = value?.replace(/[\0 ]+$/, '').trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  };
  const studyDate = clean(textOf(deidentified, STUDY_DATE));
  const modality = clean(textOf(deidentified, MODALITY));
  return {
    ...(accessionKey === undefined ? {} : { accessionKey }),
    ...(studyDate === undefined || !/^\d{8}$/.test(studyDate) ? {} : { studyDate }),
    ...(modality === undefined || !/^[A-Z0-9_ ]{1,16}$/.test(modality) ? {} : { modality }),
  };
}

/** Sets every sample inside the rectangles to 0 (clipped to the image). */
function blankInterleaved(
  pixels: { length: number; fill(value: number, start: number, end: number): unknown },
  rows: number,
  columns: number,
  samples: number,
  rectangles: readonly PixelRectangle[],
): void {
  for (const r of rectangles) {
    const x0 = Math.min(r.x, columns);
    const x1 = Math.min(r.x + r.width, columns);
    for (let y = Math.min(r.y, rows); y < Math.min(r.y + r.height, rows); y++) pixels.fill(0, (y * columns + x0) * samples, (y * columns + x1) * samples);
  }
}

/** Native pixels: blank in place in the file's own layout and byte order (Planar Configuration respected). */
function blankNative(parsed: ParsedForDeid, rectangles: readonly PixelRectangle[]): DeidElement[] {
  const dataset = parsed.dataset;
  const us = (tag: number, fallback: number): number => {
    const e = dataset.find((x) => x.tag === tag);
    if (e?.value.kind !== 'bytes' || e.value.bytes.length < 2) return fallback;
    const [a = 0, b = 0] = e.value.bytes;
    return parsed.syntax.littleEndian ? a | (b << 8) : (a << 8) | b;
  };
  const rows = us(0x00280010, 0);
  const columns = us(0x00280011, 0);
  const samples = us(0x00280002, 1);
  const bitsAllocated = us(0x00280100, 0);
  const planar = us(0x00280006, 0);
  const frames = Number((textOf(dataset, 0x00280008) ?? '1').trim()) || 1;
  if (rows === 0 || columns === 0 || bitsAllocated % 8 !== 0 || bitsAllocated === 0) {
    throw new PlatformError('DEID_PIXEL_CLEAN_FAILED', 'Pixel cleaning needs Rows, Columns and a whole-byte Bits Allocated', {});
  }
  const pixelData = dataset.find((e) => e.tag === DEID_TAG.PixelData);
  if (pixelData?.value.kind !== 'bytes') throw new PlatformError('DEID_PIXEL_CLEAN_FAILED', 'The image has no native Pixel Data', {});
  const bytes = pixelData.value.bytes.slice();
  const bytesPerSample = bitsAllocated / 8;
  const frameBytes = rows * columns * samples * bytesPerSample;
  if (bytes.length < frameBytes * frames) throw new PlatformError('DEID_PIXEL_CLEAN_FAILED', 'Pixel Data is shorter than the image attributes require', {});
  for (let f = 0; f < frames; f++) {
    for (const r of rectangles) {
      const x0 = Math.min(r.x, columns);
      const x1 = Math.min(r.x + r.width, columns);
      for (let y = Math.min(r.y, rows); y < Math.min(r.y + r.height, rows); y++) {
        if (planar === 1 && samples > 1) {
          for (let s = 0; s < samples; s++) {
            const plane = f * frameBytes + s * rows * columns * bytesPerSample;
            bytes.fill(0, plane + (y * columns + x0) * bytesPerSample, plane + (y * columns + x1) * bytesPerSample);
          }
        } else {
          const base = f * frameBytes;
          bytes.fill(0, base + (y * columns + x0) * samples * bytesPerSample, base + (y * columns + x1) * samples * bytesPerSample);
        }
      }
    }
  }
  return dataset.map((e) => (e === pixelData ? { ...e, value: { kind: 'bytes', bytes } } : e));
}

/** PS3.10 7.1: the meta group rebuilt from what is safe to keep, with the replaced SOP Instance UID. */
function buildMeta(meta: DeidDataset, dataset: DeidDataset, sopInstanceUid: string, transferSyntaxUid: string): DeidElement[] {
  const text = (tag: number, vr: string, value: string): DeidElement => ({ tag, vr, value: { kind: 'text', text: value } });
  const kept = meta.filter((e) => META_KEPT.has(e.tag));
  const out: DeidElement[] = [...kept];
  if (!out.some((e) => e.tag === 0x00020001)) out.push({ tag: 0x00020001, vr: 'OB', value: { kind: 'bytes', bytes: Uint8Array.of(0, 1) } });
  if (!out.some((e) => e.tag === 0x00020002)) out.push(text(0x00020002, 'UI', textOf(dataset, DEID_TAG.SOPClassUID) ?? ''));
  out.push(text(0x00020003, 'UI', sopInstanceUid));
  out.push(text(0x00020010, 'UI', transferSyntaxUid));
  if (!out.some((e) => e.tag === 0x00020012)) out.push(text(0x00020012, 'UI', VIGIL_IMPLEMENTATION_CLASS_UID));
  return out.sort((a, b) => a.tag - b.tag);
}
