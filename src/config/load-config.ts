import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PlatformError } from '../domain/errors.js';
import { PROFILE_OPTIONS } from '../domain/deidentification/profile-attribute.js';

/** The package root (…/vigil), whether running from src/ (tests) or dist/. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const positiveInt = z.coerce.number().int().positive();

/** Every setting, its environment variable and its default, in one place. Units are in the names. */
const configSchema = z.strictObject({
  dataDir: z.string().min(1),
  modelDir: z.string().min(1),
  sampleDataDir: z.string().min(1),
  /** Optional path of the site secret used for pseudonyms; default `<dataDir>/site-secret`. */
  secretFile: z.string().min(1).optional(),
  logLevel: z.enum(['silent', 'error', 'warn', 'info', 'debug']),
  batchSize: positiveInt.max(1024),
  executionProvider: z.enum(['cpu', 'cuda']),
  /** 0 = ONNX Runtime's choice (one thread per core). */
  intraOpThreads: z.coerce.number().int().min(0).max(256),
  /** Largest input file accepted; 2 GiB covers large multi-frame studies and stays under Node's buffer limit. */
  maxInputBytes: positiveInt,
  /** Largest model file read (`--onnx`, a bundle's model.file); ONNX's protobuf format stops at 2 GiB. */
  maxModelBytes: positiveInt,
  /** Bytes of model file a process holds open at once (ports: workflows/model-pool.ts); idle models past it are closed. */
  modelPoolBytes: positiveInt,
  /**
   * A Deflated DICOM dataset may inflate to at most this many times its deflated size once past 16 MiB
   * (and never past maxInputBytes). 100: real images deflate 1:1 to 7:1, a decompression bomb ~1,000:1
   * (adapters/dicom-dcmjs/internal/part10.ts says why); 1032 or more leaves only maxInputBytes.
   */
  maxInflateRatio: z.coerce.number().min(1),
  /** De-identification options applied at ingest (docs/deidentification.md), comma-separated. */
  deidOptions: z
    .string()
    .transform((text) => [
      ...new Set(
        text
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o.length > 0),
      ),
    ])
    .pipe(z.array(z.enum(PROFILE_OPTIONS))),
  /** HTTP API and dashboard. Loopback by default: exposing it is a decision the site makes. */
  httpHost: z.string().min(1),
  httpPort: z.coerce.number().int().min(0).max(65535),
  /** Largest HTTP request body (STOW-RS, uploads); 512 MiB fits a large multi-frame study per request. */
  maxUploadBytes: positiveInt,
  /** A request's line and headers must be in this long after its first byte (Node's headersTimeout); else 408 and closed. */
  httpHeadersTimeoutMs: positiveInt.min(100).max(600_000),
  /** A request body sending nothing this long is answered 408 and its connection closed. */
  httpIdleTimeoutMs: positiveInt.min(100).max(3_600_000),
  /**
   * A body's first allowance; it earns one second per VIGIL_HTTP_BODY_MIN_BYTES_PER_SECOND bytes received, at
   * most this far ahead (src/http/internal/request-receipt.ts). A body slower than that rate is answered 408.
   */
  httpBodyTimeoutMs: positiveInt.min(100).max(3_600_000),
  /** 4 KiB/s (32 kbit/s) is below any link a site uploads over; the largest upload (512 MiB) may take ~36 h at it. */
  httpBodyMinBytesPerSecond: positiveInt.max(1024 ** 3),
  /** DICOM receiver (C-STORE SCP). Loopback by default, like HTTP. */
  dicomHost: z.string().min(1),
  dicomPort: z.coerce.number().int().min(0).max(65535),
  dicomAeTitle: z.string().regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, '1 to 16 printable characters, no backslash'),
  /** Calling AE titles allowed to send, comma-separated, or `*` for any (hosts still limit who can connect). */
  dicomAllowedAeTitles: z.string().min(1),
  /** Hosts or CIDR blocks allowed to send, comma-separated; empty: loopback only. */
  dicomAllowedHosts: z.string(),
  /**
   * Who sends by C-STORE, as `AE=user` pairs (comma-separated): an instance from that calling AE title is
   * recorded as sent by that user (an `integration` account reads the studies it sent). Empty: none.
   */
  dicomSenderUsers: z.string().regex(/^$|^\s*[^=,\\]{1,16}=[^=,]{1,64}(\s*,\s*[^=,\\]{1,16}=[^=,]{1,64})*\s*$/, 'AE=user pairs, comma-separated'),
  /** Associations open at once (a modality or PACS opens one or a few); beyond it, transient rejection. */
  dicomMaxAssociations: positiveInt.max(10_000),
  /** One host's share of them, so that one host cannot take every slot (used as at most dicomMaxAssociations). */
  dicomMaxAssociationsPerHost: positiveInt.max(10_000),
  /** PS3.8 ARTIM timer: from TCP accept to the whole A-ASSOCIATE-RQ, a deadline; senders write the request at once. */
  dicomAssociateTimeoutMs: positiveInt.min(100).max(600_000),
  /** An association sending nothing while it owes a PDU is aborted after this long (Orthanc's default is 30 s too). */
  dicomIdleTimeoutMs: positiveInt.min(100).max(86_400_000),
  /** Below this much free disk, new instances and associations are refused; 1 GiB leaves room to finish in-flight work. */
  minFreeDiskBytes: z.coerce.number().int().min(0),
  /** A study is complete after this long without a new instance (senders give no end marker). */
  studyQuietMs: positiveInt,
  /** Share of confidently decided studies also sent to review (one draw per study), to measure real performance (5%: an assumption a site tunes). */
  reviewSampleRate: z.coerce.number().min(0).max(1),
  /** Job lease; renewed by the worker's heartbeat, so after a crash a job is retried within about this long. */
  jobLeaseMs: positiveInt.min(100),
  /**
   * PostgreSQL store shared by several Vigil processes (README, "Scaling out"); unset: the embedded
   * SQLite store in the data folder. It may hold a password: never logged, left out of the config hash.
   */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'a postgres:// or postgresql:// URL')
    .optional(),
  /**
   * Secure attribute on the session cookie. Chromium keeps a Secure cookie set over plain HTTP by
   * 127.0.0.1 or localhost (checked with Chromium 156), so the default works locally; on any other
   * address over plain HTTP the browser drops it: put TLS in front, or set false knowingly.
   */
  cookieSecure: z.enum(['true', 'false']).transform((v) => v === 'true'),
  /** A dashboard session unused this long ends (OWASP: 15–30 minutes for sensitive data). */
  sessionIdleMs: positiveInt.min(1000),
  /** A dashboard session ends this long after sign-in, however active (a working day). */
  sessionMaxMs: positiveInt.min(1000),
  /** Failed sign-ins allowed per user name and per client address within the window; the next is refused (429). */
  loginMaxFailures: positiveInt.max(1000),
  loginWindowMs: positiveInt.min(1000),
  /** Extra folder of evaluation reports (`<name>/report.json` + `report.html`) shown on the model page. */
  reportsDir: z.string().min(1).optional(),
  /** A site's own release protocols (`<changeType>.json`), read before the bundled config/release-protocols/. */
  releaseProtocolsDir: z.string().min(1).optional(),
  /**
   * The folder release gates run over HTTP read validation datasets from: a dataset spec a signed-in
   * caller gives names a file inside it (default: the sample data folder). The host's CLI reads any path.
   */
  releaseDatasetsDir: z.string().min(1).optional(),
  /** Results carry the patient's original identity (from the re-identification vault); false: the pseudonyms. */
  resultsReidentify: z.enum(['true', 'false']).transform((v) => v === 'true'),
  /** Where result SRs are sent by C-STORE, "AE@host:port"; unset: not sent. */
  resultDicomDestination: z
    .string()
    .regex(/^[\x20-\x3f\x41-\x5b\x5d-\x7e]{1,16}@[^\s@]+:\d{1,5}$/, 'AE@host:port (AE title 1 to 16 characters, no backslash or @)')
    .transform((text) => {
      const at = text.indexOf('@');
      const colon = text.lastIndexOf(':');
      return { aeTitle: text.slice(0, at).trim(), host: text.slice(at + 1, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
    })
    .refine((d) => d.port >= 1 && d.port <= 65535 && d.aeTitle !== '', 'the AE title must not be blank and the port must be 1 to 65535')
    .optional(),
  /** Where FHIR result Bundles are POSTed (http or https); unset: not posted. */
  /** JSON file of the sites served (domain/deployment/sites.ts); absent: one site, `default`. */
  sitesFile: z.string().min(1).optional(),
  resultWebhookUrl: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
  /** The webhook's HMAC key: a file whose text (trimmed, at least 32 characters) is the key; owner-only. */
  resultWebhookSecretFile: z.string().min(1).optional(),
  /** FHIR identifier system of the hospital's Patient ID, for re-identified results. */
  fhirPatientIdSystem: z.string().min(1),
  /** Monitors (docs/monitoring.md): at most one false alarm per this many days per deployment … */
  monitorFalseAlarmDays: z.coerce.number().positive().max(3650),
  /** … at this many images a day (a site's `casesPerDay` in the sites file overrides it). */
  monitorCasesPerDay: z.coerce.number().positive().max(1_000_000),
  /** Without a version reference (`monitoring-reference.json` in the bundle), a deployment's first this many images are its reference. */
  monitorBaselineCases: positiveInt.min(50).max(100_000),
  /** Bootstrap resamples for every monitor threshold (the guarantee that allows for the reference being a sample); 0: none. */
  monitorGuaranteeBootstraps: z.coerce.number().int().min(0).max(200),
  /** Where monitoring alerts and incident changes are POSTed, signed (http or https); unset: not sent. */
  monitorWebhookUrl: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
  /** The monitoring webhook's HMAC key file (as VIGIL_RESULT_WEBHOOK_SECRET_FILE). */
  monitorWebhookSecretFile: z.string().min(1).optional(),
});

