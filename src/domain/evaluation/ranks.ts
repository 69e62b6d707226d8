/** Indices 0..n-1 ordered by ascending value (stable for equal values). */
export function argsortAscending(values: ArrayLike<number>): Uint32Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // A Float64Array copy makes the comparator's reads monomorphic, which matters at 10^6 values.
  const v = Float64Array.from(values);
  order.sort((a, b) => v[a]! - v[b]! || a - b);
  return order;
}

/**
 * Mid-ranks (1-based; tied values share the mean of their ranks), as scipy.stats.rankdata's
 * default `average` method. The basis of the Mann–Whitney form of the AUROC and of DeLong's method.
 */
export function midranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = argsortAscending(values);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    const v = values[order[i]!]!;
    while (j + 1 < n && values[order[j + 1]!]! === v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}
