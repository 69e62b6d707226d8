import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * A bundle folder's registry version id, computed here independently of Vigil's code: SHA-256 of
 * "<sha256> <bytes> <path>\n" per file, sorted by path (bytewise).
 */
export function bundleVersionId(bundle: string): string {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else files.push(join(d, e.name));
    }
  };
  walk(bundle);
  const lines = files
    .map((f) => ({ path: relative(bundle, f), bytes: readFileSync(f) }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
    .map((f) => `${createHash('sha256').update(f.bytes).digest('hex')} ${f.bytes.length} ${f.path}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}
