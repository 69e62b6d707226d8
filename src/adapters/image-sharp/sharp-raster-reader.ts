/**
 * RasterReader over sharp (libvips): PNG and JPEG to one frame of stored values. Grey stays one channel,
 * colour is RGB, alpha is dropped, 16-bit PNG stays 16-bit. The only module that imports sharp.
 *
 * Values are handed over as decoded, without colour management, orientation or any resampling: an exported
 * radiograph's grey levels are data.
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { PlatformError } from '../../domain/errors.js';
import { rasterAttributes, type ImageFrame } from '../../domain/image/image-frame.js';
import type { RasterReader } from '../../ports/image-readers.js';

export interface SharpRasterReaderOptions {
  /**
   * Largest width × height accepted, checked from the header before decoding and enforced by libvips while
   * decoding (`limitInputPixels`). Default 50 megapixels: digital radiography detectors top out near
   * 4.3k × 4.3k (18.5 MP) and full-field mammography near 4.1k × 3.3k, so this leaves headroom while a
   * decompression bomb (a few kilobytes declaring 100k × 100k) is refused; at 16-bit RGB the largest
   * accepted image decodes to 300 MB.
   */
  readonly maxPixels?: number;
}

const DEFAULT_MAX_PIXELS = 50_000_000;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

// libvips keeps decoded images in a process-wide cache for reuse; a reader that decodes each upload once
// gains nothing from it and would hold their memory.
sharp.cache(false);

export class SharpRasterReader implements RasterReader {
  readonly #maxPixels: number;

  constructor(options: SharpRasterReaderOptions = {}) {
    const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (!Number.isSafeInteger(maxPixels) || maxPixels <= 0) throw new PlatformError('CONFIG_INVALID', 'maxPixels must be a positive integer');
    this.#maxPixels = maxPixels;
  }

  isRaster(bytes: Uint8Array): boolean {
    return isPng(bytes) || isJpeg(bytes);
  }

