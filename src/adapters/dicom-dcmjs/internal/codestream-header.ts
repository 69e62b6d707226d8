/**
 * Reads the frame header of a codestream before the codec sees it, so that the codec never allocates what
 * the codestream claims: its width, height and component count must be the ones the DICOM attributes
 * declare (and the reader has already bounded), and a JPEG 2000 tile grid must stay small.
 * - JPEG (ITU-T T.81 B.2.2) and JPEG-LS (T.87 C.2.2): SOFn / SOF55 after SOI, reached by skipping segments.
 * - JPEG 2000 and HTJ2K (T.800 A.5.1): SOC then SIZ, always first.
 * - RLE (PS3.5 G.4): the 64-byte header, whose segment count follows from the attributes.
 */
import { dicomError } from './dicom-error.js';
import type { PixelEncoding } from './transfer-syntax.js';

export interface ExpectedFrame {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
}

/**
 * Tiles OpenJPEG sets up before decoding. 4096 covers a 65535² image in 1024² tiles; the small tiles a
 * hostile codestream declares (1×1 over a large canvas) would otherwise cost memory and time per tile.
 */
export const MAX_J2K_TILES = 4096;

export function checkCodestream(encoding: PixelEncoding, bytes: Uint8Array, expected: ExpectedFrame): void {
  switch (encoding) {
    case 'jpeg':
    case 'jpeg-ls':
      return checkJpeg(bytes, expected);
    case 'jpeg2000':
    case 'htj2k':
      return checkJ2k(bytes, expected);
    case 'rle':
      return checkRle(bytes, expected);
    case 'native':
    case 'encapsulated-native':
      return;
  }
}

// SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC); SOF55 (F7) for JPEG-LS.
const FRAME_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf, 0xf7]);

function checkJpeg(bytes: Uint8Array, expected: ExpectedFrame): void {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw mismatch('The frame is not a JPEG codestream');
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) throw mismatch('The JPEG codestream is malformed');
    const marker = bytes[pos + 1] ?? 0;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2; // standalone markers
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // scan or end before any frame header
    const length = readU16(bytes, pos + 2);
    if (length < 2 || pos + 2 + length > bytes.length) throw mismatch('The JPEG codestream is malformed');
    if (FRAME_MARKERS.has(marker)) {
      if (length < 8) throw mismatch('The JPEG frame header is malformed');
      const height = readU16(bytes, pos + 5);
      const width = readU16(bytes, pos + 7);
      const components = bytes[pos + 9] ?? 0;
      return expectSize(width, height, components, expected);
    }
    pos += 2 + length;
  }
  throw mismatch('The JPEG codestream has no frame header');
}

function checkJ2k(bytes: Uint8Array, expected: ExpectedFrame): void {
  if (bytes.length < 42 || bytes[0] !== 0xff || bytes[1] !== 0x4f || bytes[2] !== 0xff || bytes[3] !== 0x51) {
    throw mismatch('The frame is not a JPEG 2000 codestream');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [xsiz, ysiz, xosiz, yosiz, xtsiz, ytsiz, xtosiz, ytosiz] = [8, 12, 16, 20, 24, 28, 32, 36].map((offset) => view.getUint32(offset, false)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const components = view.getUint16(40, false);
  if (xsiz <= xosiz || ysiz <= yosiz || xtsiz === 0 || ytsiz === 0 || xtosiz > xosiz || ytosiz > yosiz)
    throw mismatch('The JPEG 2000 image header is malformed');
  expectSize(xsiz - xosiz, ysiz - yosiz, components, expected);
  const tiles = Math.ceil((xsiz - xtosiz) / xtsiz) * Math.ceil((ysiz - ytosiz) / ytsiz);
  if (tiles > MAX_J2K_TILES)
    throw dicomError('DICOM_LIMIT_EXCEEDED', 'The JPEG 2000 codestream has more tiles than the reader allows', { maxTiles: MAX_J2K_TILES });
}

function checkRle(bytes: Uint8Array, expected: ExpectedFrame): void {
  if (bytes.length < 64) throw mismatch('The RLE frame has no header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== expected.samplesPerPixel * (expected.bitsAllocated / 8)) throw mismatch('The RLE segment count does not match the image attributes');
  let previous = 0;
  for (let i = 0; i < segments; i++) {
    const offset = view.getUint32(4 + i * 4, true);
    if ((i === 0 && offset !== 64) || offset < previous || offset > bytes.length) throw mismatch('The RLE header is malformed');
    previous = offset;
  }
}

function expectSize(width: number, height: number, components: number, expected: ExpectedFrame): void {
  if (width !== expected.columns || height !== expected.rows || components !== expected.samplesPerPixel) {
    throw mismatch('The codestream size does not match the image attributes');
  }
}

function readU16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

function mismatch(message: string): Error {
  return dicomError('DICOM_PIXEL_DECODE_FAILED', message);
}
