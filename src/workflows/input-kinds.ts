import { PlatformError } from '../domain/errors.js';
import type { ImageAttributes, ImageFrame } from '../domain/image/image-frame.js';
import type { DicomReader, InstanceIdentifiers, RasterReader } from '../ports/image-readers.js';

/** The kinds of image file Vigil reads today; whole-slide images and video join here. */
export type InputKindName = 'dicom' | 'raster';

/** An input file opened by its kind: what it says about itself, and its frames, decoded on demand. */
export interface OpenedInput {
  readonly kind: InputKindName;
  /** Identifiers the file carries (DICOM only), used only to derive pseudonymous keys; never logged or stored. */
  readonly identifiers: InstanceIdentifiers;
  /** The file's own attributes (DICOM); undefined for a kind whose attributes come with its decoded frame (PNG/JPEG). */
  readonly attributes: ImageAttributes | undefined;
  readonly frameCount: number;
  /** Decodes frame `index` (0-based). Throws a PlatformError of the kind's reader on failure. */
  decodeFrame(index: number): Promise<ImageFrame>;
}

/** One kind of input: how to recognise its bytes and how to open them. */
export interface InputKind {
  readonly name: InputKindName;
  /** As error messages name it, e.g. "DICOM Part 10". */
  readonly label: string;
  /**
   * Whether the file's own headers can carry patient identifiers, so that it must be de-identified at
   * the door before anything else reads it (DICOM), or carries none Vigil reads (PNG/JPEG pixels only).
   */
  readonly carriesIdentifiers: boolean;
  /**
   * Whether the file says what it shows (modality, body part, view); a kind that cannot takes what the
   * sender declares (RasterDeclaration) instead.
   */
  readonly selfDescribing: boolean;
  detects(bytes: Uint8Array): boolean;
  open(bytes: Uint8Array): Promise<OpenedInput>;
}

/**
 * The input kinds a process reads, in the order they are tried. Every workflow that reads an image
 * (predict, serve, evaluate, the case viewer) opens it here, so a new kind is added in one place.
 */
export class InputKinds {
  readonly #kinds: readonly InputKind[];

  constructor(kinds: readonly InputKind[]) {
    this.#kinds = kinds;
  }

  /** The kind whose signature the bytes carry, if any. */
  kindOf(bytes: Uint8Array): InputKind | undefined {
    return this.#kinds.find((k) => k.detects(bytes));
  }

  /** Opens the bytes with their kind; INPUT_FORMAT_UNKNOWN names the kinds accepted when none recognises them. */
  async open(bytes: Uint8Array): Promise<OpenedInput> {
    return this.require(bytes).open(bytes);
  }

  require(bytes: Uint8Array): InputKind {
    const kind = this.kindOf(bytes);
    if (kind === undefined) throw new PlatformError('INPUT_FORMAT_UNKNOWN', `The file is none of: ${this.#kinds.map((k) => k.label).join(', ')}`, {});
    return kind;
  }
}

/** DICOM Part 10 (or a bare dataset), through the DICOM reader. */
export function dicomInputKind(reader: DicomReader): InputKind {
  return {
    name: 'dicom',
    label: 'DICOM',
    carriesIdentifiers: true,
    selfDescribing: true,
    detects: (bytes) => reader.isDicom(bytes),
    async open(bytes) {
      const instance = await reader.readInstance(bytes);
      return {
        kind: 'dicom',
        identifiers: instance.identifiers,
        attributes: instance.attributes,
        frameCount: instance.frameCount,
        decodeFrame: (index) => instance.decodeFrame(index),
      };
    },
  };
}

/** PNG or JPEG, one frame, through the raster reader (decoded when its frame is asked for). */
export function rasterInputKind(reader: RasterReader): InputKind {
  return {
    name: 'raster',
    label: 'PNG/JPEG',
    carriesIdentifiers: false,
    selfDescribing: false,
    detects: (bytes) => reader.isRaster(bytes),
    open(bytes) {
      // Nothing to parse before the pixels: the frame is decoded when it is asked for.
      return Promise.resolve({
        kind: 'raster',
        identifiers: {},
        attributes: undefined,
        frameCount: 1,
        decodeFrame: (index) =>
          index === 0 ? reader.readRaster(bytes) : Promise.reject(new PlatformError('IMAGE_DECODE_FAILED', 'A PNG/JPEG has one frame', { index })),
      });
    },
  };
}

/** The kinds every Vigil process reads today, in the order they are tried. */
export function standardInputKinds(readers: { readonly dicom: DicomReader; readonly raster: RasterReader }): InputKinds {
  return new InputKinds([dicomInputKind(readers.dicom), rasterInputKind(readers.raster)]);
}