export type VigilConfig = Readonly<z.infer<typeof configSchema>>;

const ENV: Record<keyof VigilConfig, string> = {
  dataDir: 'VIGIL_DATA_DIR',
  modelDir: 'VIGIL_MODEL_DIR',
  sampleDataDir: 'VIGIL_SAMPLE_DATA',
  secretFile: 'VIGIL_SECRET_FILE',
  logLevel: 'VIGIL_LOG_LEVEL',
  batchSize: 'VIGIL_BATCH_SIZE',
  executionProvider: 'VIGIL_EXECUTION_PROVIDER',
  intraOpThreads: 'VIGIL_INTRA_OP_THREADS',
  maxInputBytes: 'VIGIL_MAX_INPUT_BYTES',
  maxModelBytes: 'VIGIL_MAX_MODEL_BYTES',
  modelPoolBytes: 'VIGIL_MODEL_POOL_BYTES',
  maxInflateRatio: 'VIGIL_MAX_INFLATE_RATIO',
  deidOptions: 'VIGIL_DEID_OPTIONS',
  httpHost: 'VIGIL_HTTP_HOST',
  httpPort: 'VIGIL_HTTP_PORT',
  maxUploadBytes: 'VIGIL_MAX_UPLOAD_BYTES',
  httpHeadersTimeoutMs: 'VIGIL_HTTP_HEADERS_TIMEOUT_MS',
  httpIdleTimeoutMs: 'VIGIL_HTTP_IDLE_TIMEOUT_MS',
  httpBodyTimeoutMs: 'VIGIL_HTTP_BODY_TIMEOUT_MS',
  httpBodyMinBytesPerSecond: 'VIGIL_HTTP_BODY_MIN_BYTES_PER_SECOND',
  dicomHost: 'VIGIL_DICOM_HOST',
  dicomPort: 'VIGIL_DICOM_PORT',
  dicomAeTitle: 'VIGIL_DICOM_AE_TITLE',
  dicomAllowedAeTitles: 'VIGIL_DICOM_ALLOWED_AE_TITLES',
  dicomAllowedHosts: 'VIGIL_DICOM_ALLOWED_HOSTS',
  dicomSenderUsers: 'VIGIL_DICOM_SENDER_USERS',
  dicomMaxAssociations: 'VIGIL_DICOM_MAX_ASSOCIATIONS',
  dicomMaxAssociationsPerHost: 'VIGIL_DICOM_MAX_ASSOCIATIONS_PER_HOST',
  dicomAssociateTimeoutMs: 'VIGIL_DICOM_ASSOCIATE_TIMEOUT_MS',
  dicomIdleTimeoutMs: 'VIGIL_DICOM_IDLE_TIMEOUT_MS',
  minFreeDiskBytes: 'VIGIL_MIN_FREE_DISK_BYTES',
  studyQuietMs: 'VIGIL_STUDY_QUIET_MS',
  jobLeaseMs: 'VIGIL_JOB_LEASE_MS',
  databaseUrl: 'VIGIL_DATABASE_URL',
  reviewSampleRate: 'VIGIL_REVIEW_SAMPLE_RATE',
  cookieSecure: 'VIGIL_COOKIE_SECURE',
  sessionIdleMs: 'VIGIL_SESSION_IDLE_MS',
  sessionMaxMs: 'VIGIL_SESSION_MAX_MS',
  loginMaxFailures: 'VIGIL_LOGIN_MAX_FAILURES',
  loginWindowMs: 'VIGIL_LOGIN_WINDOW_MS',
  reportsDir: 'VIGIL_REPORTS_DIR',
  releaseProtocolsDir: 'VIGIL_RELEASE_PROTOCOLS_DIR',
  releaseDatasetsDir: 'VIGIL_RELEASE_DATASETS_DIR',
  resultsReidentify: 'VIGIL_RESULTS_REIDENTIFY',
  resultDicomDestination: 'VIGIL_RESULT_DICOM_DESTINATION',
  sitesFile: 'VIGIL_SITES_FILE',
  resultWebhookUrl: 'VIGIL_RESULT_WEBHOOK_URL',
  resultWebhookSecretFile: 'VIGIL_RESULT_WEBHOOK_SECRET_FILE',
  fhirPatientIdSystem: 'VIGIL_FHIR_PATIENT_ID_SYSTEM',
  monitorFalseAlarmDays: 'VIGIL_MONITOR_FALSE_ALARM_DAYS',
  monitorCasesPerDay: 'VIGIL_MONITOR_CASES_PER_DAY',
  monitorBaselineCases: 'VIGIL_MONITOR_BASELINE_CASES',
  monitorGuaranteeBootstraps: 'VIGIL_MONITOR_GUARANTEE_BOOTSTRAPS',
  monitorWebhookUrl: 'VIGIL_MONITOR_WEBHOOK_URL',
  monitorWebhookSecretFile: 'VIGIL_MONITOR_WEBHOOK_SECRET_FILE',
};

