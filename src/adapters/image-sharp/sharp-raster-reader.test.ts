import sharp from 'sharp';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PlatformError, type ErrorCode } from '../../domain/errors.js';
import { SharpRasterReader } from './sharp-raster-reader.js';

const reader = new SharpRasterReader();

/** Test images are made in code with sharp itself; grey needs an explicit colourspace to stay one channel. */
async function png(
  values: Uint8Array | Uint16Array,
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  options: { palette?: boolean } = {},
): Promise<Uint8Array> {
  const sixteen = values instanceof Uint16Array;
  const grey = channels <= 2;
  let image = sharp(values, { raw: { width, height, channels } });
  if (grey) image = image.toColourspace(sixteen ? 'grey16' : 'b-w');
  else if (sixteen) image = image.toColourspace('rgb16');
  return image.png(options.palette ? { palette: true } : {}).toBuffer();
}

async function jpeg(values: Uint8Array, width: number, height: number, channels: 1 | 3, options: { cmyk?: boolean } = {}): Promise<Uint8Array> {
  let image = sharp(values, { raw: { width, height, channels } });
  if (channels === 1) image = image.toColourspace('b-w');
  if (options.cmyk) image = image.toColourspace('cmyk');
  return image.jpeg({ quality: 100 }).toBuffer();
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG whose header claims width × height 8-bit grey pixels, with `rows` rows of zeros actually deflated. */
function claimedPng(width: number, height: number, rows: number): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, adaptive filtering, no interlace
  const raw = new Uint8Array(rows * (width + 1)); // filter byte 0 + zeros, per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PlatformError);
  expect((error as PlatformError).code).toBe(code);
}

