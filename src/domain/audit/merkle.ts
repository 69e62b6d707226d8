/**
 * RFC 6962 §2.1 Merkle trees, over a hash function passed in (this module does no I/O, so it takes
 * SHA-256 from an adapter). Leaves and interior nodes are hashed with distinct prefixes, so a leaf
 * can never be passed off as a node (second-preimage resistance):
 *
 *   MTH({})      = HASH()
 *   MTH({d0})    = HASH(0x00 || d0)
 *   MTH(D[n])    = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   k = largest power of two < n
 *
 * Most functions here take *leaf hashes* (`hashLeaf(hash, data)`), not leaf data: a log stores them
 * and a proof carries them. Sizes and indexes are plain numbers; every shift is done with arithmetic
 * (`Math.floor(x / 2)`), not `>>`, so trees past 2^31 leaves stay correct up to 2^53.
 */

/**
 * A one-shot hash. It must not keep a reference to `bytes` after it returns: the functions here pass
 * it a reused scratch buffer.
 */
export type HashFunction = (bytes: Uint8Array) => Uint8Array;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

// One reused input buffer instead of a fresh array per hash. A node input is 65 bytes, just over
// V8's 64-byte limit for typed arrays kept on the JS heap, so each fresh one is a separate off-heap
// allocation; reusing the buffer made verify()'s ~10^6 node hashes per 10^5 entries about twice as fast.
let scratch = new Uint8Array(65);
function scratchOf(length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
  return scratch.length === length ? scratch : scratch.subarray(0, length);
}

/** HASH(0x00 || data). */
export function hashLeaf(hash: HashFunction, data: Uint8Array): Uint8Array {
  const input = scratchOf(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return hash(input);
}

/** HASH(0x01 || left || right). */
export function hashChildren(hash: HashFunction, left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = scratchOf(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash(input);
}

/** MTH of the empty tree: the hash of the empty string. */
export function emptyTreeHash(hash: HashFunction): Uint8Array {
  return hash(new Uint8Array(0));
}

/** The largest power of two strictly less than `n` (n ≥ 2): where RFC 6962 splits a tree of n leaves. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH over `leafHashes[start:end]`, by the recursive definition. O(n) hashes; a reference for the
 * incremental `CompactRange` and for building proofs over a list held in memory.
 */
export function merkleTreeHash(hash: HashFunction, leafHashes: readonly Uint8Array[], start = 0, end = leafHashes.length): Uint8Array {
  const n = end - start;
  if (n === 0) return emptyTreeHash(hash);
  if (n === 1) return at(leafHashes, start);
  const k = largestPowerOfTwoBelow(n);
  return hashChildren(hash, merkleTreeHash(hash, leafHashes, start, start + k), merkleTreeHash(hash, leafHashes, start + k, end));
}

/**
 * RFC 6962 §2.1.1 audit path PATH(m, D[n]), from the leaf's sibling upwards, where D[n] are the
 * leaves behind `leafHashes`:
 *
 *   PATH(0, {d0}) = {}
 *   PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])        for m < k
 *   PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])    for m ≥ k
 */
export function merkleAuditPath(hash: HashFunction, leafIndex: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  assertIndex(leafIndex, leafHashes.length);
  return auditPathRanges(leafIndex, leafHashes.length).map((r) => merkleTreeHash(hash, leafHashes, r.start, r.end));
}

/** A run of leaves `[start, end)` whose MTH is one element of a proof. */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The leaf ranges whose MTHs make up PATH(m, D[n]), in path order. They are disjoint and, with leaf
 * m itself, cover [0, n) exactly, so a log can fill them in one pass over its leaves.
 */
export function auditPathRanges(leafIndex: number, treeSize: number): LeafRange[] {
  assertIndex(leafIndex, treeSize);
  const ranges: LeafRange[] = [];
  let start = 0;
  let end = treeSize;
  let m = leafIndex;
  // Walk down from the root, then reverse: the recursion appends the upper sibling last.
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m < k) {
      ranges.push({ start: start + k, end });
      end = start + k;
    } else {
      ranges.push({ start, end: start + k });
      start += k;
      m -= k;
    }
  }
  return ranges.reverse();
}

/**
 * PATH(m, D[n]) and MTH(D[n]) in one pass over the n leaf hashes, in order, holding O(log n) hashes:
 * for a log too large to load whole. `leafHashes` must yield exactly `treeSize` items.
 */
export function auditPathFromLeafStream(
  hash: HashFunction,
  leafIndex: number,
  treeSize: number,
  leafHashes: Iterable<Uint8Array>,
): { readonly auditPath: Uint8Array[]; readonly rootHash: Uint8Array; readonly leafHash: Uint8Array } {
  const builder = new AuditPathBuilder(hash, leafIndex, treeSize);
  for (const leaf of leafHashes) builder.push(leaf);
  return builder.finish();
}

/**
 * `auditPathFromLeafStream` one leaf at a time, for a store that reads its leaves asynchronously
 * (page by page over a network): `push` the n leaf hashes in order, then `finish`.
 */
export class AuditPathBuilder {
  readonly #hash: HashFunction;
  readonly #leafIndex: number;
  readonly #treeSize: number;
  readonly #byStart: { range: LeafRange; pathPosition: number }[];
  readonly #auditPath: Uint8Array[];
  readonly #whole: CompactRange;
  #leafHash: Uint8Array | undefined;
  #current = 0;
  #part: CompactRange;
  #i = 0;

