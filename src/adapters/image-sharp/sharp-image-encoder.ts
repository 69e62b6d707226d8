import sharp from 'sharp';
import type { ImageEncoder } from '../../ports/image-encoder.js';

/** PNG encoding and down-scaling with sharp (libvips) for the review screen. */
export class SharpImageEncoder implements ImageEncoder {
  async encodePng(image: Parameters<ImageEncoder['encodePng']>[0], maxSide: number): Promise<Uint8Array> {
    const { width, height, channels, data } = image;
    let pipeline = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
    if (Math.max(width, height) > maxSide) {
      // libvips' shrink-then-reduce with a Lanczos kernel is its default; fine for a human reader.
      pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
    }
    if (channels === 1) pipeline = pipeline.toColourspace('b-w');
    // sharp writes no EXIF or text chunks unless asked (withMetadata), so nothing rides along.
    return pipeline.png({ compressionLevel: 6 }).toBuffer();
  }
}
