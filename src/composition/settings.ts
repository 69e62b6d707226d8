/**
 * What every capability's wiring takes from the configuration and the process: the clock, Vigil's
 * version, the decision settings' hash, the site secret's file, the inflate limits, and the ids
 * derived from names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InflateLimits } from '../adapters/dicom-dcmjs/dcmjs-dicom-reader.js';
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import type { VigilConfig } from '../config/load-config.js';
import { hashDecisionSettings } from '../domain/decision/config-hash.js';
import { derivedResultIds, type ResultIds } from '../domain/results/derived-ids.js';
import type { Clock } from '../ports/clock.js';

export const systemClock: Clock = { now: () => new Date() };

export const VIGIL_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The hash of the configuration as it affects decisions (domain/decision/config-hash.ts), recorded with every decision. */
export function hashConfig(config: VigilConfig): string {
  return hashDecisionSettings(config, (text) => nodeHasher.sha256Hex(text));
}

/** The site secret's file: VIGIL_SECRET_FILE, or `site-secret` in the data folder. */
export function siteSecretFile(config: VigilConfig): string {
  return config.secretFile ?? join(config.dataDir, 'site-secret');
}

/** How far a Deflated DICOM dataset may inflate, wherever one is read (VIGIL_MAX_INPUT_BYTES, VIGIL_MAX_INFLATE_RATIO). */
export function inflateLimitsOf(config: VigilConfig): InflateLimits {
  return { maxInflatedBytes: config.maxInputBytes, maxInflateRatio: config.maxInflateRatio };
}

/** Ids derived from names by SHA-256: 2.25 UIDs, and RFC 9562 version 8 UUIDs. */
export const resultIds: ResultIds = derivedResultIds((text) => nodeHasher.sha256Hex(text));
