/**
 * Vigil's coded errors. One class, a string-literal code grouped by subsystem (as Fastify groups
 * FST_ERR_*), safe details only. Codes never change once released; docs/errors.md documents each
 * one and errors.test.ts keeps the two in step. HTTP status and exit code are mapped at the edges.
 *
 * `details` must never hold a patient identifier, a tag value, a UID or a file path: it is logged.
 */
export const ERROR_CODES = [
  // configuration
  'CONFIG_INVALID',
  // input files
  'INPUT_NOT_FOUND',
  'INPUT_UNREADABLE',
  'INPUT_TOO_LARGE',
  'INPUT_FORMAT_UNKNOWN',
  // DICOM
  'DICOM_PARSE_FAILED',
  'DICOM_TRUNCATED',
  'DICOM_NO_PIXEL_DATA',
  'DICOM_TRANSFER_SYNTAX_UNSUPPORTED',
  'DICOM_PIXEL_DECODE_FAILED',
  'DICOM_PIXEL_LENGTH_MISMATCH',
  'DICOM_IMAGE_ATTRIBUTES_INVALID',
  'DICOM_LIMIT_EXCEEDED',
  'DICOM_INFLATE_LIMIT_EXCEEDED',
  // DICOM network (receiver)
  'DICOM_LISTEN_FAILED',
  // raster images (PNG, JPEG)
  'IMAGE_DECODE_FAILED',
  // model bundles
  'MODEL_BUNDLE_NOT_FOUND',
  'MODEL_MANIFEST_INVALID',
  'MODEL_HASH_MISMATCH',
  'MODEL_LOAD_FAILED',
  'MODEL_INPUT_SHAPE_MISMATCH',
  'MODEL_OUTPUT_INVALID',
  'MODEL_INFERENCE_FAILED',
  // model registry
  'MODEL_BUNDLE_INVALID',
  'MODEL_VERSION_NOT_FOUND',
  'MODEL_PARENT_UNREGISTERED',
  // vigil model init (bring your own model)
  'MODEL_INIT_ONNX_UNREADABLE',
  'MODEL_INIT_INPUT_UNSUPPORTED',
  'MODEL_INIT_OUTPUT_INVALID',
  'MODEL_INIT_NO_REFERENCE_IMAGES',
  'MODEL_INIT_ANSWERS_INVALID',
  // releases
  'RELEASE_TRANSITION_INVALID',
  'RELEASE_SELF_APPROVAL',
  'RELEASE_SIGNATURE_INVALID',
  'RELEASE_NOT_FOUND',
  'RELEASE_PROTOCOL_INVALID',
  'RELEASE_DATA_MISMATCH',
  'RELEASE_DATASET_OUTSIDE',
  'RELEASE_LINEAGE_INVALID',
  'RELEASE_EVIDENCE_INVALID',
  // deployments
  'DEPLOYMENT_CHANGE_INVALID',
  'DEPLOYMENT_NOT_FOUND',
  'DEPLOYMENT_PAUSED',
  // monitoring and incidents
  'MONITORING_NOT_FOUND',
  'INCIDENT_NOT_FOUND',
  'INCIDENT_TRANSITION_INVALID',
  'INCIDENT_OWNER_INVALID',
  // preprocessing
  'PREPROCESS_STEP_FAILED',
  // store and audit
  'STORE_OPEN_FAILED',
  'STORE_WRITE_FAILED',
  'STORE_MIGRATION_FAILED',
  'STORE_DISK_FULL',
  'AUDIT_ENTRY_NOT_FOUND',
  'AUDIT_VERIFY_FAILED',
  // secrets
  'SECRET_INVALID',
  // de-identification (a quarantined file is an outcome, not an error)
  'DEID_PROFILE_INVALID',
  'DEID_PIXEL_RULE_INVALID',
  'DEID_PIXEL_CLEAN_FAILED',
  'DEID_OUTPUT_WRITE_FAILED',
  'DEID_OUTPUT_CONFLICT',
  'DEID_DICOMDIR_UNSUPPORTED',
  // evaluation: datasets, acceptance criteria, fits and reports
  'DATASET_INVALID',
  'CRITERIA_INVALID',
  'EVAL_INSUFFICIENT_DATA',
  'EVAL_FIT_FAILED',
  'EVAL_OUTPUT_EXISTS',
  'OUTPUT_PATH_INVALID',
  // HTTP API and access
  'AUTH_REQUIRED',
  'AUTH_FORBIDDEN',
  'AUTH_LOGIN_FAILED',
  'AUTH_RATE_LIMITED',
  'AUTH_CSRF_FAILED',
  'AUTH_PASSWORD_REJECTED',
  'ACCESS_USER_NOT_FOUND',
  'ACCESS_TOKEN_NOT_FOUND',
  'ACCESS_LAST_ADMINISTRATOR',
  'REQUEST_INVALID',
  'REQUEST_HEADERS_TOO_LARGE',
  'REQUEST_NOT_ACCEPTABLE',
  'REQUEST_TIMEOUT',
  'ROUTE_NOT_FOUND',
  'ROUTE_METHOD_NOT_ALLOWED',
  'REVIEW_ALREADY_RECORDED',
  'REVIEW_ITEM_SUPERSEDED',
  // results back (SR, FHIR, webhook)
  'RESULT_NOT_DECIDED',
  'RESULT_IDENTITY_UNAVAILABLE',
  'RESULT_DELIVERY_FAILED',
  // background jobs
  'JOB_PAYLOAD_INVALID',
  // command line
  'CLI_USAGE',
  // anything not yet classified; a bug to be fixed by giving it a code
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether a string (a stored or reported code) is one of Vigil's codes. */
export function isErrorCode(value: string): value is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}

/** Values allowed in error details: scalars only, so a dataset or buffer cannot slip in. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export class PlatformError extends Error {
  override readonly name = 'PlatformError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = details;
  }
}

export function isPlatformError(value: unknown): value is PlatformError {
  return value instanceof PlatformError;
}

/**
 * Wraps anything thrown into a PlatformError. A foreign error's message is not copied, because a
 * library message may quote a tag value or a path; it stays reachable as `cause` for debugging only.
 */
export function toPlatformError(value: unknown, fallback: ErrorCode = 'INTERNAL', message = 'Unexpected failure'): PlatformError {
  if (value instanceof PlatformError) return value;
  return new PlatformError(fallback, message, {}, { cause: value });
}
