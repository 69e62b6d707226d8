/**
 * From located elements to what the domain needs: the Image Pixel module (PS3.3 C.7.6.3), checked, and the
 * per-frame Modality LUT and VOI LUT values (C.11.1, C.11.2), resolved through the Enhanced multi-frame
 * functional groups (C.7.6.16) when present.
 */
import type { ImageAttributes, PhotometricInterpretation, VoiWindow } from '../../../domain/image/image-frame.js';
import { dicomError } from './dicom-error.js';
import type { ScannedDataset, ScannedElement } from './dataset-scanner.js';
import { allNumbers, decodeElements, firstNumber, firstString, isBlank, type DecodedValues } from './element-values.js';
import { TAG } from './tags.js';
import type { TransferSyntax } from './transfer-syntax.js';

/** Photometric interpretations the reader can turn into MONOCHROME1, MONOCHROME2 or RGB. */
export type SourcePhotometric = PhotometricInterpretation | 'YBR_ICT' | 'YBR_RCT';

export interface PaletteLut {
  readonly firstMapped: number;
  readonly bits: 8 | 16;
  readonly red: Uint16Array;
  readonly green: Uint16Array;
  readonly blue: Uint16Array;
}

export interface PixelModule {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: 1 | 3;
  readonly bitsAllocated: 1 | 8 | 16 | 32;
  readonly bitsStored: number;
  readonly pixelRepresentation: 0 | 1;
  readonly planarConfiguration: 0 | 1;
  readonly photometric: SourcePhotometric;
  readonly numberOfFrames: number;
  readonly palette?: PaletteLut;
}

/** Tags decoded at the top level in one dcmjs pass. */
export const TOP_LEVEL_TAGS: readonly number[] = [
  TAG.SpecificCharacterSet,
  TAG.SOPClassUID,
  TAG.SOPInstanceUID,
  TAG.Modality,
  TAG.Manufacturer,
  TAG.ManufacturerModelName,
  TAG.PatientID,
  TAG.PatientSex,
  TAG.BodyPartExamined,
  TAG.KVP,
  TAG.SoftwareVersions,
  TAG.ImagerPixelSpacing,
  TAG.PixelSpacing,
  TAG.ViewPosition,
  TAG.StudyInstanceUID,
  TAG.SeriesInstanceUID,
  TAG.SamplesPerPixel,
  TAG.PhotometricInterpretation,
  TAG.PlanarConfiguration,
  TAG.NumberOfFrames,
  TAG.Rows,
  TAG.Columns,
  TAG.BitsAllocated,
  TAG.BitsStored,
  TAG.PixelRepresentation,
  TAG.BurnedInAnnotation,
  TAG.WindowCenter,
  TAG.WindowWidth,
  TAG.RescaleIntercept,
  TAG.RescaleSlope,
  TAG.VOILUTFunction,
  TAG.LossyImageCompression,
];

const SAMPLES_OF: Readonly<Record<SourcePhotometric, 1 | 3>> = {
  MONOCHROME1: 1,
  MONOCHROME2: 1,
  'PALETTE COLOR': 1,
  RGB: 3,
  YBR_FULL: 3,
  YBR_FULL_422: 3,
  YBR_ICT: 3,
  YBR_RCT: 3,
};

function isSourcePhotometric(value: string): value is SourcePhotometric {
  return Object.hasOwn(SAMPLES_OF, value);
}

