import type { DisplayImage } from '../domain/image/render-for-display.js';

export interface ImageEncoder {
  /**
   * PNG of an 8-bit display image, shrunk (never enlarged) so that its longer side is at most
   * `maxSide` pixels, with area averaging. No metadata is written.
   */
  encodePng(image: Pick<DisplayImage, 'width' | 'height' | 'channels' | 'data'>, maxSide: number): Promise<Uint8Array>;
}
