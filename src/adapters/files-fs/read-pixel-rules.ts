import { parsePixelRules, type PixelRule } from '../../domain/deidentification/assess-pixels.js';
import { PlatformError } from '../../domain/errors.js';
import { readRegularFile } from './read-bounded-file.js';

/** A rules file is a page or two of JSON. */
const PIXEL_RULES_MAX_BYTES = 1024 * 1024;

/** Reads a Clean Pixel Data rules file (`{ "rules": [...] }`, see docs/deidentification.md). */
export async function readPixelRules(file: string): Promise<readonly PixelRule[]> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readRegularFile(file, 'pixel rules file', PIXEL_RULES_MAX_BYTES));
  } catch (cause) {
    if (cause instanceof PlatformError) throw new PlatformError('DEID_PIXEL_RULE_INVALID', cause.message, cause.details, { cause });
    throw new PlatformError(
      'DEID_PIXEL_RULE_INVALID',
      'The pixel rules file could not be read',
      { errno: (cause as NodeJS.ErrnoException).code ?? 'unknown' },
      { cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PlatformError('DEID_PIXEL_RULE_INVALID', 'The pixel rules file is not valid JSON', {}, { cause });
  }
  return parsePixelRules(json);
}
