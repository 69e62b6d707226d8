import type { ModelIdentity } from '../audit/audit-event.js';

/**
 * A registered model version: an immutable, content-addressed bundle. Its id is the SHA-256 of the
 * bundle's canonical listing (every file's path, size and SHA-256), so two registrations of the same
 * bytes are one version, and any change to any file — manifest, model, calibration, policy, report — is
 * another. Versions never change once registered; lineage links each to the version it was derived from.
 */
export interface ModelVersion {
  /** SHA-256 (hex) of canonicalBundleListing(files). */
  readonly versionId: string;
  /** The manifest's identity (id, version, model file SHA-256), as decisions record it. */
  readonly model: ModelIdentity;
  readonly name: string;
  readonly parentVersionId: string | null;
  readonly lineage: ModelLineage;
  readonly files: number;
  readonly bytes: number;
  /** ISO 8601. */
  readonly registeredAt: string;
  /** Who registered it: a user name, or `local-cli` for the command line. */
  readonly registeredBy: string;
}

/** Where a version came from: its data (by hash) and code, and how it was derived from its parent. */
export interface ModelLineage {
  readonly trainingDataSha256: string | null;
  readonly validationDataSha256: string | null;
  /** A code reference (a git commit, a tag, a container digest) for the training code. */
  readonly codeReference: string | null;
  /** `vigil calibrate`, `vigil policy`, or null for a bundle made elsewhere. */
  readonly derivedBy: string | null;
}

export interface BundleFile {
  /** Relative to the bundle's folder, with `/` separators. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * The text a bundle's version id is the SHA-256 of: one line per file, sorted by path (byte order),
 * `<sha256> <bytes> <path>\n`. Paths must be relative and plain (no `..`, no leading `/`, no control
 * characters), and unique.
 */
export function canonicalBundleListing(files: readonly BundleFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const [i, f] of sorted.entries()) {
    if (!isPlainRelativePath(f.path)) throw new Error(`Not a plain relative path: ${JSON.stringify(f.path)}`);
    if (i > 0 && sorted[i - 1]!.path === f.path) throw new Error(`Listed twice: ${f.path}`);
    if (!/^[0-9a-f]{64}$/.test(f.sha256) || !Number.isSafeInteger(f.bytes) || f.bytes < 0) throw new Error(`Invalid entry for ${f.path}`);
  }
  return sorted.map((f) => `${f.sha256} ${f.bytes} ${f.path}\n`).join('');
}

export function isPlainRelativePath(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.includes('\\')) return false;
  if (/[\u0000-\u001f\u007f]/.test(path)) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** The short form people read (like a git abbreviation): the first 12 hex digits. */
export function shortVersionId(versionId: string): string {
  return versionId.slice(0, 12);
}
