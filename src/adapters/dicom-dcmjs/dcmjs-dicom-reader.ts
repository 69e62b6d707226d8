/**
 * DicomReader over dcmjs (values) and dcmjs-codecs (pixels), with the structure, the limits and the frame
 * assembly done here (internal/): dcmjs drops the Basic Offset Table, trusts declared lengths and prints to
 * the console; the codec WASM must not be handed a codestream bigger than the attributes say.
 *
 * Every failure is a PlatformError with a DICOM_* code and a fixed message; no tag value, UID or path ever
 * goes into a message or into details, and library messages travel only as `cause`.
 */
import { PlatformError } from '../../domain/errors.js';
import type { ImageAttributes, ImageFrame, StoredPixels } from '../../domain/image/image-frame.js';
import type { DicomInstance, DicomReader, InstanceIdentifiers } from '../../ports/image-readers.js';
import { checkCodestream } from './internal/codestream-header.js';
import { decodeWithCodec } from './internal/codec-runtime.js';
import { PIXEL_DATA_TAG, scanDataset, type Fragment, type ScannedDataset, type ScannedElement } from './internal/dataset-scanner.js';
import { dicomError, toDicomError } from './internal/dicom-error.js';
import { dictionaryVr } from './internal/dictionary.js';
import { allNumbers, firstNumber, firstString, isBlank, type DecodedValues, decodeElements } from './internal/element-values.js';
import { assembleFrame, planFrames, type FramePlan } from './internal/frames.js';
import {
  TOP_LEVEL_TAGS,
  decodedFrameBytes,
  describeOutput,
  readFrameValues,
  readPixelModule,
  storedFrameBits,
  type FrameValues,
  type OutputLayout,
  type PixelModule,
  type SourcePhotometric,
} from './internal/image-attributes.js';
import {
  DEFAULT_INFLATE_LIMITS,
  checkInflateLimits,
  hasPart10Signature,
  locateDataset,
  looksLikeBareDataset,
  type InflateLimits,
  type LocatedDataset,
} from './internal/part10.js';
import { applyPalette, expandYbr422, planarToInterleaved, readSamples, unpackBits, ybrFullToRgb, type SampleArray } from './internal/pixel-conversion.js';
import { KEPT_SEQUENCES, TAG } from './internal/tags.js';
import type { PixelEncoding } from './internal/transfer-syntax.js';

export interface DcmjsDicomReaderOptions {
  /**
   * Upper bound, in bytes, on the decoded pixels an instance may declare (all frames together). Default 1 GiB: above the largest single instances radiology
   * produces (a breast tomosynthesis volume ≈ 0.7 GB, a 1000-slice Enhanced CT ≈ 0.5 GB), far below what a
   * hostile header can claim (65535² × 3 samples × 2 bytes × 2³¹ frames), and under the WASM codecs' own
   * memory ceiling for one frame.
   */
  readonly maxDecodedBytes?: number;
  /** How far a Deflated dataset may inflate (internal/part10.ts); default DEFAULT_INFLATE_LIMITS. */
  readonly inflate?: InflateLimits;
}

export type { InflateLimits };

const DEFAULT_MAX_DECODED_BYTES = 1024 ** 3;
/**
 * Sequence nesting the reader follows. Real data nests a few levels (functional groups 2–3, SR content trees
 * rarely beyond 10); a hostile file nests thousands to exhaust the stack or the time.
 */
const MAX_SEQUENCE_DEPTH = 32;
/** Encapsulated fragments recorded per instance: 2²⁰ is far above real multi-frame data and bounds memory at ~50 MB. */
const MAX_FRAGMENTS = 1 << 20;

export class DcmjsDicomReader implements DicomReader {
  readonly #maxDecodedBytes: number;
  readonly #inflate: InflateLimits;

  constructor(options: DcmjsDicomReaderOptions = {}) {
    const maxDecodedBytes = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
    if (!Number.isSafeInteger(maxDecodedBytes) || maxDecodedBytes <= 0) {
      throw new PlatformError('CONFIG_INVALID', 'maxDecodedBytes must be a positive integer');
    }
    this.#maxDecodedBytes = maxDecodedBytes;
    this.#inflate = checkInflateLimits(options.inflate ?? DEFAULT_INFLATE_LIMITS);
  }

  isDicom(bytes: Uint8Array): boolean {
    return hasPart10Signature(bytes) || looksLikeBareDataset(bytes);
  }

  /**
   * Parses the instance without decoding pixels. The instance keeps a reference to `bytes` to decode frames
   * later: do not modify them afterwards.
   */
  async readInstance(bytes: Uint8Array): Promise<DicomInstance> {
    try {
      return this.#parse(await locateDataset(bytes, this.#inflate));
    } catch (error) {
      throw toDicomError(error, 'DICOM_PARSE_FAILED', 'The DICOM data could not be parsed');
    }
  }

