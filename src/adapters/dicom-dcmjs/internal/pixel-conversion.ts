/**
 * Pure conversions from stored bytes to the samples the domain receives: natural typed array, host byte
 * order, unused high bits cleared or sign-extended, colour interleaved and in RGB.
 */
import type { PaletteLut } from './image-attributes.js';

export type SampleArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

export interface SampleFormat {
  readonly bitsAllocated: 8 | 16 | 32;
  readonly bitsStored: number;
  readonly signed: boolean;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Copies `count` samples out of `bytes` into a new array of the natural type (signed 16-bit → Int16Array, …).
 * Bits above Bits Stored may hold overlays or garbage (PS3.5 8.1.1): they are cleared for unsigned data and
 * replaced by the sign bit for signed data, so every value is the stored value itself.
 */
export function readSamples(bytes: Uint8Array, count: number, format: SampleFormat, littleEndian: boolean): SampleArray {
  const width = format.bitsAllocated / 8;
  const buffer = new ArrayBuffer(count * width);
  const raw = new Uint8Array(buffer);
  raw.set(bytes.subarray(0, count * width));
  if (width > 1 && littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(raw, width);
  const samples = typedArrayOf(buffer, format);
  const unused = format.bitsAllocated - format.bitsStored;
  if (unused > 0) {
    if (format.signed) {
      const shift = 32 - format.bitsStored;
      for (let i = 0; i < samples.length; i++) samples[i] = ((samples[i] ?? 0) << shift) >> shift;
    } else {
      const mask = 2 ** format.bitsStored - 1;
      for (let i = 0; i < samples.length; i++) samples[i] = ((samples[i] ?? 0) & mask) >>> 0;
    }
  }
  return samples;
}

function typedArrayOf(buffer: ArrayBuffer, format: SampleFormat): SampleArray {
  switch (format.bitsAllocated) {
    case 8:
      return format.signed ? new Int8Array(buffer) : new Uint8Array(buffer);
    case 16:
      return format.signed ? new Int16Array(buffer) : new Uint16Array(buffer);
    case 32:
      return format.signed ? new Int32Array(buffer) : new Uint32Array(buffer);
  }
}

function swapBytes(raw: Uint8Array, width: number): void {
  for (let i = 0; i + width <= raw.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = raw[a] ?? 0;
      raw[a] = raw[b] ?? 0;
      raw[b] = t;
    }
  }
}

/** 1-bit data (PS3.5 D.1.1): pixels packed from the least significant bit, continuing across frames. */
export function unpackBits(bytes: Uint8Array, firstBit: number, count: number): Uint8Array {
  const pixels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = firstBit + i;
    pixels[i] = ((bytes[bit >>> 3] ?? 0) >> (bit & 7)) & 1;
  }
  return pixels;
}

function sameType<T extends SampleArray>(like: T, length: number): T {
  return new (like.constructor as new (length: number) => T)(length);
}

/** Planar Configuration 1 (RRR…GGG…BBB…) to interleaved (RGBRGB…). */
export function planarToInterleaved<T extends SampleArray>(samples: T, pixelCount: number): T {
  const out = sameType(samples, pixelCount * 3);
  for (let i = 0; i < pixelCount; i++) {
    out[i * 3] = samples[i] ?? 0;
    out[i * 3 + 1] = samples[pixelCount + i] ?? 0;
    out[i * 3 + 2] = samples[2 * pixelCount + i] ?? 0;
  }
  return out;
}

/** YBR_FULL_422 as stored (PS3.3 C.7.6.3.1.2): Y1 Y2 Cb Cr per pair of pixels, to YBR_FULL per pixel. */
export function expandYbr422<T extends SampleArray>(samples: T, pixelCount: number): T {
  const out = sameType(samples, pixelCount * 3);
  for (let pair = 0; pair < pixelCount / 2; pair++) {
    const y1 = samples[pair * 4] ?? 0;
    const y2 = samples[pair * 4 + 1] ?? 0;
    const cb = samples[pair * 4 + 2] ?? 0;
    const cr = samples[pair * 4 + 3] ?? 0;
    out.set([y1, cb, cr, y2, cb, cr], pair * 6);
  }
  return out;
}

/**
 * YBR_FULL to RGB in place, inverting PS3.3 C.7.6.3.1.2 (the JFIF equations, full range, chroma offset
 * 2^(Bits Stored − 1)): R = Y + 1.402 Cr', G = Y − 0.344136 Cb' − 0.714136 Cr', B = Y + 1.772 Cb', rounded
 * to nearest and clamped. Used for native and RLE data; the JPEG decoder converts its own output.
 */
export function ybrFullToRgb(samples: SampleArray, bitsStored: number): void {
  const half = 2 ** (bitsStored - 1);
  const max = 2 ** bitsStored - 1;
  const clamp = (value: number): number => Math.min(max, Math.max(0, Math.round(value)));
  for (let i = 0; i + 2 < samples.length; i += 3) {
    const y = samples[i] ?? 0;
    const cb = (samples[i + 1] ?? 0) - half;
    const cr = (samples[i + 2] ?? 0) - half;
    samples[i] = clamp(y + 1.402 * cr);
    samples[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    samples[i + 2] = clamp(y + 1.772 * cb);
  }
}

/** PALETTE COLOR through its lookup table (C.7.6.3.1.5): indices below/above the table take its first/last entry. */
export function applyPalette(indices: SampleArray, lut: PaletteLut): Uint8Array | Uint16Array {
  const out = lut.bits === 8 ? new Uint8Array(indices.length * 3) : new Uint16Array(indices.length * 3);
  const last = lut.red.length - 1;
  for (let i = 0; i < indices.length; i++) {
    const entry = Math.min(last, Math.max(0, (indices[i] ?? 0) - lut.firstMapped));
    out[i * 3] = lut.red[entry] ?? 0;
    out[i * 3 + 1] = lut.green[entry] ?? 0;
    out[i * 3 + 2] = lut.blue[entry] ?? 0;
  }
  return out;
}