export function readPixelModule(bytes: Uint8Array, top: ScannedDataset, values: DecodedValues, syntax: TransferSyntax): PixelModule {
  const rows = requireInteger(values, top, TAG.Rows, 'Rows', 1, 65535);
  const columns = requireInteger(values, top, TAG.Columns, 'Columns', 1, 65535);
  const bitsAllocated = requireInteger(values, top, TAG.BitsAllocated, 'Bits Allocated', 1, 32);
  if (bitsAllocated !== 1 && bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw invalid('Bits Allocated is not 1, 8, 16 or 32');
  }
  const bitsStored = optionalInteger(values, top, TAG.BitsStored, 'Bits Stored', 1, bitsAllocated) ?? bitsAllocated;
  const pixelRepresentation = optionalInteger(values, top, TAG.PixelRepresentation, 'Pixel Representation', 0, 1) ?? 0;
  const numberOfFrames = optionalInteger(values, top, TAG.NumberOfFrames, 'Number of Frames', 1, Number.MAX_SAFE_INTEGER) ?? 1;

  const photometricText = firstString(values.get(TAG.PhotometricInterpretation))?.toUpperCase();
  if (photometricText === undefined) throw invalid('Photometric Interpretation is missing');
  if (!isSourcePhotometric(photometricText)) throw invalid('Photometric Interpretation is not supported');
  const photometric = photometricText;
  const samplesPerPixel = optionalInteger(values, top, TAG.SamplesPerPixel, 'Samples per Pixel', 1, 3) ?? SAMPLES_OF[photometric];
  if (samplesPerPixel !== SAMPLES_OF[photometric]) throw invalid('Samples per Pixel does not match the Photometric Interpretation');
  const planarConfiguration = samplesPerPixel === 3 ? (optionalInteger(values, top, TAG.PlanarConfiguration, 'Planar Configuration', 0, 1) ?? 0) : 0;

  if (bitsAllocated === 1 && (samplesPerPixel !== 1 || photometric === 'PALETTE COLOR' || syntax.encoding !== 'native')) {
    throw invalid('Bits Allocated 1 is supported only for native greyscale');
  }
  if ((photometric === 'YBR_ICT' || photometric === 'YBR_RCT') && syntax.encoding !== 'jpeg2000' && syntax.encoding !== 'htj2k') {
    throw invalid('YBR_ICT and YBR_RCT belong to JPEG 2000 only');
  }
  if (photometric === 'YBR_FULL_422' && syntax.encoding === 'native' && columns % 2 !== 0) {
    throw invalid('YBR_FULL_422 needs an even number of columns');
  }

  const module: PixelModule = {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    // Colour samples are unsigned whatever the file says; signed colour is not a thing readers agree on.
    pixelRepresentation: samplesPerPixel === 3 ? 0 : pixelRepresentation === 1 ? 1 : 0,
    planarConfiguration: planarConfiguration === 1 ? 1 : 0,
    photometric,
    numberOfFrames,
  };
  return photometric === 'PALETTE COLOR' ? { ...module, palette: readPalette(bytes, top, pixelRepresentation === 1) } : module;
}

/** Bytes one frame occupies as stored (native): YBR_FULL_422 keeps two samples per pixel, 1-bit data packs 8. */
export function storedFrameBits(pixel: PixelModule): number {
  const samples = pixel.photometric === 'YBR_FULL_422' ? 2 : pixel.samplesPerPixel;
  return pixel.rows * pixel.columns * samples * pixel.bitsAllocated;
}

/** How the pixels look once handed over. */
export interface OutputLayout {
  readonly samplesPerPixel: 1 | 3;
  readonly bitsAllocated: 8 | 16 | 32;
  readonly bitsStored: number;
  readonly pixelRepresentation: 0 | 1;
  readonly photometric: 'MONOCHROME1' | 'MONOCHROME2' | 'RGB';
  readonly originalPhotometric: PhotometricInterpretation;
}

export function describeOutput(pixel: PixelModule): OutputLayout {
  if (pixel.palette !== undefined) {
    const bits = pixel.palette.bits;
    return { samplesPerPixel: 3, bitsAllocated: bits, bitsStored: bits, pixelRepresentation: 0, photometric: 'RGB', originalPhotometric: 'PALETTE COLOR' };
  }
  // 1-bit data is handed over unpacked, one value (0 or 1) per byte.
  const bitsAllocated = pixel.bitsAllocated === 1 ? 8 : pixel.bitsAllocated;
  const common = { bitsAllocated, bitsStored: pixel.bitsStored, pixelRepresentation: pixel.pixelRepresentation };
  switch (pixel.photometric) {
    case 'MONOCHROME1':
    case 'MONOCHROME2':
      return { ...common, samplesPerPixel: 1, photometric: pixel.photometric, originalPhotometric: pixel.photometric };
    case 'RGB':
    case 'YBR_FULL':
    case 'YBR_FULL_422':
      return { ...common, samplesPerPixel: 3, photometric: 'RGB', originalPhotometric: pixel.photometric };
    // The JPEG 2000 component transforms are part of the codestream and undone by the decoder, so the samples
    // are RGB from the start; the domain's PhotometricInterpretation has no name for them.
    case 'YBR_ICT':
    case 'YBR_RCT':
      return { ...common, samplesPerPixel: 3, photometric: 'RGB', originalPhotometric: 'RGB' };
    case 'PALETTE COLOR':
      throw invalid('Palette colour image without a palette');
  }
}