function defaults(cwd: string): Record<keyof VigilConfig, string | undefined> {
  return {
    dataDir: resolve(cwd, 'vigil-data'),
    modelDir: resolve(PACKAGE_ROOT, 'models', 'pneumonia-demo'),
    sampleDataDir: resolve(PACKAGE_ROOT, '..', 'shared', 'data'),
    secretFile: undefined,
    logLevel: 'warn',
    batchSize: '16',
    executionProvider: 'cpu',
    intraOpThreads: '0',
    maxInputBytes: String(2 * 1024 ** 3 - 1),
    maxModelBytes: String(2 * 1024 ** 3),
    modelPoolBytes: String(2 * 1024 ** 3),
    maxInflateRatio: '100',
    deidOptions: 'retain-device-identity,retain-longitudinal-modified-dates',
    httpHost: '127.0.0.1',
    httpPort: '8080',
    maxUploadBytes: String(512 * 1024 ** 2),
    httpHeadersTimeoutMs: '30000',
    httpIdleTimeoutMs: '30000',
    httpBodyTimeoutMs: '60000',
    httpBodyMinBytesPerSecond: '4096',
    dicomHost: '127.0.0.1',
    dicomPort: '11112',
    dicomAeTitle: 'VIGIL',
    dicomAllowedAeTitles: '*',
    dicomAllowedHosts: '',
    dicomSenderUsers: '',
    dicomMaxAssociations: '64',
    dicomMaxAssociationsPerHost: '16',
    dicomAssociateTimeoutMs: '5000',
    dicomIdleTimeoutMs: '30000',
    minFreeDiskBytes: String(1024 ** 3),
    studyQuietMs: '10000',
    jobLeaseMs: '60000',
    databaseUrl: undefined,
    reviewSampleRate: '0.05',
    cookieSecure: 'true',
    sessionIdleMs: String(30 * 60_000),
    sessionMaxMs: String(12 * 3_600_000),
    loginMaxFailures: '5',
    loginWindowMs: String(15 * 60_000),
    reportsDir: undefined,
    releaseProtocolsDir: undefined,
    releaseDatasetsDir: undefined,
    resultsReidentify: 'true',
    resultDicomDestination: undefined,
    sitesFile: undefined,
    resultWebhookUrl: undefined,
    resultWebhookSecretFile: undefined,
    fhirPatientIdSystem: 'urn:vigil:dicom-patient-id',
    monitorFalseAlarmDays: '90',
    monitorCasesPerDay: '200',
    monitorBaselineCases: '1000',
    monitorGuaranteeBootstraps: '200',
    monitorWebhookUrl: undefined,
    monitorWebhookSecretFile: undefined,
  };
}

