import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import { MONITORING_REFERENCE_FILE, monitoringReferenceFileSchema, referenceColumnsOf } from '../../domain/monitoring/monitoring-reference-file.js';

/** A bundle's monitoring reference (monitoring-reference.json), or undefined when it carries none. At most 64 MiB. */
export async function readMonitoringReference(bundleDir: string): Promise<ReadonlyMap<string, Float64Array> | undefined> {
  let text: string;
  try {
    const bytes = await readFile(join(bundleDir, MONITORING_REFERENCE_FILE));
    if (bytes.length > 64 * 1024 ** 2) throw new PlatformError('MODEL_BUNDLE_INVALID', `${MONITORING_REFERENCE_FILE} is larger than 64 MiB`, {});
    text = bytes.toString('utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cause;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PlatformError('MODEL_BUNDLE_INVALID', `${MONITORING_REFERENCE_FILE} is not JSON`, {}, { cause });
  }
  const parsed = monitoringReferenceFileSchema.safeParse(json);
  if (!parsed.success) throw new PlatformError('MODEL_BUNDLE_INVALID', `${MONITORING_REFERENCE_FILE} does not match its format`, {});
  return referenceColumnsOf(parsed.data);
}
