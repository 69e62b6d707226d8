/**
 * The only fields a log line may carry. No dataset, tag value, UID, file name or request body fits
 * here: studies are named by their pseudonymous key. The logger drops any other key at run time too.
 */
export interface LogFields {
  readonly studyKey?: string;
  readonly auditId?: string;
  readonly code?: string;
  readonly stage?: string;
  readonly status?: string;
  readonly verdict?: string;
  readonly model?: string;
  readonly modelVersion?: string;
  readonly executionProvider?: string;
  readonly frame?: number;
  readonly count?: number;
  readonly durationMs?: number;
  readonly batchSize?: number;
  readonly shape?: string;
  readonly dtype?: string;
  readonly configHash?: string;
  readonly treeSize?: number;
  /** A configured site id (a name an operator chose, never a patient's). */
  readonly site?: string;
  /** A registered model version id (a content hash). */
  readonly versionId?: string;
}

export const LOG_FIELD_NAMES: readonly (keyof LogFields)[] = [
  'studyKey',
  'auditId',
  'code',
  'stage',
  'status',
  'verdict',
  'model',
  'modelVersion',
  'executionProvider',
  'frame',
  'count',
  'durationMs',
  'batchSize',
  'shape',
  'dtype',
  'configHash',
  'treeSize',
  'site',
  'versionId',
];

export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}
