import sharp from 'sharp';

/** A textured 64×64 greyscale PNG (not constant, not blurred), made in code; `seed` varies the texture. */
export async function texturedGreyPng(seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(64 * 64);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (((i * 7919 + seed * 104729) % 251) + (i % 64) * 2) % 256;
  return sharp(pixels, { raw: { width: 64, height: 64, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}
