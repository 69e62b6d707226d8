import { open } from 'node:fs/promises';
import { parseSitesConfig, SINGLE_SITE, type SitesConfig } from '../../domain/deployment/sites.js';
import { PlatformError } from '../../domain/errors.js';

const MAX_BYTES = 1024 * 1024;

/** The sites configuration (VIGIL_SITES_FILE): at most 1 MiB of JSON; none given, one site `default`. CONFIG_INVALID otherwise. */
export async function readSitesFile(path: string | undefined): Promise<SitesConfig> {
  if (path === undefined) return SINGLE_SITE;
  let text: string;
  try {
    const file = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(MAX_BYTES + 1);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_BYTES) throw new PlatformError('CONFIG_INVALID', 'VIGIL_SITES_FILE is larger than 1 MiB', { variable: 'VIGIL_SITES_FILE' });
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await file.close();
    }
  } catch (cause) {
    if (cause instanceof PlatformError) throw cause;
    throw new PlatformError('CONFIG_INVALID', 'VIGIL_SITES_FILE cannot be read', { variable: 'VIGIL_SITES_FILE' }, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PlatformError('CONFIG_INVALID', 'VIGIL_SITES_FILE is not JSON', { variable: 'VIGIL_SITES_FILE' }, { cause });
  }
  return parseSitesConfig(json);
}
