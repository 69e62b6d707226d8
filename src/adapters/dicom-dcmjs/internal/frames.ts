/**
 * Which fragments of encapsulated Pixel Data make up which frame (PS3.5 A.4). In order of trust:
 * 1. one frame: every fragment;
 * 2. the Basic Offset Table, when it has one entry per frame that each land on a fragment's item tag;
 * 3. the Extended Offset Table (7FE0,0001), under the same condition;
 * 4. as many fragments as frames: one each (A.4: RLE and the uncompressed syntax always do this);
 * 5. more fragments than frames: a frame starts at a fragment that opens a codestream (JPEG / JPEG-LS SOI
 *    FFD8, JPEG 2000 SOC+SIZ FF4F FF51) right after a fragment that closes one (EOI/EOC FFD9, NUL padding
 *    allowed). Entropy-coded JPEG data cannot contain FFD8, but J2K packet data can contain FF4F, so the
 *    closing marker is required too.
 * Anything else cannot be split safely and is refused.
 */
import { dicomError } from './dicom-error.js';
import type { Fragment } from './dataset-scanner.js';
import type { PixelEncoding } from './transfer-syntax.js';

/** Fragments `first` to `first + count - 1` (indices into the data fragments, Basic Offset Table excluded). */
export interface FrameFragments {
  readonly first: number;
  readonly count: number;
}

export type FrameSplit = 'single' | 'basic-offset-table' | 'extended-offset-table' | 'one-per-frame' | 'markers';

export interface FramePlan {
  readonly split: FrameSplit;
  readonly frames: readonly FrameFragments[];
}

export function planFrames(
  bytes: Uint8Array,
  fragments: readonly Fragment[],
  frameCount: number,
  encoding: PixelEncoding,
  extendedOffsets?: readonly number[],
): FramePlan {
  const [table, ...data] = fragments;
  if (table === undefined || data.length === 0) throw dicomError('DICOM_NO_PIXEL_DATA', 'Encapsulated Pixel Data has no fragments');
  if (frameCount === 1) return { split: 'single', frames: [{ first: 0, count: data.length }] };
  if (data.length < frameCount) throw splitFailed();

  const fromTable = table.length > 0 ? framesFromOffsets(readBasicOffsets(bytes, table), data, frameCount) : undefined;
  if (fromTable) return { split: 'basic-offset-table', frames: fromTable };
  const fromExtended = extendedOffsets ? framesFromOffsets(extendedOffsets, data, frameCount) : undefined;
  if (fromExtended) return { split: 'extended-offset-table', frames: fromExtended };
  if (data.length === frameCount) return { split: 'one-per-frame', frames: data.map((_, first) => ({ first, count: 1 })) };

  const fromMarkers = framesFromMarkers(bytes, data, frameCount, encoding);
  if (fromMarkers) return { split: 'markers', frames: fromMarkers };
  throw splitFailed();
}

/** The bytes of one frame: a view when it is one fragment, a copy when it spans several. */
export function assembleFrame(bytes: Uint8Array, fragments: readonly Fragment[], frame: FrameFragments): Uint8Array {
  const data = fragments.slice(1 + frame.first, 1 + frame.first + frame.count);
  const only = data[0];
  if (data.length === 1 && only !== undefined) return bytes.subarray(only.valueOffset, only.valueOffset + only.length);
  const total = data.reduce((sum, fragment) => sum + fragment.length, 0);
  const frameBytes = new Uint8Array(total);
  let offset = 0;
  for (const fragment of data) {
    frameBytes.set(bytes.subarray(fragment.valueOffset, fragment.valueOffset + fragment.length), offset);
    offset += fragment.length;
  }
  return frameBytes;
}

function readBasicOffsets(bytes: Uint8Array, table: Fragment): number[] {
  if (table.length % 4 !== 0) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset + table.valueOffset, table.length);
  const offsets: number[] = [];
  for (let i = 0; i < table.length; i += 4) offsets.push(view.getUint32(i, true));
  return offsets;
}

/** Offsets count from the first fragment's item tag; each must hit one, first at 0, strictly increasing. */
function framesFromOffsets(offsets: readonly number[], data: readonly Fragment[], frameCount: number): FrameFragments[] | undefined {
  const first = data[0];
  if (first === undefined || offsets.length !== frameCount || offsets[0] !== 0) return undefined;
  const indexOf = new Map<number, number>(data.map((fragment, index) => [fragment.itemOffset - first.itemOffset, index]));
  const starts: number[] = [];
  for (const offset of offsets) {
    const index = indexOf.get(offset);
    const previous = starts[starts.length - 1];
    if (index === undefined || (previous !== undefined && index <= previous)) return undefined;
    starts.push(index);
  }
  return toFrames(starts, data.length);
}

function framesFromMarkers(bytes: Uint8Array, data: readonly Fragment[], frameCount: number, encoding: PixelEncoding): FrameFragments[] | undefined {
  const opens = codestreamStart(encoding);
  if (opens === undefined) return undefined;
  const starts: number[] = [];
  data.forEach((fragment, index) => {
    const previous = data[index - 1];
    if (opens(bytes, fragment) && (previous === undefined || closesCodestream(bytes, previous))) starts.push(index);
  });
  if (starts.length !== frameCount || starts[0] !== 0) return undefined;
  return toFrames(starts, data.length);
}

function toFrames(starts: readonly number[], fragmentCount: number): FrameFragments[] {
  return starts.map((first, index) => ({ first, count: (starts[index + 1] ?? fragmentCount) - first }));
}

type StartTest = (bytes: Uint8Array, fragment: Fragment) => boolean;

function codestreamStart(encoding: PixelEncoding): StartTest | undefined {
  switch (encoding) {
    case 'jpeg':
    case 'jpeg-ls':
      return (bytes, { valueOffset: at, length }) => length >= 2 && bytes[at] === 0xff && bytes[at + 1] === 0xd8;
    case 'jpeg2000':
    case 'htj2k':
      return (bytes, { valueOffset: at, length }) =>
        length >= 4 && bytes[at] === 0xff && bytes[at + 1] === 0x4f && bytes[at + 2] === 0xff && bytes[at + 3] === 0x51;
    case 'native':
    case 'encapsulated-native':
    case 'rle':
      return undefined;
  }
}

/** EOI (JPEG, JPEG-LS) and EOC (JPEG 2000) are both FFD9; writers pad odd lengths with NUL, some with more. */
function closesCodestream(bytes: Uint8Array, fragment: Fragment): boolean {
  let end = fragment.valueOffset + fragment.length;
  const stop = Math.max(fragment.valueOffset, end - 8);
  while (end > stop && bytes[end - 1] === 0x00) end--;
  return end - fragment.valueOffset >= 2 && bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9;
}

function splitFailed(): Error {
  return dicomError('DICOM_PIXEL_LENGTH_MISMATCH', 'Encapsulated Pixel Data does not hold the declared number of frames');
}
