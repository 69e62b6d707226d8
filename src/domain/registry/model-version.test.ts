import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { canonicalBundleListing, isPlainRelativePath, type BundleFile } from './model-version.js';

const file = fc.record({
  path: fc
    .array(
      fc.stringMatching(/^[a-z0-9_.-]{1,8}$/).filter((p) => p !== '.' && p !== '..'),
      { minLength: 1, maxLength: 3 },
    )
    .map((parts) => parts.join('/')),
  bytes: fc.nat(),
  sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
});

describe('canonicalBundleListing', () => {
  test.prop([fc.uniqueArray(file, { selector: (f) => f.path, maxLength: 12 })])('does not depend on the order files are listed in', (files) => {
    const reversed = [...files].reverse();
    expect(canonicalBundleListing(reversed)).toBe(canonicalBundleListing(files));
  });

  test.prop([fc.uniqueArray(file, { selector: (f) => f.path, minLength: 1, maxLength: 12 }), fc.nat()])(
    'changes when any file’s content, size or name changes',
    (files, pick) => {
      const i = pick % files.length;
      const f = files[i] as BundleFile;
      const before = canonicalBundleListing(files);
      const flip = (h: string) => (h[0] === '0' ? '1' : '0') + h.slice(1);
      expect(canonicalBundleListing(files.map((g, j) => (j === i ? { ...g, sha256: flip(f.sha256) } : g)))).not.toBe(before);
      expect(canonicalBundleListing(files.map((g, j) => (j === i ? { ...g, bytes: f.bytes + 1 } : g)))).not.toBe(before);
      if (!files.some((g) => g.path === `${f.path}x`))
        expect(canonicalBundleListing(files.map((g, j) => (j === i ? { ...g, path: `${f.path}x` } : g)))).not.toBe(before);
    },
  );

  it('refuses paths that could name a file outside the bundle, and duplicates', () => {
    const sha256 = 'a'.repeat(64);
    for (const path of ['../x', '/etc/passwd', 'a/../b', 'a//b', 'a\\b', '', 'a\nb', './a']) expect(isPlainRelativePath(path), path).toBe(false);
    expect(() => canonicalBundleListing([{ path: '../x', bytes: 1, sha256 }])).toThrow();
    expect(() =>
      canonicalBundleListing([
        { path: 'a', bytes: 1, sha256 },
        { path: 'a', bytes: 2, sha256 },
      ]),
    ).toThrow();
    expect(
      canonicalBundleListing([
        { path: 'b', bytes: 2, sha256 },
        { path: 'a/c', bytes: 1, sha256 },
      ]),
    ).toBe(`${sha256} 1 a/c\n${sha256} 2 b\n`);
  });
});