describe('SharpRasterReader', () => {
  it('recognises PNG and JPEG signatures only', async () => {
    expect(reader.isRaster(await png(new Uint8Array([1, 2, 3, 4]), 2, 2, 1))).toBe(true);
    expect(reader.isRaster(await jpeg(new Uint8Array([1, 2, 3, 4]), 2, 2, 1))).toBe(true);
    expect(reader.isRaster(new TextEncoder().encode('GIF89a......'))).toBe(false);
    expect(reader.isRaster(new Uint8Array(0))).toBe(false);
    expect(reader.isRaster(new Uint8Array([0xff, 0xd8]))).toBe(false);
  });

  it('reads 8-bit grey PNG as one MONOCHROME2 channel with identity attributes', async () => {
    const values = Uint8Array.from({ length: 6 * 4 }, (_, i) => i * 10);
    const frame = await reader.readRaster(await png(values, 6, 4, 1));
    expect(frame).toMatchObject({ frameIndex: 0, rows: 4, columns: 6, samplesPerPixel: 1 });
    expect(frame.pixels).toBeInstanceOf(Uint8Array);
    expect(Array.from(frame.pixels)).toEqual(Array.from(values));
    expect(frame.attributes).toEqual({
      source: 'raster',
      photometricInterpretation: 'MONOCHROME2',
      originalPhotometric: 'MONOCHROME2',
      bitsAllocated: 8,
      bitsStored: 8,
      pixelRepresentation: 0,
      rescaleSlope: 1,
      rescaleIntercept: 0,
      windows: [],
      voiLutFunction: 'LINEAR',
      numberOfFrames: 1,
      lossyCompressed: false,
    });
  });

  it('keeps 16-bit PNG at 16 bits, grey and colour, dropping alpha', async () => {
    const grey = await reader.readRaster(await png(new Uint16Array([0, 1000, 65535, 300]), 2, 2, 1));
    expect(grey.pixels).toBeInstanceOf(Uint16Array);
    expect(Array.from(grey.pixels)).toEqual([0, 1000, 65535, 300]);
    expect(grey.attributes).toMatchObject({ bitsAllocated: 16, bitsStored: 16, photometricInterpretation: 'MONOCHROME2' });

    const rgba = await reader.readRaster(await png(new Uint16Array([1, 2, 3, 4, 1000, 2000, 65535, 0]), 2, 1, 4));
    expect(rgba.samplesPerPixel).toBe(3);
    expect(Array.from(rgba.pixels)).toEqual([1, 2, 3, 1000, 2000, 65535]);

    const greyAlpha = await reader.readRaster(await png(new Uint16Array([1, 65535, 5000, 0]), 2, 1, 2));
    expect(greyAlpha.samplesPerPixel).toBe(1);
    expect(Array.from(greyAlpha.pixels)).toEqual([1, 5000]);
  });

  it('reads 8-bit RGB, RGBA and palette PNG as RGB', async () => {
    const rgb = await reader.readRaster(await png(new Uint8Array([1, 2, 3, 250, 251, 252]), 2, 1, 3));
    expect(rgb.attributes.photometricInterpretation).toBe('RGB');
    expect(Array.from(rgb.pixels)).toEqual([1, 2, 3, 250, 251, 252]);
    const rgba = await reader.readRaster(await png(new Uint8Array([255, 0, 0, 128, 0, 255, 0, 255]), 2, 1, 4));
    expect(Array.from(rgba.pixels)).toEqual([255, 0, 0, 0, 255, 0]);
    const palette = await reader.readRaster(await png(new Uint8Array([255, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0, 255]), 2, 2, 3, { palette: true }));
    expect(palette.samplesPerPixel).toBe(3);
    expect(Array.from(palette.pixels)).toEqual([255, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0, 255]);
  });

  it('reads an RGB PNG whose pixels are all neutral (R = G = B) as one grey channel', async () => {
    const frame = await reader.readRaster(await png(new Uint8Array([7, 7, 7, 200, 200, 200]), 2, 1, 3));
    expect(frame.samplesPerPixel).toBe(1);
    expect(frame.attributes.photometricInterpretation).toBe('MONOCHROME2');
    expect(Array.from(frame.pixels)).toEqual([7, 200]);
  });

  it('reads JPEG as lossy, grey as one channel and colour (also CMYK) as RGB', async () => {
    const values = Uint8Array.from({ length: 16 * 16 }, (_, i) => (i % 16) * 16);
    const grey = await reader.readRaster(await jpeg(values, 16, 16, 1));
    expect(grey).toMatchObject({ samplesPerPixel: 1, rows: 16, columns: 16 });
    expect(grey.attributes).toMatchObject({ lossyCompressed: true, photometricInterpretation: 'MONOCHROME2', bitsStored: 8 });
    grey.pixels.forEach((value, i) => expect(Math.abs(value - (values[i] ?? 0))).toBeLessThanOrEqual(3));

    const colour = await reader.readRaster(
      await jpeg(
        Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i * 5) % 256),
        8,
        8,
        3,
      ),
    );
    expect(colour).toMatchObject({ samplesPerPixel: 3 });
    expect(colour.attributes).toMatchObject({ lossyCompressed: true, photometricInterpretation: 'RGB' });
    expect(colour.pixels).toHaveLength(8 * 8 * 3);

    const cmyk = await reader.readRaster(
      await jpeg(
        Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => (i * 11) % 256),
        4,
        4,
        3,
        { cmyk: true },
      ),
    );
    expect(cmyk.samplesPerPixel).toBe(3);
    expect(cmyk.pixels).toHaveLength(4 * 4 * 3);
  });

  it('reads a PNG header itself exactly as sharp reports it: grey or colour, 8 or 16 bits', async () => {
    /** An 8 × 2 PNG of the given IHDR bit depth and colour type, each row filter 0 then `rowBytes` bytes of a pattern. */
    const handMade = (bitDepth: number, colourType: number, rowBytes: number): Uint8Array => {
      const header = Buffer.alloc(13);
      header.writeUInt32BE(8, 0);
      header.writeUInt32BE(2, 4);
      header.set([bitDepth, colourType, 0, 0, 0], 8);
      const raw = Uint8Array.from({ length: 2 * (rowBytes + 1) }, (_, i) => (i % (rowBytes + 1) === 0 ? 0 : (i * 37) % 256));
      return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', header),
        chunk('IDAT', deflateSync(raw)),
        chunk('IEND', new Uint8Array(0)),
      ]);
    };
    const values = Uint8Array.from({ length: 8 * 8 * 4 }, (_, i) => (i * 29) % 256);
    const pngs = [
      handMade(1, 0, 1),
      handMade(2, 0, 2),
      handMade(4, 0, 4),
      handMade(8, 0, 8),
      handMade(16, 0, 16),
      handMade(8, 2, 24),
      handMade(16, 6, 64),
      handMade(8, 4, 16),
      await png(values.subarray(0, 64), 8, 8, 1),
      await png(values.subarray(0, 192), 8, 8, 3),
      await png(values.subarray(0, 128), 8, 8, 2),
      await png(values, 8, 8, 4),
      await png(
        Uint16Array.from(values.subarray(0, 64), (v) => v * 257),
        8,
        8,
        1,
      ),
      await sharp(values.subarray(0, 64), { raw: { width: 8, height: 8, channels: 1 } })
        .toColourspace('b-w')
        .png({ progressive: true })
        .toBuffer(),
    ];
    for (const bytes of pngs) {
      const metadata = await sharp(bytes).metadata();
      const frame = await reader.readRaster(bytes);
      expect([frame.columns, frame.rows]).toEqual([metadata.width, metadata.height]);
      expect(frame.samplesPerPixel).toBe(metadata.channels <= 2 ? 1 : 3);
      expect(frame.attributes.bitsStored).toBe(metadata.depth === 'ushort' ? 16 : 8);
    }
  });

  it('refuses a decompression bomb from its header, before decoding', async () => {
    const bomb = claimedPng(100_000, 100_000, 4); // 10 gigapixels claimed in a few hundred bytes
    expect(bomb.length).toBeLessThan(2000);
    const started = performance.now();
    await expectCode(reader.readRaster(bomb), 'INPUT_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(1000);
    const small = await png(new Uint8Array(100 * 100), 100, 100, 1);
    await expectCode(new SharpRasterReader({ maxPixels: 9_999 }).readRaster(small), 'INPUT_TOO_LARGE');
  });

  it('refuses corrupt, truncated and foreign data with IMAGE_DECODE_FAILED', async () => {
    const good = await png(
      Uint8Array.from({ length: 64 * 64 }, (_, i) => i % 251),
      64,
      64,
      1,
    );
    await expectCode(reader.readRaster(good.subarray(0, good.length - 30)), 'IMAGE_DECODE_FAILED');
    const lying = claimedPng(64, 64, 3); // header says 64 rows, the data holds 3
    await expectCode(reader.readRaster(lying), 'IMAGE_DECODE_FAILED');
    const photo = await jpeg(
      Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7) % 256),
      64,
      64,
      3,
    );
    await expectCode(reader.readRaster(photo.subarray(0, Math.floor(photo.length / 2))), 'IMAGE_DECODE_FAILED');
    await expectCode(reader.readRaster(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])), 'IMAGE_DECODE_FAILED');
    await expectCode(reader.readRaster(new TextEncoder().encode('GIF89a......')), 'IMAGE_DECODE_FAILED');
  });
});