  constructor(hash: HashFunction, leafIndex: number, treeSize: number) {
    const ranges = auditPathRanges(leafIndex, treeSize);
    this.#hash = hash;
    this.#leafIndex = leafIndex;
    this.#treeSize = treeSize;
    this.#byStart = ranges.map((range, pathPosition) => ({ range, pathPosition })).sort((a, b) => a.range.start - b.range.start);
    this.#auditPath = new Array<Uint8Array>(ranges.length);
    this.#whole = new CompactRange(hash);
    this.#part = new CompactRange(hash);
  }

  push(leaf: Uint8Array): void {
    const i = this.#i;
    if (i >= this.#treeSize) throw new RangeError('More leaves than the tree size');
    this.#whole.append(leaf);
    if (i === this.#leafIndex) {
      this.#leafHash = leaf;
    } else {
      const slot = at(this.#byStart, this.#current);
      this.#part.append(leaf);
      if (i === slot.range.end - 1) {
        this.#auditPath[slot.pathPosition] = this.#part.root();
        this.#part = new CompactRange(this.#hash);
        this.#current++;
      }
    }
    this.#i++;
  }

  finish(): { readonly auditPath: Uint8Array[]; readonly rootHash: Uint8Array; readonly leafHash: Uint8Array } {
    if (this.#i !== this.#treeSize || this.#leafHash === undefined) throw new RangeError('Fewer leaves than the tree size');
    return { auditPath: this.#auditPath, rootHash: this.#whole.root(), leafHash: this.#leafHash };
  }
}

/**
 * RFC 9162 §2.1.3.2: does `auditPath` prove that `leafHash` is leaf `leafIndex` of the tree of
 * `treeSize` leaves whose root is `rootHash`? A wrong index, size, leaf, path element, or a path that
 * is too short or too long, all give false.
 */
export function verifyInclusion(
  hash: HashFunction,
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  auditPath: readonly Uint8Array[],
  rootHash: Uint8Array,
): boolean {
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of auditPath) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(hash, p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(hash, r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, rootHash);
}

/**
 * RFC 6962 §2.1.2 consistency proof PROOF(m, D[n]): shows that the tree of the first m leaves is a
 * prefix of the tree of n leaves. Empty when m = n or m = 0 (every tree extends the empty tree).
 */
export function merkleConsistencyProof(hash: HashFunction, oldSize: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  const n = leafHashes.length;
  if (!isSize(oldSize) || oldSize > n) throw new RangeError(`Old size ${oldSize} is not within 0..${n}`);
  if (oldSize === 0 || oldSize === n) return [];
  return subproof(hash, oldSize, leafHashes, 0, n, true);
}

function subproof(hash: HashFunction, m: number, leaves: readonly Uint8Array[], start: number, end: number, isWholeOldTree: boolean): Uint8Array[] {
  const n = end - start;
  if (m === n) return isWholeOldTree ? [] : [merkleTreeHash(hash, leaves, start, end)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(hash, m, leaves, start, start + k, isWholeOldTree), merkleTreeHash(hash, leaves, start + k, end)];
  return [...subproof(hash, m - k, leaves, start + k, end, false), merkleTreeHash(hash, leaves, start, start + k)];
}

/** RFC 9162 §2.1.4.2: does `proof` show that the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot)? */
export function verifyConsistency(
  hash: HashFunction,
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!isSize(oldSize) || !isSize(newSize) || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && equalBytes(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = at(path, 0);
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(hash, c, fr);
      sr = hashChildren(hash, c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(hash, sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
}

/**
 * The roots of the perfect subtrees that make up a tree of `size` leaves, one per set bit of `size`,
 * largest (leftmost) first: everything needed to append a leaf and get the new root in O(log n)
 * hashes, without the leaves. The root folds the stack from the right, which is exactly the
 * largest-power-of-two split of MTH: a tree of n leaves is its left perfect subtree of k leaves
 * joined with the tree of the remaining n - k, and those are the remaining set bits.
 */
export class CompactRange {
  #size = 0;
  readonly #stack: Uint8Array[] = [];

  constructor(private readonly hash: HashFunction) {}

  get size(): number {
    return this.#size;
  }

  /** Adds one leaf hash. Amortised one interior hash per append, at most log2(n). */
  append(leafHash: Uint8Array): void {
    let node = leafHash;
    // Each trailing 1-bit of the old size is a perfect subtree of the same height as `node`: merge.
    for (let s = this.#size; isOdd(s); s = half(s)) {
      const left = this.#stack.pop();
      if (left === undefined) throw new Error('CompactRange stack underflow');
      node = hashChildren(this.hash, left, node);
    }
    this.#stack.push(node);
    this.#size++;
  }

  /** MTH over every leaf appended so far. popcount(size) - 1 hashes. */
  root(): Uint8Array {
    const last = this.#stack.length - 1;
    if (last < 0) return emptyTreeHash(this.hash);
    let root = at(this.#stack, last);
    for (let i = last - 1; i >= 0; i--) root = hashChildren(this.hash, at(this.#stack, i), root);
    return root;
  }

  clone(): CompactRange {
    const copy = new CompactRange(this.hash);
    copy.#size = this.#size;
    copy.#stack.push(...this.#stack);
    return copy;
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`Index ${index} is outside 0..${items.length - 1}`);
  return item;
}

function assertIndex(leafIndex: number, treeSize: number): void {
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex >= treeSize) {
    throw new RangeError(`Leaf index ${leafIndex} is not within a tree of ${treeSize} leaves`);
  }
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}