/**
 * Reads the environment once (the only place that does), validates, resolves paths and freezes.
 * The error names the variable and the problem, never the value (a path or secret must not leak).
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  overrides: Partial<Record<keyof VigilConfig, string>> = {},
): VigilConfig {
  const base = defaults(cwd);
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(ENV) as (keyof VigilConfig)[]) {
    const fromEnv = env[ENV[key]];
    raw[key] = overrides[key] ?? (fromEnv === undefined || fromEnv === '' ? base[key] : fromEnv);
    if (raw[key] === undefined) delete raw[key];
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as keyof VigilConfig | undefined;
      return `${key === undefined ? '(config)' : ENV[key]}: ${issue.message}`;
    });
    throw new PlatformError('CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`, { problems: problems.length });
  }
  const config = parsed.data;
  const resolved = {
    ...config,
    dataDir: resolve(cwd, config.dataDir),
    modelDir: resolve(cwd, config.modelDir),
    sampleDataDir: resolve(cwd, config.sampleDataDir),
    ...(config.secretFile === undefined ? {} : { secretFile: resolve(cwd, config.secretFile) }),
    ...(config.reportsDir === undefined ? {} : { reportsDir: resolve(cwd, config.reportsDir) }),
    ...(config.releaseProtocolsDir === undefined ? {} : { releaseProtocolsDir: resolve(cwd, config.releaseProtocolsDir) }),
    releaseDatasetsDir: resolve(cwd, config.releaseDatasetsDir ?? config.sampleDataDir),
    ...(config.resultWebhookSecretFile === undefined ? {} : { resultWebhookSecretFile: resolve(cwd, config.resultWebhookSecretFile) }),
    ...(config.monitorWebhookSecretFile === undefined ? {} : { monitorWebhookSecretFile: resolve(cwd, config.monitorWebhookSecretFile) }),
  };
  if ((config.resultWebhookUrl === undefined) !== (config.resultWebhookSecretFile === undefined)) {
    throw new PlatformError(
      'CONFIG_INVALID',
      'Invalid configuration: VIGIL_RESULT_WEBHOOK_URL and VIGIL_RESULT_WEBHOOK_SECRET_FILE go together (a webhook is always signed)',
      {
        problems: 1,
      },
    );
  }
  if ((config.monitorWebhookUrl === undefined) !== (config.monitorWebhookSecretFile === undefined)) {
    throw new PlatformError(
      'CONFIG_INVALID',
      'Invalid configuration: VIGIL_MONITOR_WEBHOOK_URL and VIGIL_MONITOR_WEBHOOK_SECRET_FILE go together (a webhook is always signed)',
      { problems: 1 },
    );
  }
  return Object.freeze(resolved);
}

export const CONFIG_ENV_VARS = ENV;
