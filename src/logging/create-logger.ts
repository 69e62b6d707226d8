import { pino, type DestinationStream } from 'pino';
import { LOG_FIELD_NAMES, type LogFields, type Logger } from '../ports/logger.js';

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

const ALLOWED = new Set<string>(LOG_FIELD_NAMES);

/** Keeps only allowlisted fields with scalar values (as Fastify's asReqValue serialises only what it names). */
export function allowlistFields(fields: LogFields): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (ALLOWED.has(key) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) out[key] = value;
  }
  return out;
}

/**
 * JSON lines on stderr (stdout belongs to command output). The allowlist is the rule; pino's
 * `redact` is only a second line of defence for keys a future change might add by mistake.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const base = pino(
    {
      level,
      base: { service: 'vigil' },
      redact: { paths: ['patientName', 'patientId', 'PatientName', 'PatientID', 'path', 'file', 'uid', '*.PatientName', '*.PatientID'], remove: true },
    },
    destination ?? pino.destination({ fd: 2, sync: true }),
  );
  return {
    debug: (fields, message) => base.debug(allowlistFields(fields), message),
    info: (fields, message) => base.info(allowlistFields(fields), message),
    warn: (fields, message) => base.warn(allowlistFields(fields), message),
    error: (fields, message) => base.error(allowlistFields(fields), message),
  };
}
