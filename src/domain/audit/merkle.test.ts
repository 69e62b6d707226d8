import { createHash } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from './hex.js';
import {
  CompactRange,
  auditPathFromLeafStream,
  auditPathRanges,
  emptyTreeHash,
  hashLeaf,
  largestPowerOfTwoBelow,
  merkleAuditPath,
  merkleConsistencyProof,
  merkleTreeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';

const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest();
const hex = bytesToHex;
const unhex = (h: string): Uint8Array => {
  const bytes = hexToBytes(h);
  if (bytes === undefined) throw new Error(`bad hex ${h}`);
  return bytes;
};

// The leaf inputs of the certificate-transparency reference tests (merkle_tree_test.cc). Every
// expected hash below was computed independently with Python hashlib from the RFC 6962 §2.1
// definitions (recursive MTH, PATH and SUBPROOF), not with this module.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const LEAF_HASHES = LEAVES.map((d) => hashLeaf(sha256, d));
const EXPECTED = {
  empty: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  leaves: [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  // roots[n - 1] = MTH of the first n leaves
  roots: [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ],
  paths: [
    {
      m: 0,
      n: 8,
      path: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      m: 5,
      n: 8,
      path: [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    { m: 2, n: 3, path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
    {
      m: 1,
      n: 5,
      path: [
        '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    },
    {
      m: 6,
      n: 7,
      path: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'],
    },
  ],
  consistency: [
    {
      m: 1,
      n: 8,
      proof: [
        '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
      ],
    },
    {
      m: 6,
      n: 8,
      proof: [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    },
    {
      m: 2,
      n: 5,
      proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
    },
    {
      m: 3,
      n: 7,
      proof: [
        '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
        '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
        'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
        '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e',
      ],
    },
    { m: 4, n: 8, proof: ['6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  ],
};

/** n distinct pseudo-leaf hashes (SHA-256 of the index), cheap to build for large trees. */
function leafHashesOf(n: number, salt = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => hashLeaf(sha256, new TextEncoder().encode(`${salt}:${i}`)));
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const byte = Math.floor(bit / 8) % copy.length;
  copy[byte] = (copy[byte] as number) ^ (1 << (bit % 8));
  return copy;
}

describe('RFC 6962 known answers', () => {
  it('hashes the empty tree, leaves and roots of 1..8 leaves', () => {
    expect(hex(emptyTreeHash(sha256))).toBe(EXPECTED.empty);
    expect(hex(merkleTreeHash(sha256, []))).toBe(EXPECTED.empty);
    expect(LEAF_HASHES.map(hex)).toEqual(EXPECTED.leaves);
    for (let n = 1; n <= 8; n++) expect(hex(merkleTreeHash(sha256, LEAF_HASHES.slice(0, n)))).toBe(EXPECTED.roots[n - 1]);
  });

  it('the compact range gives the same roots', () => {
    const range = new CompactRange(sha256);
    expect(hex(range.root())).toBe(EXPECTED.empty);
    for (const leaf of LEAF_HASHES) {
      range.append(leaf);
      expect(hex(range.root())).toBe(EXPECTED.roots[range.size - 1]);
    }
  });

  it.each(EXPECTED.paths)('PATH($m, D[$n])', ({ m, n, path }) => {
    const leaves = LEAF_HASHES.slice(0, n);
    expect(merkleAuditPath(sha256, m, leaves).map(hex)).toEqual(path);
    expect(verifyInclusion(sha256, m, n, at(LEAF_HASHES, m), path.map(unhex), unhex(at(EXPECTED.roots, n - 1)))).toBe(true);
  });

  it.each(EXPECTED.consistency)('PROOF($m, D[$n])', ({ m, n, proof }) => {
    expect(merkleConsistencyProof(sha256, m, LEAF_HASHES.slice(0, n)).map(hex)).toEqual(proof);
    expect(verifyConsistency(sha256, m, n, proof.map(unhex), unhex(at(EXPECTED.roots, m - 1)), unhex(at(EXPECTED.roots, n - 1)))).toBe(true);
  });

  it('splits at the largest power of two below n', () => {
    expect([2, 3, 4, 5, 8, 9, 300].map(largestPowerOfTwoBelow)).toEqual([1, 2, 2, 4, 4, 8, 256]);
  });
});

function at<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no item ${i}`);
  return item;
}

describe('inclusion proofs', () => {
  test.prop([fc.integer({ min: 1, max: 300 }), fc.nat()], { numRuns: 40 })('every leaf of a tree of n ≤ 300 leaves proves against the root', (n, salt) => {
    const leaves = leafHashesOf(n, salt);
    // Memoised MTH over ranges, so all n paths cost O(n log n) hashes; the one-pass builder is
    // checked against the recursive PATH in the next property.
    const memo = new Map<string, Uint8Array>();
    const mth = (start: number, end: number): Uint8Array => {
      const key = `${start}:${end}`;
      let value = memo.get(key);
      if (value === undefined) {
        const k = largestPowerOfTwoBelow(end - start);
        value = end - start === 1 ? at(leaves, start) : hashChildrenRef(mth(start, start + k), mth(start + k, end));
        memo.set(key, value);
      }
      return value;
    };
    const root = mth(0, n);
    expect(root).toEqual(merkleTreeHash(sha256, leaves));
    for (let m = 0; m < n; m++) {
      const path = auditPathRanges(m, n).map((r) => mth(r.start, r.end));
      expect(verifyInclusion(sha256, m, n, at(leaves, m), path, root)).toBe(true);
    }
  });

  test.prop([fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.nat({ max: n - 1 })))], { numRuns: 60 })(
    'the one-pass path equals the recursive PATH(m, D[n])',
    ([n, m]) => {
      const leaves = leafHashesOf(n);
      const streamed = auditPathFromLeafStream(sha256, m, n, leaves);
      expect(streamed.auditPath).toEqual(merkleAuditPath(sha256, m, leaves));
      expect(streamed.rootHash).toEqual(merkleTreeHash(sha256, leaves));
      expect(streamed.leafHash).toEqual(leaves[m]);
    },
  );

  test.prop([fc.integer({ min: 1, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.nat({ max: n - 1 }), fc.nat(), fc.nat()))], { numRuns: 200 })(
    'fails for a modified leaf, path element, index, size or path length',
    ([n, m, bit, pick]) => {
      const leaves = leafHashesOf(n);
      const root = merkleTreeHash(sha256, leaves);
      const path = merkleAuditPath(sha256, m, leaves);
      const leaf = at(leaves, m);
      expect(verifyInclusion(sha256, m, n, leaf, path, root)).toBe(true);
      expect(verifyInclusion(sha256, m, n, flipBit(leaf, bit), path, root)).toBe(false);
      expect(verifyInclusion(sha256, m, n, leaf, path, flipBit(root, bit))).toBe(false);
      if (path.length > 0) {
        const i = pick % path.length;
        const tampered = path.map((p, j) => (j === i ? flipBit(p, bit) : p));
        expect(verifyInclusion(sha256, m, n, leaf, tampered, root)).toBe(false);
        expect(verifyInclusion(sha256, m, n, leaf, path.slice(0, -1), root)).toBe(false);
      }
      expect(verifyInclusion(sha256, m, n, leaf, [...path, leaf], root)).toBe(false);
      // Another leaf's hash at this index, or this leaf at another index, must not verify.
      if (n > 1) {
        const other = (m + 1 + (pick % (n - 1))) % n;
        expect(verifyInclusion(sha256, other, n, leaf, path, root)).toBe(false);
        expect(verifyInclusion(sha256, m, n, at(leaves, other), path, root)).toBe(false);
      }
      // (A wrong size can still verify when the leaf's path does not depend on it, e.g. leaf 0 of 57
      // or 58 leaves: the signed tree head, not the path, binds the size.)
      expect(verifyInclusion(sha256, m, m, leaf, path, root)).toBe(false);
    },
  );

  it('rejects impossible indexes and sizes instead of throwing', () => {
    const leaf = at(LEAF_HASHES, 0);
    expect(verifyInclusion(sha256, 0, 1, leaf, [], leaf)).toBe(true);
    expect(verifyInclusion(sha256, -1, 1, leaf, [], leaf)).toBe(false);
    expect(verifyInclusion(sha256, 0.5, 1, leaf, [], leaf)).toBe(false);
    expect(verifyInclusion(sha256, 1, 1, leaf, [], leaf)).toBe(false);
    expect(verifyInclusion(sha256, 0, 0, leaf, [], leaf)).toBe(false);
    expect(() => merkleAuditPath(sha256, 3, LEAF_HASHES.slice(0, 3))).toThrow(RangeError);
  });

  it('the one-pass builder insists on exactly treeSize leaves', () => {
    expect(() => auditPathFromLeafStream(sha256, 0, 3, LEAF_HASHES.slice(0, 2))).toThrow(RangeError);
    expect(() => auditPathFromLeafStream(sha256, 0, 3, LEAF_HASHES.slice(0, 4))).toThrow(RangeError);
  });

  it('keeps sizes past 2^32 exact (no 32-bit shifts)', () => {
    // A right-most leaf of a 2^32 + 1 tree: its path is the single left subtree root.
    const n = 2 ** 32 + 1;
    const leftRoot = at(LEAF_HASHES, 1);
    const leaf = at(LEAF_HASHES, 2);
    expect(verifyInclusion(sha256, n - 1, n, leaf, [leftRoot], hashChildrenRef(leftRoot, leaf))).toBe(true);
  });
});

function hashChildrenRef(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(Uint8Array.from([1, ...left, ...right]));
}

describe('compact range', () => {
  test.prop([fc.integer({ min: 0, max: 300 }), fc.nat()], { numRuns: 30 })('its root equals the recursive MTH after every append', (n, salt) => {
    const leaves = leafHashesOf(n, salt);
    const range = new CompactRange(sha256);
    expect(range.root()).toEqual(merkleTreeHash(sha256, []));
    for (let i = 0; i < n; i++) {
      range.append(at(leaves, i));
      expect(range.size).toBe(i + 1);
      expect(range.root()).toEqual(merkleTreeHash(sha256, leaves, 0, i + 1));
    }
  });

  it('appends in O(log n): at most log2(n) + 1 hashes per append, and amortised under 2', () => {
    let calls = 0;
    const counting = (bytes: Uint8Array): Uint8Array => {
      calls++;
      return sha256(bytes);
    };
    const range = new CompactRange(counting);
    const n = 4096;
    let worst = 0;
    for (const leaf of leafHashesOf(n)) {
      const before = calls;
      range.append(leaf);
      worst = Math.max(worst, calls - before);
    }
    expect(worst).toBeLessThanOrEqual(Math.log2(n));
    expect(calls / n).toBeLessThan(2);
    calls = 0;
    range.append(at(LEAF_HASHES, 0)); // size 4097 = 2^12 + 1: two subtrees, one hash to join them
    range.root();
    expect(calls).toBe(1);
  });

  it('a clone grows independently of its original', () => {
    const a = new CompactRange(sha256);
    LEAF_HASHES.slice(0, 5).forEach((leaf) => a.append(leaf));
    const b = a.clone();
    b.append(at(LEAF_HASHES, 5));
    expect(hex(a.root())).toBe(EXPECTED.roots[4]);
    expect(hex(b.root())).toBe(EXPECTED.roots[5]);
  });
});

describe('consistency proofs', () => {
  test.prop([fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }), fc.nat()))], { numRuns: 200 })(
    'a prefix proves consistent with its extension; a tampered proof or root does not',
    ([n, m, bit]) => {
      const leaves = leafHashesOf(n);
      const oldRoot = merkleTreeHash(sha256, leaves, 0, m);
      const newRoot = merkleTreeHash(sha256, leaves);
      const proof = merkleConsistencyProof(sha256, m, leaves);
      expect(verifyConsistency(sha256, m, n, proof, oldRoot, newRoot)).toBe(true);
      if (m > 0 && m < n) {
        expect(verifyConsistency(sha256, m, n, proof, flipBit(oldRoot, bit), newRoot)).toBe(false);
        expect(verifyConsistency(sha256, m, n, proof, oldRoot, flipBit(newRoot, bit))).toBe(false);
        const i = bit % proof.length;
        expect(
          verifyConsistency(
            sha256,
            m,
            n,
            proof.map((p, j) => (j === i ? flipBit(p, bit) : p)),
            oldRoot,
            newRoot,
          ),
        ).toBe(false);
        expect(verifyConsistency(sha256, m, n, proof.slice(1), oldRoot, newRoot)).toBe(false);
        // A tree that rewrote one of the first m leaves is not an extension.
        const forked = leaves.map((leaf, j) => (j === bit % m ? flipBit(leaf, bit) : leaf));
        expect(verifyConsistency(sha256, m, n, merkleConsistencyProof(sha256, m, forked), oldRoot, merkleTreeHash(sha256, forked))).toBe(false);
      }
    },
  );

  it('handles equal sizes and the empty tree', () => {
    const root = merkleTreeHash(sha256, LEAF_HASHES);
    expect(verifyConsistency(sha256, 8, 8, [], root, root)).toBe(true);
    expect(verifyConsistency(sha256, 8, 8, [], root, flipBit(root, 0))).toBe(false);
    expect(verifyConsistency(sha256, 0, 8, [], emptyTreeHash(sha256), root)).toBe(true);
    expect(verifyConsistency(sha256, 9, 8, [], root, root)).toBe(false);
    expect(() => merkleConsistencyProof(sha256, 9, LEAF_HASHES)).toThrow(RangeError);
  });
});