  async readRaster(bytes: Uint8Array): Promise<ImageFrame> {
    const format = isPng(bytes) ? 'png' : isJpeg(bytes) ? 'jpeg' : undefined;
    if (format === undefined) throw new PlatformError('IMAGE_DECODE_FAILED', 'The data is neither PNG nor JPEG');

    // The header alone (no pixel decoding): size and layout, checked before anything is allocated for pixels.
    // A plain PNG's header is read here (saving a libvips call per image); anything else goes to sharp.
    const header = (format === 'png' ? readPngHeader(bytes) : undefined) ?? (await readHeader(bytes, format));
    if (header.width * header.height > this.#maxPixels) {
      throw new PlatformError('INPUT_TOO_LARGE', 'The image has more pixels than the reader allows', { maxPixels: this.#maxPixels });
    }

    const { grey, sixteenBit } = header;
    const colourspace = grey ? (sixteenBit ? 'grey16' : 'b-w') : sixteenBit ? 'rgb16' : 'srgb';
    // 'warning' rejects truncated and corrupt data that libjpeg/libpng would otherwise patch with grey.
    const decoded = await sharp(bytes, { limitInputPixels: this.#maxPixels, failOn: 'warning' })
      .removeAlpha()
      .toColourspace(colourspace)
      .raw({ depth: sixteenBit ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true })
      .catch((error: unknown) => {
        throw new PlatformError('IMAGE_DECODE_FAILED', 'The image cannot be decoded', {}, { cause: error });
      });

    const { width, height, channels } = decoded.info;
    const samplesPerPixel = grey ? 1 : 3;
    const expected = width * height * samplesPerPixel * (sixteenBit ? 2 : 1);
    if (channels !== samplesPerPixel || decoded.data.length !== expected)
      throw new PlatformError('IMAGE_DECODE_FAILED', 'The decoded image does not have the expected layout');

    // Copy into an array of its own: sharp's Buffer may sit at an odd offset in a shared pool.
    const pixels = sixteenBit ? new Uint16Array(width * height * samplesPerPixel) : new Uint8Array(width * height * samplesPerPixel);
    new Uint8Array(pixels.buffer).set(decoded.data);

    // A grey picture saved as RGB (common for device exports and screenshots) is grey: say so, so
    // that a model for greyscale images is not refused a greyscale image.
    if (!grey && isNeutral(pixels)) return this.#frame(collapseToGrey(pixels), width, height, 1, bits(sixteenBit), format);
    return this.#frame(pixels, width, height, samplesPerPixel, bits(sixteenBit), format);
  }

  #frame(pixels: Uint8Array | Uint16Array, width: number, height: number, samplesPerPixel: 1 | 3, bitDepth: number, format: 'png' | 'jpeg'): ImageFrame {
    const attributes = rasterAttributes(samplesPerPixel, bitDepth, format === 'jpeg');
    return Object.freeze({ attributes, frameIndex: 0, rows: height, columns: width, samplesPerPixel, pixels });
  }
}

interface RasterHeader {
  readonly width: number;
  readonly height: number;
  /** Grey, or grey + alpha. */
  readonly grey: boolean;
  readonly sixteenBit: boolean;
}

async function readHeader(bytes: Uint8Array, format: 'png' | 'jpeg'): Promise<RasterHeader> {
  const metadata = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch((error: unknown) => {
      throw new PlatformError('IMAGE_DECODE_FAILED', 'The image header cannot be read', {}, { cause: error });
    });
  if (metadata.format !== format) throw new PlatformError('IMAGE_DECODE_FAILED', 'The image content does not match its signature');
  if (!(metadata.width > 0 && metadata.height > 0)) throw new PlatformError('IMAGE_DECODE_FAILED', 'The image has no size');
  return { width: metadata.width, height: metadata.height, grey: metadata.channels <= 2, sixteenBit: metadata.depth === 'ushort' };
}

/** PNG colour types (PNG spec, 11.2.2 IHDR) read here, with their allowed bit depths; palette images go to sharp. */
const PNG_BIT_DEPTHS: Readonly<Record<number, readonly number[]>> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 4: [8, 16], 6: [8, 16] };

/**
 * The layout sharp's metadata would report for a PNG whose IHDR chunk (PNG spec 11.2.2: the first chunk,
 * 13 bytes, CRC-checked) is well formed and of a grey or truecolour type, or undefined for anything else
 * (then sharp reads the header, and reports what is wrong). libvips loads bit depths below 8 as 8-bit.
 */
function readPngHeader(bytes: Uint8Array): RasterHeader | undefined {
  if (bytes.length < 33) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Length 13, type "IHDR".
  if (view.getUint32(8) !== 13 || view.getUint32(12) !== 0x49484452) return undefined;
  if (crc32(bytes.subarray(12, 29)) !== view.getUint32(29)) return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = bytes[24] as number;
  const colourType = bytes[25] as number;
  const [compression, filter, interlace] = [bytes[26], bytes[27], bytes[28]];
  // PNG spec 12.2: width and height are at most 2^31 - 1.
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return undefined;
  if (compression !== 0 || filter !== 0 || (interlace !== 0 && interlace !== 1)) return undefined;
  if (!(PNG_BIT_DEPTHS[colourType]?.includes(bitDepth) ?? false)) return undefined;
  return { width, height, grey: colourType === 0 || colourType === 4, sixteenBit: bitDepth === 16 };
}

/** Which raster format a file's signature says it is, or undefined for anything else. */
export function rasterKind(bytes: Uint8Array): 'png' | 'jpg' | undefined {
  return isPng(bytes) ? 'png' : isJpeg(bytes) ? 'jpg' : undefined;
}

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= PNG_SIGNATURE.length && PNG_SIGNATURE.every((byte, i) => bytes[i] === byte);
}

/** SOI followed by the start of another marker. */
function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function bits(sixteenBit: boolean): number {
  return sixteenBit ? 16 : 8;
}

/** True when every pixel of an interleaved RGB image has R = G = B. */
function isNeutral(pixels: Uint8Array | Uint16Array): boolean {
  for (let i = 0; i < pixels.length; i += 3) {
    if (pixels[i] !== pixels[i + 1] || pixels[i] !== pixels[i + 2]) return false;
  }
  return true;
}

function collapseToGrey(pixels: Uint8Array | Uint16Array): Uint8Array | Uint16Array {
  const out = pixels instanceof Uint16Array ? new Uint16Array(pixels.length / 3) : new Uint8Array(pixels.length / 3);
  for (let i = 0, j = 0; j < out.length; i += 3, j++) out[j] = pixels[i] as number;
  return out;
}