export function decodedFrameBytes(pixel: PixelModule, output: OutputLayout): number {
  return pixel.rows * pixel.columns * output.samplesPerPixel * (output.bitsAllocated / 8);
}

export interface FrameValues {
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  readonly windows: readonly VoiWindow[];
  readonly voiLutFunction: ImageAttributes['voiLutFunction'];
}

/**
 * Frame `index`'s Modality and VOI LUT values. A functional group sits either in the Per-Frame or in the
 * Shared Functional Groups Sequence (PS3.3 C.7.6.16.1); classic images carry the attributes at the top level.
 */
export function readFrameValues(bytes: Uint8Array, top: ScannedDataset, topValues: DecodedValues, index: number): FrameValues {
  const transformation = functionalGroup(top, index, TAG.PixelValueTransformationSequence);
  const rescale = transformation ?? top;
  const rescaleValues = transformation ? decodeElements(bytes, transformation, [TAG.RescaleSlope, TAG.RescaleIntercept]) : topValues;
  const rescaleSlope = optionalNumber(rescaleValues, rescale, TAG.RescaleSlope, 'Rescale Slope') ?? 1;
  const rescaleIntercept = optionalNumber(rescaleValues, rescale, TAG.RescaleIntercept, 'Rescale Intercept') ?? 0;
  if (rescaleSlope === 0) throw invalid('Rescale Slope is zero');

  const voi = functionalGroup(top, index, TAG.FrameVOILUTSequence);
  const voiValues = voi ? decodeElements(bytes, voi, [TAG.WindowCenter, TAG.WindowWidth, TAG.VOILUTFunction]) : topValues;
  return Object.freeze({
    rescaleSlope,
    rescaleIntercept,
    windows: readWindows(voiValues),
    voiLutFunction: readVoiLutFunction(voiValues),
  });
}

function functionalGroup(top: ScannedDataset, index: number, sequence: number): ScannedDataset | undefined {
  const perFrame = top.get(TAG.PerFrameFunctionalGroupsSequence)?.items?.[index]?.get(sequence)?.items?.[0];
  return perFrame ?? top.get(TAG.SharedFunctionalGroupsSequence)?.items?.[0]?.get(sequence)?.items?.[0];
}

/** Window Center and Width are multi-valued in step (C.11.2.1.2); pairs that cannot be a window are skipped. */
function readWindows(values: DecodedValues): readonly VoiWindow[] {
  const centers = allNumbers(values.get(TAG.WindowCenter));
  const widths = allNumbers(values.get(TAG.WindowWidth));
  const windows: VoiWindow[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    const center = centers[i];
    const width = widths[i];
    if (center !== undefined && width !== undefined && width > 0) windows.push(Object.freeze({ center, width }));
  }
  return Object.freeze(windows);
}

/** C.11.2.1.3: LINEAR when absent; a value the Standard does not define falls back to LINEAR too. */
function readVoiLutFunction(values: DecodedValues): FrameValues['voiLutFunction'] {
  const text = firstString(values.get(TAG.VOILUTFunction))?.toUpperCase();
  return text === 'LINEAR_EXACT' || text === 'SIGMOID' ? text : 'LINEAR';
}

/**
 * PS3.3 C.7.6.3.1.5–6: three descriptors (entries, 0 meaning 65536; first mapped value; 8 or 16 bits per
 * entry) and three data elements, read here from their bytes. Segmented tables are not supported.
 */
