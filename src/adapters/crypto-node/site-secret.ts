import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readBoundedFile } from '../files-fs/read-bounded-file.js';
import { PlatformError } from '../../domain/errors.js';

/** 256 bits, the HMAC-SHA-256 key size (RFC 2104 §3: keys shorter than the hash output weaken it). */
const SECRET_BYTES = 32;

/**
 * Loads the site secret from `file`, creating it (random, owner-only 0600) on first use. The secret
 * never appears in a log or error. A secret readable by group or others is refused: anyone who can
 * read it can re-identify pseudonyms by brute force over known identifiers.
 */
export async function loadOrCreateSiteSecret(file: string): Promise<Buffer> {
  const existing = await stat(file).catch(() => undefined);
  if (existing === undefined) {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const secret = randomBytes(SECRET_BYTES);
    try {
      const handle = await open(file, 'wx', 0o600);
      try {
        await handle.writeFile(secret.toString('hex') + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(file, 0o600);
      return secret;
    } catch (cause) {
      // Another process created it first: read theirs.
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new PlatformError('SECRET_INVALID', 'Could not create the site secret file', {}, { cause });
      }
    }
  } else if (existing.isDirectory()) {
    throw new PlatformError('SECRET_INVALID', 'The site secret file is a directory: give a file', {});
  } else if ((existing.mode & 0o077) !== 0) {
    throw new PlatformError('SECRET_INVALID', 'The site secret file is readable by group or others; make it owner-only (chmod 600)', {
      mode: (existing.mode & 0o777).toString(8),
    });
  }
  // A secret is 64 hex digits and a newline; a few kB bounds any file that could be one.
  const text = new TextDecoder().decode(await readBoundedFile(file, 'site secret file', 4096)).trim();
  if (!/^[0-9a-f]{64,}$/i.test(text)) {
    throw new PlatformError('SECRET_INVALID', `The site secret file must hold at least ${SECRET_BYTES} bytes as hex`, {});
  }
  return Buffer.from(text, 'hex');
}
