/**
 * A small seeded pseudo-random generator for the domain, which must not call Math.random: results
 * are reproducible from the seed stated in the report. xoshiro128** 1.1 (Blackman & Vigna 2018,
 * https://prng.di.unimi.it/xoshiro128starstar.c), seeded with splitmix32 so that any 32-bit seed
 * (including 0) gives a well-mixed, non-zero state.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32 (a 32-bit variant of Steele, Lea & Flood's SplitMix)
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n), for n < 2^31 (multiply-shift; the bias is below n / 2^32). */
  nextInt(n: number): number {
    return Math.floor((this.nextUint32() * n) / 4294967296);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Fisher–Yates shuffle of 0..n-1 with the given generator. */
export function shuffledIndices(n: number, random: SeededRandom): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/**
 * Splits case indices into two disjoint parts with the same label mix: a seeded shuffle within
 * each label, the first half of each to part A. Used to fit a threshold and a conformal band on
 * separate cases.
 */
export function stratifiedHalves(labels: ArrayLike<number>, seed: number): { a: number[]; b: number[] } {
  const random = new SeededRandom(seed);
  const a: number[] = [];
  const b: number[] = [];
  for (const cls of [0, 1]) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if ((labels[i] === 1 ? 1 : 0) === cls) members.push(i);
    const order = shuffledIndices(members.length, random);
    order.forEach((o, rank) => (rank < Math.ceil(members.length / 2) ? a : b).push(members[o]!));
  }
  return { a: a.sort((x, y) => x - y), b: b.sort((x, y) => x - y) };
}
