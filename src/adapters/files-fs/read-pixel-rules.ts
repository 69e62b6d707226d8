import { readFile } from 'node:fs/promises';
import { parsePixelRules, type PixelRule } from '../../domain/deidentification/assess-pixels.js';
import { PlatformError } from '../../domain/errors.js';

/** Reads a Clean Pixel Data rules file (`{ "rules": [...] }`, see docs/deidentification.md). */
export async function readPixelRules(file: string): Promise<readonly PixelRule[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
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
