import { writeFile } from 'node:fs/promises';
import { unzipSync, zipSync } from 'fflate';
import { PlatformError } from '../../domain/errors.js';
import { PACK_LIMITS, packLimitExceeded } from '../../domain/release/evidence-pack.js';
import { outputPathError } from '../files-fs/output-path-error.js';
import { readBoundedFile } from '../files-fs/read-bounded-file.js';

/**
 * An evidence pack as a zip (fflate stays behind this file). The entries carry a fixed time, so the
 * same files make the same zip; reading refuses a pack past PACK_LIMITS before inflating it (the sizes
 * a zip declares bound what fflate allocates), and a name listed twice.
 */
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

export function zipEvidencePack(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const entries: Record<string, [Uint8Array, { mtime: Date; level: 6 }]> = {};
  for (const [path, bytes] of files) entries[path] = [bytes, { mtime: FIXED_MTIME, level: 6 }];
  return zipSync(entries);
}

export function unzipEvidencePack(zip: Uint8Array): Map<string, Uint8Array> {
  const seen = new Set<string>();
  let declared = 0;
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(zip, {
      filter: (file) => {
        declared += file.originalSize;
        if (seen.has(file.name)) throw new PlatformError('RELEASE_EVIDENCE_INVALID', 'The evidence pack names a file twice', {});
        seen.add(file.name);
        const exceeded = packLimitExceeded(seen.size, declared);
        if (exceeded !== undefined) {
          throw new PlatformError('RELEASE_EVIDENCE_INVALID', `The evidence pack ${exceeded} (no pack Vigil writes is larger)`, { ...PACK_LIMITS });
        }
        return true;
      },
    });
  } catch (cause) {
    if (cause instanceof PlatformError) throw cause;
    throw new PlatformError('RELEASE_EVIDENCE_INVALID', 'The evidence pack is not a readable zip', {}, { cause });
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, bytes] of Object.entries(members)) files.set(name, bytes);
  return files;
}

/**
 * Reads a pack file, refusing one larger than a pack can be (a zip of at most PACK_LIMITS.maxBytes
 * stored, plus its headers) before reading it; a missing file, a directory or an unreadable one is
 * refused as every file a command takes is (files-fs/read-bounded-file.ts).
 */
export async function readEvidencePackFile(path: string): Promise<Uint8Array> {
  // Stored (not deflated) members and the zip's headers: a generous bound above the unpacked limit.
  return readBoundedFile(path, 'evidence pack file', PACK_LIMITS.maxBytes + 1024 * 1024);
}

/** Writes a pack to a new file; refuses to replace one (EVAL_OUTPUT_EXISTS-like: an evidence file is not overwritten). */
export async function writeEvidencePackFile(path: string, zip: Uint8Array): Promise<void> {
  try {
    await writeFile(path, zip, { flag: 'wx' });
  } catch (cause) {
    const error = await outputPathError(cause, path, 'file', 'evidence pack file (--out)', 'STORE_WRITE_FAILED');
    if (error.code === 'STORE_WRITE_FAILED' && (cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new PlatformError('CLI_USAGE', 'The output file exists already: an evidence pack is never overwritten; choose another --out', {});
    }
    throw error;
  }
}
