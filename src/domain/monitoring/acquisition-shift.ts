/**
 * An acquisition shift applied to an 8-bit greyscale image, in the manner of MedMNIST-C (Di Salvo et al.
 * 2024) and as the monitoring proof applies it (scripts/monitoring-proof.mjs): contrast reduced about the
 * image's own mean, x ↦ round((x − m)·c + m) clamped to [0, 255]. At c = 0.7 (the proof's moderate
 * severity) the contrast detector alarms after a median of 13 images (docs/monitoring.md).
 *
 * @example reduceContrast8(pixels, 0.7) // the demo's shifted device
 */
export function reduceContrast8(pixels: Uint8Array, factor: number): Uint8Array {
  if (!(factor >= 0 && factor <= 1)) throw new RangeError('factor must be in [0, 1]');
  let sum = 0;
  for (const v of pixels) sum += v;
  const mean = pixels.length === 0 ? 0 : sum / pixels.length;
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const v = (pixels[i]! - mean) * factor + mean;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}
