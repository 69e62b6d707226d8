/**
 * Immerkær's fast noise estimate (J. Immerkær, "Fast noise variance estimation", Computer Vision and
 * Image Understanding 64(2), 1996): σ = √(π/2) / (6 (W − 2)(H − 2)) · Σ |(I ∗ N)(x, y)| over interior
 * pixels, with N the difference of two Laplacians [[1, −2, 1], [−2, 4, −2], [1, −2, 1]], which
 * cancels image structure up to second order. On the analysis image in [0, 1]. At 28 × 28 pixels the
 * estimate also picks up fine anatomy, so it is a feature to compare between datasets, not a
 * calibrated noise level; the gate does not use it.
 */
export function estimateNoiseSigma(pixels: Float32Array | Float64Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  let total = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v =
        (pixels[i - width - 1] as number) -
        2 * (pixels[i - width] as number) +
        (pixels[i - width + 1] as number) -
        2 * (pixels[i - 1] as number) +
        4 * (pixels[i] as number) -
        2 * (pixels[i + 1] as number) +
        (pixels[i + width - 1] as number) -
        2 * (pixels[i + width] as number) +
        (pixels[i + width + 1] as number);
      total += Math.abs(v);
    }
  }
  return (Math.sqrt(Math.PI / 2) * total) / (6 * (width - 2) * (height - 2));
}
