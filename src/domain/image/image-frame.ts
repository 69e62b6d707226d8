/**
 * One 2D frame as the readers hand it to the domain: stored pixel values plus the few attributes
 * preprocessing and the gate need. It carries no patient identifier, UID or path.
 */
export type StoredPixels = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array;

export type PhotometricInterpretation = 'MONOCHROME1' | 'MONOCHROME2' | 'RGB' | 'YBR_FULL' | 'YBR_FULL_422' | 'PALETTE COLOR';

export interface VoiWindow {
  readonly center: number;
  readonly width: number;
}

/** Attributes of an image that matter for judging it; none of them identifies a patient. */
export interface ImageAttributes {
  readonly source: 'dicom' | 'raster';
  /** DICOM Modality (0008,0060); absent for PNG/JPEG. */
  readonly modality?: string;
  /** DICOM Body Part Examined (0018,0015), upper case; absent when not declared. */
  readonly bodyPartExamined?: string;
  /** DICOM View Position (0018,5101). */
  readonly viewPosition?: string;
  /** Manufacturer (0008,0070): not in PS3.15 Table E.1-1, kept by de-identification. */
  readonly manufacturer?: string;
  /** Manufacturer's Model Name (0008,1090): not in PS3.15 Table E.1-1, kept by de-identification. */
  readonly manufacturerModelName?: string;
  /**
   * Software Versions (0018,1020), every value (VM 1-n), for the acquisition monitors. Not in PS3.15
   * Table E.1-1 (nor are the next two), so every profile and option keeps it.
   */
  readonly softwareVersions?: readonly string[];
  /** KVP (0018,0060): the peak tube voltage in kV, when stated and positive. */
  readonly kvp?: number;
  /**
   * The spacing of the pixels in mm, (row, column): Pixel Spacing (0028,0030) when stated, else Imager
   * Pixel Spacing (0018,1164), which projection radiography (CR, DX, MG) states at the detector and
   * often alone. Only positive values; a zero placeholder (`0.000\0.000`, seen in CR) counts as not stated.
   * Top-level only: an Enhanced multi-frame instance's Pixel Measures functional group is not read.
   */
  readonly pixelSpacingMm?: readonly [number, number];
  /**
   * Patient's Sex (0010,0040) as the de-identified instance still says it: emptied by the Basic Profile,
   * kept only under Retain Patient Characteristics. Only M, F or O; absent otherwise.
   */
  readonly patientSex?: 'M' | 'F' | 'O';
  readonly sopClassUid?: string;
  readonly transferSyntaxUid?: string;
  /**
   * Photometric interpretation of `pixels` as handed over. Readers convert YBR_* and PALETTE COLOR to
   * RGB, so the domain sees MONOCHROME1, MONOCHROME2 or RGB; the original is kept in `originalPhotometric`.
   */
  readonly photometricInterpretation: 'MONOCHROME1' | 'MONOCHROME2' | 'RGB';
  readonly originalPhotometric: PhotometricInterpretation;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  readonly pixelRepresentation: 0 | 1;
  /** Modality LUT (PS3.3 C.11.1.1.2); identity when absent. Per-frame values already resolved. */
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  /** VOI windows from the file (first is the default); per-frame values already resolved. */
  readonly windows: readonly VoiWindow[];
  readonly voiLutFunction: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  readonly numberOfFrames: number;
  /** Lossy compression was applied at some point (Lossy Image Compression (0028,2110) = 01, or a lossy syntax). */
  readonly lossyCompressed: boolean;
  /** Burned In Annotation (0028,0301), when present. */
  readonly burnedInAnnotation?: 'YES' | 'NO';
}

export interface ImageFrame {
  readonly attributes: ImageAttributes;
  readonly frameIndex: number;
  readonly rows: number;
  readonly columns: number;
  /** 1 (grey) or 3 (RGB). */
  readonly samplesPerPixel: 1 | 3;
  /** Stored values, row-major; RGB interleaved (R,G,B,R,G,B…) whatever the file's Planar Configuration. */
  readonly pixels: StoredPixels;
}

/**
 * What a PNG/JPEG cannot say about itself, declared by the sender or device integration (DICOM
 * inputs carry their own and ignore this).
 */
export interface RasterDeclaration {
  readonly modality?: string;
  readonly bodyPartExamined?: string;
  readonly viewPosition?: string;
  /**
   * The patient's age in whole years (0–130; the gate treats 90 and over alike), for the intended-use
   * gate: a number, or a range known to hold it (a source that knows only its population's ages, e.g.
   * PneumoniaMNIST's children of 1–5). Only years: a date of birth is never declared.
   */
  readonly patientAgeYears?: PatientAgeYears;
}

/** Whole years: exact, or an inclusive range known to contain the age. */
export type PatientAgeYears = number | { readonly min: number; readonly max: number };

/**
 * An age as text: `3`, or `1-5` for a range.
 *
 * @example formatPatientAgeYears({ min: 1, max: 5 }) // '1-5'
 */
export function formatPatientAgeYears(age: PatientAgeYears): string {
  return typeof age === 'number' ? String(age) : age.min === age.max ? String(age.min) : `${age.min}-${age.max}`;
}

/**
 * A PNG/JPEG frame's attributes: presentation values already (no rescale, no windows), grey or RGB,
 * and nothing said about what the image shows (that is declared, RasterDeclaration).
 */
export function rasterAttributes(samplesPerPixel: 1 | 3, bitDepth: number, lossyCompressed: boolean): ImageAttributes {
  const photometric = samplesPerPixel === 1 ? 'MONOCHROME2' : 'RGB';
  return Object.freeze({
    source: 'raster',
    photometricInterpretation: photometric,
    originalPhotometric: photometric,
    bitsAllocated: bitDepth,
    bitsStored: bitDepth,
    pixelRepresentation: 0,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    windows: Object.freeze([]),
    voiLutFunction: 'LINEAR',
    numberOfFrames: 1,
    lossyCompressed,
  });
}
