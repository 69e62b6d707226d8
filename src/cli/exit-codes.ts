import type { ErrorCode } from '../domain/errors.js';

/** Exit codes that are outcomes rather than errors. */
export const EXIT_OK = 0;
/** `vigil predict` / `vigil deid`: at least one input ended in `error` (or, for deid, `conflict`); the others were still processed. */
export const EXIT_SOME_INPUTS_FAILED = 3;
/** `vigil evaluate`: the report was written, and at least one acceptance criterion failed. */
export const EXIT_CRITERIA_FAILED = 5;
/**
 * `vigil evaluate`: the report was written, no criterion failed, but at least one could not be
 * evaluated (a metric the cases do not define, a missing column, reference or target): acceptance
 * is not shown, and the remedy (more or other data) differs from a failure's.
 */
export const EXIT_CRITERIA_NOT_EVALUABLE = 6;

/**
 * Exit code per error code, grouped by subsystem so scripts can branch on them. A missing entry
 * fails to compile (as tRPC's getHTTPStatusCode map does). Documented in docs/errors.md.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  CLI_USAGE: 2,
  AUTH_REQUIRED: 16,
  AUTH_FORBIDDEN: 16,
  AUTH_LOGIN_FAILED: 16,
  AUTH_RATE_LIMITED: 16,
  AUTH_CSRF_FAILED: 16,
  AUTH_PASSWORD_REJECTED: 16,
  ACCESS_USER_NOT_FOUND: 16,
  ACCESS_TOKEN_NOT_FOUND: 16,
  ACCESS_LAST_ADMINISTRATOR: 16,
  REQUEST_INVALID: 2,
  REQUEST_HEADERS_TOO_LARGE: 2,
  REQUEST_NOT_ACCEPTABLE: 2,
  ROUTE_NOT_FOUND: 2,
  REVIEW_ALREADY_RECORDED: 2,
  REVIEW_ITEM_SUPERSEDED: 2,
  RESULT_NOT_DECIDED: 19,
  RESULT_IDENTITY_UNAVAILABLE: 19,
  RESULT_DELIVERY_FAILED: 19,
  AUDIT_VERIFY_FAILED: 4,
  CONFIG_INVALID: 10,
  SECRET_INVALID: 10,
  INPUT_NOT_FOUND: 11,
  INPUT_UNREADABLE: 11,
  INPUT_TOO_LARGE: 11,
  INPUT_FORMAT_UNKNOWN: 11,
  DICOM_PARSE_FAILED: 12,
  DICOM_TRUNCATED: 12,
  DICOM_NO_PIXEL_DATA: 12,
  DICOM_TRANSFER_SYNTAX_UNSUPPORTED: 12,
  DICOM_PIXEL_DECODE_FAILED: 12,
  DICOM_PIXEL_LENGTH_MISMATCH: 12,
  DICOM_IMAGE_ATTRIBUTES_INVALID: 12,
  DICOM_LIMIT_EXCEEDED: 12,
  DICOM_INFLATE_LIMIT_EXCEEDED: 12,
  DICOM_LISTEN_FAILED: 17,
  IMAGE_DECODE_FAILED: 12,
  MODEL_BUNDLE_NOT_FOUND: 13,
  MODEL_MANIFEST_INVALID: 13,
  MODEL_HASH_MISMATCH: 13,
  MODEL_LOAD_FAILED: 13,
  MODEL_INPUT_SHAPE_MISMATCH: 13,
  MODEL_OUTPUT_INVALID: 13,
  MODEL_INFERENCE_FAILED: 13,
  MODEL_BUNDLE_INVALID: 13,
  MODEL_VERSION_NOT_FOUND: 13,
  MODEL_PARENT_UNREGISTERED: 13,
  RELEASE_TRANSITION_INVALID: 20,
  RELEASE_SELF_APPROVAL: 20,
  RELEASE_SIGNATURE_INVALID: 20,
  PREPROCESS_STEP_FAILED: 14,
  STORE_OPEN_FAILED: 15,
  STORE_WRITE_FAILED: 15,
  STORE_MIGRATION_FAILED: 15,
  STORE_DISK_FULL: 15,
  AUDIT_ENTRY_NOT_FOUND: 15,
  DATASET_INVALID: 18,
  CRITERIA_INVALID: 18,
  EVAL_INSUFFICIENT_DATA: 18,
  EVAL_FIT_FAILED: 18,
  EVAL_OUTPUT_EXISTS: 18,
  DEID_PROFILE_INVALID: 16,
  DEID_PIXEL_RULE_INVALID: 16,
  DEID_PIXEL_CLEAN_FAILED: 16,
  DEID_OUTPUT_WRITE_FAILED: 16,
  DEID_OUTPUT_CONFLICT: 16,
  DEID_DICOMDIR_UNSUPPORTED: 16,
  JOB_PAYLOAD_INVALID: 70,
  INTERNAL: 70,
};
