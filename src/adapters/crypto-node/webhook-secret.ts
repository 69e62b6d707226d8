import { stat } from 'node:fs/promises';
import { PlatformError } from '../../domain/errors.js';
import { readBoundedFile } from '../files-fs/read-bounded-file.js';

/** 32 characters of a random secret carry at least 128 bits even as hex; shorter keys are refused. */
const MIN_CHARACTERS = 32;

/**
 * Reads the result webhook's HMAC key (VIGIL_RESULT_WEBHOOK_SECRET_FILE): the file's text, trimmed, as
 * UTF-8 bytes, so the receiver configures the very same string. Refused if group or others can read
 * it, or if it is shorter than 32 characters. Never logged.
 */
export async function readWebhookSecret(file: string): Promise<Uint8Array> {
  const info = await stat(file).catch((cause: unknown) => {
    throw new PlatformError('SECRET_INVALID', 'The result webhook secret file cannot be read', {}, { cause });
  });
  if (info.isDirectory()) throw new PlatformError('SECRET_INVALID', 'The result webhook secret file is a directory: give a file', {});
  if ((info.mode & 0o077) !== 0) {
    throw new PlatformError('SECRET_INVALID', 'The result webhook secret file is readable by group or others; make it owner-only (chmod 600)', {
      mode: (info.mode & 0o777).toString(8),
    });
  }
  const text = new TextDecoder().decode(await readBoundedFile(file, 'result webhook secret file', 64 * 1024)).trim();
  if (text.length < MIN_CHARACTERS) throw new PlatformError('SECRET_INVALID', `The result webhook secret must be at least ${MIN_CHARACTERS} characters`, {});
  return new TextEncoder().encode(text);
}
