import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import { readRegularFile } from '../files-fs/read-bounded-file.js';
import { MANIFEST_FILE } from './fs-model-bundle-source.js';
import {
  MONITORING_REFERENCE_FILE,
  monitoringReferenceFileSchema,
  referenceColumnsOf,
  type MonitoringReferenceFile,
} from '../../domain/monitoring/monitoring-reference-file.js';

/** A bundle's monitoring reference values (monitoring-reference.json), or undefined when it carries none (or only an embedding reference). At most 64 MiB. */
export async function readMonitoringReference(bundleDir: string): Promise<ReadonlyMap<string, Float64Array> | undefined> {
  const file = await readMonitoringReferenceFile(bundleDir);
  return file === undefined ? undefined : referenceColumnsOf(file);
}

/** The whole file, validated (its embedding part included), or undefined when the bundle carries none. */
export async function readMonitoringReferenceFile(bundleDir: string): Promise<MonitoringReferenceFile | undefined> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readRegularFile(join(bundleDir, MONITORING_REFERENCE_FILE), `bundle's ${MONITORING_REFERENCE_FILE}`, 64 * 1024 ** 2));
  } catch (cause) {
    if (cause instanceof PlatformError && cause.code === 'INPUT_NOT_FOUND') return undefined;
    if (cause instanceof PlatformError && cause.code === 'INPUT_TOO_LARGE')
      throw new PlatformError('MODEL_BUNDLE_INVALID', `${MONITORING_REFERENCE_FILE} is larger than 64 MiB`, {}, { cause });
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
  return parsed.data;
}

/**
 * The `metrics` a bundle's manifest records (vigil-model.json; free-form, read by the review detectors for
 * a bundle without a labelled monitoring reference), or undefined when it records none.
 */
export async function readManifestMetrics(bundleDir: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readRegularFile(join(bundleDir, MANIFEST_FILE), `bundle's ${MANIFEST_FILE}`, 4 * 1024 ** 2));
  try {
    return (JSON.parse(text) as { metrics?: unknown }).metrics;
  } catch (cause) {
    throw new PlatformError('MODEL_BUNDLE_INVALID', `${MANIFEST_FILE} is not JSON`, {}, { cause });
  }
}