  #parse(located: LocatedDataset): DicomInstance {
    const { dataset } = located;
    const top = scanDataset(dataset, {
      syntax: located.syntax,
      keepSequences: KEPT_SEQUENCES,
      dictionaryVr,
      maxSequenceDepth: MAX_SEQUENCE_DEPTH,
      maxFragments: MAX_FRAGMENTS,
      stopAfterTag: PIXEL_DATA_TAG,
    });
    const pixelData = top.get(PIXEL_DATA_TAG);
    if (pixelData === undefined) throw dicomError('DICOM_NO_PIXEL_DATA', 'The instance has no Pixel Data');

    const values = decodeElements(dataset, top, TOP_LEVEL_TAGS);
    const pixel = readPixelModule(dataset, top, values, located.transferSyntax);
    const output = describeOutput(pixel);
    const frameBytes = decodedFrameBytes(pixel, output);
    if (frameBytes * pixel.numberOfFrames > this.#maxDecodedBytes) {
      throw dicomError('DICOM_LIMIT_EXCEEDED', 'The declared image is larger than the reader allows', { maxDecodedBytes: this.#maxDecodedBytes });
    }
    const source = locatePixels(located, top, pixelData, pixel);
    const base = baseAttributes(located, values, pixel, output);
    const frameValues = (index: number): FrameValues => readFrameValues(dataset, top, values, index);
    const first = frameAttributes(base, pixel, frameValues(0));

    return Object.freeze({
      identifiers: readIdentifiers(values, located),
      attributes: first,
      frameCount: pixel.numberOfFrames,
      decodeFrame: async (index: number): Promise<ImageFrame> => {
        if (!Number.isInteger(index) || index < 0 || index >= pixel.numberOfFrames) {
          throw dicomError('DICOM_NO_PIXEL_DATA', 'The instance has no frame with this index', { frameIndex: Number.isFinite(index) ? index : -1 });
        }
        try {
          const attributes = index === 0 ? first : frameAttributes(base, pixel, frameValues(index));
          const pixels = await decodeSamples(dataset, source, pixel, index);
          return Object.freeze({ attributes, frameIndex: index, rows: pixel.rows, columns: pixel.columns, samplesPerPixel: output.samplesPerPixel, pixels });
        } catch (error) {
          throw withFrameIndex(toDicomError(error, 'DICOM_PIXEL_DECODE_FAILED', 'The frame could not be decoded'), index);
        }
      },
    });
  }
}

/** The same error, saying which frame failed (the index is the caller's, not a value from the file). */
function withFrameIndex(error: PlatformError, frameIndex: number): PlatformError {
  if (error.details['frameIndex'] === frameIndex) return error;
  return new PlatformError(error.code, error.message, { ...error.details, frameIndex }, error.cause === undefined ? undefined : { cause: error.cause });
}

type PixelSource =
  | { readonly kind: 'native'; readonly valueOffset: number; readonly littleEndian: boolean }
  | { readonly kind: 'encapsulated'; readonly encoding: Exclude<PixelEncoding, 'native'>; readonly fragments: readonly Fragment[]; readonly plan: FramePlan };

/** Checks that the Pixel Data can hold what the attributes declare, before anything is allocated for it. */
function locatePixels(located: LocatedDataset, top: ScannedDataset, pixelData: ScannedElement, pixel: PixelModule): PixelSource {
  const { encoding } = located.transferSyntax;
  if (encoding === 'native') {
    if (pixelData.undefinedLength) throw dicomError('DICOM_PARSE_FAILED', 'Pixel Data is encapsulated although the transfer syntax is native');
    if (pixel.bitsAllocated === 1 && !located.syntax.littleEndian)
      throw dicomError('DICOM_IMAGE_ATTRIBUTES_INVALID', 'Bits Allocated 1 is supported only in Little Endian');
    const needed = Math.ceil((storedFrameBits(pixel) * pixel.numberOfFrames) / 8);
    if (pixelData.valueLength < needed) throw dicomError('DICOM_PIXEL_LENGTH_MISMATCH', 'Pixel Data is shorter than the image attributes require');
    return { kind: 'native', valueOffset: pixelData.valueOffset, littleEndian: located.syntax.littleEndian };
  }
  const fragments = pixelData.fragments;
  if (fragments === undefined) throw dicomError('DICOM_PARSE_FAILED', 'Pixel Data is not encapsulated although the transfer syntax requires it');
  const plan = planFrames(located.dataset, fragments, pixel.numberOfFrames, encoding, readExtendedOffsets(located.dataset, top.get(TAG.ExtendedOffsetTable)));
  return { kind: 'encapsulated', encoding, fragments, plan };
}

/** Extended Offset Table (7FE0,0001), OV: 64-bit little-endian offsets, one per frame. */
function readExtendedOffsets(dataset: Uint8Array, element: ScannedElement | undefined): number[] | undefined {
  if (element === undefined || element.undefinedLength || element.valueLength === 0 || element.valueLength % 8 !== 0) return undefined;
  const view = new DataView(dataset.buffer, dataset.byteOffset + element.valueOffset, element.valueLength);
  const offsets: number[] = [];
  for (let i = 0; i < element.valueLength; i += 8) {
    const offset = view.getBigUint64(i, true);
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    offsets.push(Number(offset));
  }
  return offsets;
}

async function decodeSamples(dataset: Uint8Array, source: PixelSource, pixel: PixelModule, index: number): Promise<StoredPixels> {
  const pixelCount = pixel.rows * pixel.columns;
  const storedBytes = storedFrameBits(pixel) / 8;
  if (source.kind === 'native') {
    if (pixel.bitsAllocated === 1) return unpackBits(dataset, source.valueOffset * 8 + index * pixelCount, pixelCount);
    const start = source.valueOffset + index * storedBytes;
    return toOutput(dataset.subarray(start, start + storedBytes), source.littleEndian, pixel, pixel.planarConfiguration, pixel.photometric);
  }

  const frame = source.plan.frames[index];
  if (frame === undefined) throw dicomError('DICOM_NO_PIXEL_DATA', 'The instance has no frame with this index', { frameIndex: index });
  const encoded = assembleFrame(dataset, source.fragments, frame);
  if (source.encoding === 'encapsulated-native') {
    if (encoded.length < storedBytes)
      throw dicomError('DICOM_PIXEL_LENGTH_MISMATCH', 'A frame is shorter than the image attributes require', { frameIndex: index });
    return toOutput(encoded, true, pixel, pixel.planarConfiguration, pixel.photometric);
  }
  checkCodestream(source.encoding, encoded, pixel);
  const decoded = await decodeWithCodec(source.encoding, encoded, {
    rows: pixel.rows,
    columns: pixel.columns,
    bitsAllocated: pixel.bitsAllocated,
    bitsStored: pixel.bitsStored,
    samplesPerPixel: pixel.samplesPerPixel,
    pixelRepresentation: pixel.pixelRepresentation,
    planarConfiguration: pixel.planarConfiguration,
    photometric: pixel.photometric,
  });
  if (decoded.bytes.length !== pixelCount * pixel.samplesPerPixel * (pixel.bitsAllocated / 8)) {
    throw dicomError('DICOM_PIXEL_LENGTH_MISMATCH', 'The decoded frame does not have the size the image attributes declare', { frameIndex: index });
  }
  return toOutput(decoded.bytes, true, pixel, decoded.planarConfiguration, photometricAfterCodec(decoded.photometric, pixel.photometric));
}

/**
 * What decoded samples are. The JPEG decoder reports RGB once it has converted YCbCr; a YBR_FULL_422 frame
 * comes out of any codec at full resolution, so as YBR_FULL; the JPEG 2000 component transforms are undone
 * inside the codec, so YBR_ICT / YBR_RCT come out as RGB.
 */
function photometricAfterCodec(reported: string, declared: SourcePhotometric): SourcePhotometric {
  const value =
    reported === 'MONOCHROME1' || reported === 'MONOCHROME2' || reported === 'PALETTE COLOR' || reported === 'RGB' || reported.startsWith('YBR_')
      ? reported
      : declared;
  if (value === 'YBR_FULL' || value === 'YBR_FULL_422') return 'YBR_FULL';
  if (value.startsWith('YBR_')) return 'RGB';
  return value as SourcePhotometric;
}

/** Stored samples to the handed-over form: typed, interleaved, RGB. `photometric` is what the samples are now. */
function toOutput(bytes: Uint8Array, littleEndian: boolean, pixel: PixelModule, planar: number, photometric: SourcePhotometric): StoredPixels {
  const pixelCount = pixel.rows * pixel.columns;
  const bitsAllocated = pixel.bitsAllocated === 1 ? 8 : pixel.bitsAllocated;
  const format = { bitsAllocated, bitsStored: pixel.bitsStored, signed: pixel.pixelRepresentation === 1 } as const;
  if (photometric === 'YBR_FULL_422') {
    const rgb = expandYbr422(readSamples(bytes, pixelCount * 2, format, littleEndian), pixelCount);
    ybrFullToRgb(rgb, pixel.bitsStored);
    return rgb;
  }
  let samples: SampleArray = readSamples(bytes, pixelCount * pixel.samplesPerPixel, format, littleEndian);
  if (pixel.samplesPerPixel === 3 && planar === 1) samples = planarToInterleaved(samples, pixelCount);
  if (photometric === 'YBR_FULL') ybrFullToRgb(samples, pixel.bitsStored);
  if (pixel.palette !== undefined) return applyPalette(samples, pixel.palette);
  return samples;
}

type BaseAttributes = Omit<ImageAttributes, keyof FrameValues>;

function baseAttributes(located: LocatedDataset, values: DecodedValues, pixel: PixelModule, output: OutputLayout): BaseAttributes {
  const text = (tag: number): string | undefined => firstString(values.get(tag));
  const modality = text(TAG.Modality);
  const bodyPartExamined = text(TAG.BodyPartExamined)?.toUpperCase();
  const viewPosition = text(TAG.ViewPosition);
  const manufacturer = text(TAG.Manufacturer);
  const manufacturerModelName = text(TAG.ManufacturerModelName);
  const softwareVersions = (values.get(TAG.SoftwareVersions) ?? [])
    .filter((v): v is string => typeof v === 'string' && !isBlank(v))
    .map((v) => v.replace(/\0/g, '').trim());
  const kvp = firstNumber(values.get(TAG.KVP));
  const pixelSpacingMm = spacingOf(values.get(TAG.PixelSpacing)) ?? spacingOf(values.get(TAG.ImagerPixelSpacing));
  const sex = text(TAG.PatientSex)?.toUpperCase();
  const sopClassUid = text(TAG.SOPClassUID);
  const burnedIn = text(TAG.BurnedInAnnotation)?.toUpperCase();
  // Lossy Image Compression (0028,2110) "01" means lossy compression happened at some point (C.7.6.1.1.5).
  const lossyCompressed = located.transferSyntax.lossy || text(TAG.LossyImageCompression) === '01';
  return {
    source: 'dicom',
    ...(modality === undefined ? {} : { modality }),
    ...(bodyPartExamined === undefined ? {} : { bodyPartExamined }),
    ...(viewPosition === undefined ? {} : { viewPosition }),
    ...(manufacturer === undefined ? {} : { manufacturer }),
    ...(manufacturerModelName === undefined ? {} : { manufacturerModelName }),
    ...(softwareVersions.length === 0 ? {} : { softwareVersions }),
    ...(kvp === undefined || !(kvp > 0) ? {} : { kvp }),
    ...(pixelSpacingMm === undefined ? {} : { pixelSpacingMm }),
    ...(sex === 'M' || sex === 'F' || sex === 'O' ? { patientSex: sex } : {}),
    ...(sopClassUid === undefined ? {} : { sopClassUid }),
    transferSyntaxUid: located.transferSyntaxUid,
    photometricInterpretation: output.photometric,
    originalPhotometric: output.originalPhotometric,
    bitsAllocated: output.bitsAllocated,
    bitsStored: output.bitsStored,
    pixelRepresentation: output.pixelRepresentation,
    numberOfFrames: pixel.numberOfFrames,
    lossyCompressed,
    ...(burnedIn === 'YES' || burnedIn === 'NO' ? { burnedInAnnotation: burnedIn } : {}),
  };
}

/**
 * A pixel spacing pair (row, column) in mm from Pixel Spacing or Imager Pixel Spacing (DS, VM 2): both
 * values finite and positive, else none (a zero placeholder is a sender's "unknown").
 */
function spacingOf(values: readonly unknown[] | undefined): readonly [number, number] | undefined {
  const [row, column] = allNumbers(values);
  if (values?.length !== 2 || row === undefined || column === undefined || !(row > 0) || !(column > 0)) return undefined;
  return [row, column];
}

function frameAttributes(base: BaseAttributes, pixel: PixelModule, values: FrameValues): ImageAttributes {
  // Palette indices are not modality values: their LUTs replace the Modality and VOI LUTs.
  const resolved = pixel.palette === undefined ? values : { rescaleSlope: 1, rescaleIntercept: 0, windows: [], voiLutFunction: 'LINEAR' as const };
  return Object.freeze({ ...base, ...resolved });
}

function readIdentifiers(values: DecodedValues, located: LocatedDataset): InstanceIdentifiers {
  const text = (tag: number): string | undefined => firstString(values.get(tag));
  const studyInstanceUid = text(TAG.StudyInstanceUID);
  const seriesInstanceUid = text(TAG.SeriesInstanceUID);
  const sopInstanceUid = text(TAG.SOPInstanceUID) ?? located.mediaStorageSopInstanceUid;
  const patientId = text(TAG.PatientID);
  return Object.freeze({
    ...(studyInstanceUid === undefined ? {} : { studyInstanceUid }),
    ...(seriesInstanceUid === undefined ? {} : { seriesInstanceUid }),
    ...(sopInstanceUid === undefined ? {} : { sopInstanceUid }),
    ...(patientId === undefined ? {} : { patientId }),
  });
}
