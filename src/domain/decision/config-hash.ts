import { canonicalJson } from '../audit/canonical-json.js';

/**
 * The settings that change what Vigil decides or keeps for a case (recorded with every decision). An
 * allowlist: ports, sessions, destinations and the database's address (which may hold a password)
 * do not change a decision, and a new setting is left out until someone decides it belongs here.
 */
export const DECISION_SETTINGS = [
  // The model is not here: every decision records the model's own identity and SHA-256.
  'executionProvider',
  'intraOpThreads',
  'batchSize',
  'maxInputBytes',
  'maxInflateRatio',
  'deidOptions',
  'studyQuietMs',
  'reviewSampleRate',
] as const;
export type DecisionSetting = (typeof DECISION_SETTINGS)[number];

/** The hash of the configuration as it affects decisions: `sha256Hex` of the canonical JSON of DECISION_SETTINGS' values. */
export function hashDecisionSettings(config: Readonly<Record<DecisionSetting, unknown>>, sha256Hex: (text: string) => string): string {
  return sha256Hex(canonicalJson(Object.fromEntries(DECISION_SETTINGS.map((key) => [key, config[key]]))));
}