function readPalette(bytes: Uint8Array, top: ScannedDataset, signedIndex: boolean): PaletteLut {
  if (top.has(TAG.SegmentedRedPaletteColorLookupTableData)) throw invalid('Segmented palette colour lookup tables are not supported');
  const channels = (
    [
      [TAG.RedPaletteColorLookupTableDescriptor, TAG.RedPaletteColorLookupTableData],
      [TAG.GreenPaletteColorLookupTableDescriptor, TAG.GreenPaletteColorLookupTableData],
      [TAG.BluePaletteColorLookupTableDescriptor, TAG.BluePaletteColorLookupTableData],
    ] as const
  ).map(([descriptorTag, dataTag]) => {
    const descriptor = top.get(descriptorTag);
    const data = top.get(dataTag);
    if (descriptor === undefined || data === undefined || descriptor.valueLength !== 6 || data.undefinedLength) {
      throw invalid('Palette colour lookup table is missing or malformed');
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + descriptor.valueOffset, 6);
    const little = descriptor.syntax.littleEndian;
    const entries = view.getUint16(0, little) || 65536;
    const firstMapped = descriptor.vr === 'SS' || signedIndex ? view.getInt16(2, little) : view.getUint16(2, little);
    const bits = view.getUint16(4, little);
    if (bits !== 8 && bits !== 16) throw invalid('Palette colour lookup table entries are not 8 or 16 bits');
    return { entries, firstMapped, bits, table: readLutData(bytes, data, entries, bits) } as const;
  });
  const [red, green, blue] = channels;
  if (red === undefined || green === undefined || blue === undefined) throw invalid('Palette colour lookup table is missing');
  if (
    green.entries !== red.entries ||
    blue.entries !== red.entries ||
    green.bits !== red.bits ||
    blue.bits !== red.bits ||
    green.firstMapped !== red.firstMapped ||
    blue.firstMapped !== red.firstMapped
  ) {
    throw invalid('Palette colour lookup tables disagree');
  }
  return { firstMapped: red.firstMapped, bits: red.bits, red: red.table, green: green.table, blue: blue.table };
}

/**
 * 16-bit entries are words. 8-bit entries are packed bytes (C.7.6.3.1.6), but some writers put each 8-bit
 * entry in a word of its own, sometimes in the high byte: recognised by the length, the high byte taken
 * when any value exceeds 255.
 */
function readLutData(bytes: Uint8Array, data: ScannedElement, entries: number, bits: 8 | 16): Uint16Array {
  const table = new Uint16Array(entries);
  const view = new DataView(bytes.buffer, bytes.byteOffset + data.valueOffset, data.valueLength);
  const little = data.syntax.littleEndian;
  if (bits === 16 || data.valueLength >= entries * 2) {
    if (data.valueLength < entries * 2) throw invalid('Palette colour lookup table data is shorter than its descriptor');
    for (let i = 0; i < entries; i++) table[i] = view.getUint16(i * 2, little);
    if (bits === 8 && table.some((value) => value > 255)) for (let i = 0; i < entries; i++) table[i] = (table[i] ?? 0) >> 8;
    return table;
  }
  if (data.valueLength < entries) throw invalid('Palette colour lookup table data is shorter than its descriptor');
  // Packed 8-bit entries in an OW value: byte order follows the word order of the transfer syntax.
  for (let i = 0; i < entries; i++) table[i] = view.getUint8(little ? i : i ^ 1);
  return table;
}

function requireInteger(values: DecodedValues, dataset: ScannedDataset, tag: number, name: string, min: number, max: number): number {
  const value = optionalInteger(values, dataset, tag, name, min, max);
  if (value === undefined) throw invalid(`${name} is missing`);
  return value;
}

function optionalInteger(values: DecodedValues, dataset: ScannedDataset, tag: number, name: string, min: number, max: number): number | undefined {
  const value = optionalNumber(values, dataset, tag, name);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(`${name} is out of range`);
  return value;
}

/** Absent or empty: undefined. Present but not a number (wrong VR, garbage): invalid, never silently ignored. */
function optionalNumber(values: DecodedValues, dataset: ScannedDataset, tag: number, name: string): number | undefined {
  const element = dataset.get(tag);
  if (element === undefined || element.valueLength === 0 || (values.has(tag) && isBlank(values.get(tag)?.[0]))) return undefined;
  const value = firstNumber(values.get(tag));
  if (value === undefined) throw invalid(`${name} is not a number`);
  return value;
}

function invalid(message: string): Error {
  return dicomError('DICOM_IMAGE_ATTRIBUTES_INVALID', message);
}
