import { unzipSync } from 'fflate';
import { PlatformError } from '../../domain/errors.js';
import type { RasterDeclaration } from '../../domain/image/image-frame.js';

/** VIGIL_MAX_INPUT_BYTES's default. */
const DEFAULT_MAX_UNPACKED_BYTES = 2 * 1024 ** 3 - 1;

export interface NpyArray {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Reads the `.npy` members of a NumPy `.npz` (a zip). Only uint8 arrays in C order are needed for
 * MedMNIST; the NPY header format (NEP 1) is small and fixed, so it is parsed here rather than
 * pulling in a numerical library.
 */
export function readNpz(bytes: Uint8Array, maxUnpackedBytes: number = DEFAULT_MAX_UNPACKED_BYTES): ReadonlyMap<string, NpyArray> {
  let members: Record<string, Uint8Array>;
  let unpacked = 0;
  try {
    // fflate allocates each member at the size the archive declares and never writes past it, so
    // bounding the declared sizes bounds the memory: a zip bomb is refused before it is inflated.
    members = unzipSync(bytes, {
      filter: (member) => {
        if (!member.name.endsWith('.npy')) return false;
        unpacked += member.originalSize;
        if (unpacked > maxUnpackedBytes)
          throw new PlatformError('INPUT_TOO_LARGE', `The .npz unpacks to more than ${maxUnpackedBytes} bytes, the most it may (VIGIL_MAX_INPUT_BYTES)`, {
            maxBytes: maxUnpackedBytes,
          });
        return true;
      },
    });
  } catch (cause) {
    if (cause instanceof PlatformError) throw cause;
    throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'The dataset file is not a valid .npz (zip) archive', {}, { cause });
  }
  const arrays = new Map<string, NpyArray>();
  for (const [name, member] of Object.entries(members)) {
    if (name.endsWith('.npy')) arrays.set(name.slice(0, -4), parseNpy(member, name));
  }
  return arrays;
}

export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) {
    throw new PlatformError('INPUT_FORMAT_UNKNOWN', `Member ${name} is not an .npy array`, { member: name });
  }
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + headerStart, headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new PlatformError('INPUT_FORMAT_UNKNOWN', `Member ${name} has an unreadable .npy header`, { member: name });
  }
  if (descr !== '|u1' || fortran !== 'False') {
    throw new PlatformError(
      'INPUT_FORMAT_UNKNOWN',
      `Member ${name} is ${descr}${fortran === 'True' ? ' (Fortran order)' : ''}; only C-order uint8 is supported`,
      { member: name },
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = bytes.subarray(headerStart + headerLength);
  if (data.length !== count) {
    throw new PlatformError('INPUT_FORMAT_UNKNOWN', `Member ${name} holds ${data.length} bytes for shape (${shape.join(',')})`, { member: name });
  }
  return { dtype: descr, shape, data };
}

export interface LabelledImages {
  readonly images: readonly Uint8Array[];
  readonly labels: readonly number[];
  readonly width: number;
  readonly height: number;
}

/** One split of a MedMNIST 2D .npz: N × H × W uint8 images and N × 1 labels. */
export function readMedmnistSplit(bytes: Uint8Array, split: 'train' | 'val' | 'test', maxUnpackedBytes?: number): LabelledImages {
  const arrays = readNpz(bytes, maxUnpackedBytes);
  const images = arrays.get(`${split}_images`);
  const labels = arrays.get(`${split}_labels`);
  if (images === undefined || labels === undefined || images.shape.length !== 3) {
    throw new PlatformError('INPUT_FORMAT_UNKNOWN', `The .npz has no 2D ${split} split`, { split });
  }
  const [n, height, width] = images.shape as [number, number, number];
  const plane = height * width;
  return {
    images: Array.from({ length: n }, (_, i) => images.data.subarray(i * plane, (i + 1) * plane)),
    labels: Array.from(labels.data.subarray(0, n)),
    width,
    height,
  };
}

/**
 * What a PneumoniaMNIST image is, declared as a device integration would declare it (the images carry
 * no header): a frontal chest radiograph of a child aged 1 to 5 years. The age is the population's
 * range, not a made-up age: Kermany et al. 2018 collected the films from patients of one to five years,
 * and no image carries its own age. Used by the demo's PNGs and by `medmnist:` evaluation datasets.
 */
export const PNEUMONIAMNIST_DECLARATION = {
  modality: 'CR',
  bodyPartExamined: 'CHEST',
  viewPosition: 'PA',
  patientAgeYears: { min: 1, max: 5 },
} as const satisfies RasterDeclaration;
