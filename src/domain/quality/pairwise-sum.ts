/**
 * The sum numpy computes for `x.sum()` / `x.mean()` over float64 values (numpy/core/src/umath/
 * loops_utils.h.src, pairwise_sum): fewer than 8 values added in order from 0; up to 128 values in
 * eight interleaved partial sums combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then
 * the remainder in order; more, split at half (rounded down to a multiple of 8) and each half summed
 * so. Its rounding error grows with log n, not n, and it is bit for bit what numpy gives, so
 * statistics that Python computed (models/pneumonia-demo/train.py) can be reproduced exactly.
 *
 * `count` values from `offset`, `stride` apart.
 */
export function pairwiseSum(values: ArrayLike<number>, offset = 0, count = values.length, stride = 1): number {
  if (count < 8) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += values[offset + i * stride] as number;
    return sum;
  }
  if (count <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = values[offset + j * stride] as number;
    let i = 8;
    for (; i < count - (count % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += values[offset + (i + j) * stride] as number;
    let sum = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < count; i++) sum += values[offset + i * stride] as number;
    return sum;
  }
  let half = Math.floor(count / 2);
  half -= half % 8;
  return pairwiseSum(values, offset, half, stride) + pairwiseSum(values, offset + half * stride, count - half, stride);
}
