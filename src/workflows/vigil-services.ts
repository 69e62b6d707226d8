import type { LedgerAnswer } from './deployment-ledger.js';
import type { MonitoringParts } from './monitoring-parts.js';
import type { PoolStats } from './model-pool.js';
import type { ModelVersion } from '../domain/registry/model-version.js';
import type { RegisterRequest } from './register-model.js';
import type { RasterDeclaration } from '../domain/image/image-frame.js';
import type { DemoRun } from '../ports/demo-inputs.js';
import type { AuditEntry, AuditEvent, JudgementOrigin } from '../domain/audit/audit-event.js';
import type { AuditVerification, InclusionProof } from '../ports/audit-log.js';
import type { ModelInspection } from './inspect-model.js';
import type { DeidCounts, DeidResult } from './deidentify-files.js';
import type { PredictProgress, PredictResult } from './predict-images.js';
import type { StoredPart } from './store-instances.js';
import type { FhirBundle } from '../domain/results/result-fhir.js';
import type { ReviewRead } from '../domain/review/worklist.js';
import type { ReviewRecord } from '../ports/worklist-store.js';
import type { UploadResult } from './ingest-upload.js';
import type { StudyDeclaration } from '../ports/instance-store.js';
import type { EvaluateOutcome, EvaluateRequest } from './evaluate-model.js';
import type { InitModelOutcome, InitModelRequest } from './init-model.js';
import type { CalibrateOutcome, CalibrateRequest, PolicyOutcome, PolicyRequest, ReferenceOutcome, ReferenceRequest } from './derive-bundle.js';
import type { CriteriaRegistration } from './register-criteria.js';
import type { IngestSender } from './ingest-instance.js';
import type { ResultObject } from './study-result-objects.js';
import type { AccountAdministration } from './manage-accounts.js';
import type { Releases } from './releases.js';
import type { PackManifest, PackVerification } from '../domain/release/evidence-pack.js';

/** What calibrate and policy registered: the source's version and the derived one (its child). */
export interface DerivedRegistration {
  readonly parent: ModelVersion;
  readonly version: ModelVersion;
}

export interface PredictOptions {
  readonly modelDir?: string;
  /** A registered version (its archived bundle) instead of a folder: what a site's deployment judges with. */
  readonly versionId?: string;
  /**
   * Attributes declared for PNG/JPEG inputs, which cannot carry them (DICOM inputs keep their own), and
   * an upload's site and device labels (shown to readers).
   */
  readonly declared?: RasterDeclaration & { readonly site?: string; readonly device?: string };
  /** The inputs were de-identified at ingest already (the server's instance store): not done again. */
  readonly alreadyDeidentified?: true;
  /** Who judges (recorded with each decision): a server judging a received study, or `vigil predict` (the default). */
  readonly origin?: JudgementOrigin;
  /** The configured site of the study judged (server only), recorded with each decision. */
  readonly site?: string;
  /** The key of the study judged (server only): its decisions are recorded under it (an upload's images included). */
  readonly studyKey?: string;
  /** With `alreadyDeidentified`: the patient's age kept at ingest for a stored DICOM file, by its path. */
  readonly storedPatientAge?: (path: string) => number | undefined;
  /** Attach each image's monitoring measurements to its result (the server's judging; predict-images.ts `measure`). */
  readonly measure?: true;
}

export interface DeidOptions {
  readonly outDir: string;
  /** Profile options (PROFILE_OPTIONS names); the Basic Profile always applies. */
  readonly options: readonly string[];
  /** Site secret for keyed pseudonyms; default VIGIL_SECRET_FILE or `<data dir>/site-secret`. */
  readonly secretFile?: string;
  /** Site Clean Pixel Data rules, tried before the bundled config/pixel-rules.json. */
  readonly pixelRulesFile?: string;
}

export interface PredictCounts {
  readonly decided: number;
  readonly rejected: number;
  readonly errors: number;
}

/**
 * The operations the edges (CLI, later HTTP) offer, each one a workflow wired by the composition root (composition/services.ts, composition/server.ts). Parts
 * (store, model session) are opened on first use and closed by `close`.
 */
export interface VigilServices {
  predict(
    paths: readonly string[],
    options: PredictOptions,
    emit: (r: PredictResult) => void,
    onProgress?: (p: PredictProgress) => void,
  ): Promise<PredictCounts>;
  deidentify(paths: readonly string[], options: DeidOptions, emit: (r: DeidResult) => void): Promise<DeidCounts>;
  verifyAudit(): Promise<AuditVerification>;
  proveAudit(auditId: string): Promise<{ readonly proof: InclusionProof; readonly verified: boolean }>;
  getAuditEntry(auditId: string): Promise<AuditEntry | undefined>;
  /**
   * Ingests instances sent over HTTP (STOW-RS) exactly as C-STORE does; one result per instance, in order.
   * Available in a server (createApiServer); the CLI's services refuse it.
   */
  storeInstances(instances: readonly Uint8Array[], sender?: IngestSender): Promise<readonly StoredPart[]>;
  /** Stores PNG/JPEG device images as one study with their declaration (server only, like storeInstances). */
  uploadImages(declaration: StudyDeclaration, images: readonly Uint8Array[], sender?: IngestSender): Promise<UploadResult>;
  /**
   * The keys a study is found by, computed from what its sender sent exactly as ingest computes them
   * (the study key of a Study Instance UID, the lookup key of an Accession Number); nothing is kept or
   * logged. Server only.
   */
  studyLookupKeys(sent: { readonly studyInstanceUid?: string; readonly accessionNumber?: string }): Promise<{
    readonly studyKey?: string;
    readonly accessionKey?: string;
  }>;
  /** Vigil's result DICOM objects of a study (workflows/study-result-objects.ts), pseudonymous. Server only. */
  studyResultObjects(studyKey: string): Promise<readonly ResultObject[]>;
  /**
   * The FHIR R4 result Bundle of a decided case (server only, like storeInstances), re-identified when
   * VIGIL_RESULTS_REIDENTIFY is on. Throws ROUTE_NOT_FOUND, RESULT_NOT_DECIDED, RESULT_IDENTITY_UNAVAILABLE.
   */
  caseResultBundle(caseId: string): Promise<{ readonly studyKey: string; readonly bundle: FhirBundle }>;
  /**
   * A reviewer's read of a worklist item (workflows/record-review.ts), audited; a read that completes its
   * case issues the case's result again. Server only. Throws ROUTE_NOT_FOUND, REVIEW_ITEM_SUPERSEDED,
   * REVIEW_ALREADY_RECORDED.
   */
  recordReview(itemId: string, reviewerId: string, read: ReviewRead): Promise<ReviewRecord>;
  /** Appends an event (an access or a human action) to the audit log; resolves once it is durable. */
  recordAudit(event: AuditEvent): Promise<string>;
  auditSize(): Promise<number>;
  /** The configured model bundle (VIGIL_MODEL_DIR), validated and hash-checked. */
  currentModel(): Promise<ModelInspection>;
  inspectModel(directory: string): Promise<ModelInspection>;
  /** `vigil evaluate`: metrics with CIs, strata and criteria; writes report.json, report.html and predictions.jsonl, audited. */
  evaluate(request: EvaluateRequest): Promise<EvaluateOutcome>;
  /** `vigil criteria register`: records acceptance criteria (hash, criteria, time) in the audit log before an evaluation. */
  registerCriteria(path: string): Promise<CriteriaRegistration>;
  /** `vigil calibrate`: fits a calibration, writes a derived bundle and registers it as a child of its source's version. */
  calibrate(request: CalibrateRequest): Promise<CalibrateOutcome & { readonly registered: DerivedRegistration }>;
  /** `vigil policy`: chooses threshold and abstain band, writes a derived bundle and registers it as a child of its source's version. */
  choosePolicy(request: PolicyRequest): Promise<PolicyOutcome & { readonly registered: DerivedRegistration }>;
  /** `vigil model register`: records a bundle folder as an immutable, content-addressed version (audited). */
  registerModel(request: RegisterRequest): Promise<{ readonly version: ModelVersion; readonly created: boolean }>;
  /** The models this process holds open (bytes within VIGIL_MODEL_POOL_BYTES). */
  modelPoolStats(): PoolStats;
  /** Every registered version, newest first. */
  modelVersions(): Promise<readonly ModelVersion[]>;
  /** One version by id or unique prefix (MODEL_VERSION_NOT_FOUND otherwise). */
  modelVersion(idOrPrefix: string): Promise<ModelVersion>;
  /** A version's generated model card (Markdown), from its archived bundle. */
  modelCard(idOrPrefix: string): Promise<{ readonly version: ModelVersion; readonly card: string }>;
  /** `vigil model reference`: computes the bundle's reference distribution on its validation data, writes the bundle with it and registers it as a child of its source's version. */
  computeReference(request: ReferenceRequest): Promise<ReferenceOutcome & { readonly registered: DerivedRegistration }>;
  /** `vigil model init`: builds, evaluates and registers a bundle for an ONNX network (bring your own model). */
  initModel(request: InitModelRequest): Promise<InitModelOutcome>;
  /** Prepares the demo's inputs from the public sample data: the paths to predict on, and notes for the reader. */
  prepareDemo(): Promise<{ readonly runs: readonly DemoRun[]; readonly notes: readonly string[] }>;
  /** `vigil users`: accounts and tokens in the store the server uses, changed as `local-cli` and audited. */
  accounts(): Promise<AccountAdministration>;
  /**
   * Release requests and site deployments (`vigil release`, `vigil deploy`, /api/releases, /api/deployments).
   * Opening them deploys the configured model (VIGIL_MODEL_DIR, registered) at every site with nothing deployed.
   */
  releases(): Promise<Releases>;
  /** Production monitoring and incidents (`vigil monitor`, `vigil incident`, /api/monitoring, /api/incidents; composition/monitoring.ts). */
  monitoring(): Promise<MonitoringParts>;
  /** Which version judged studies at a configured site at a time, and who approved it: from the audit log (deployment-ledger.ts). */
  deploymentLedger(site: string, at: Date): Promise<LedgerAnswer>;
  /**
   * A release request's evidence pack (docs/releases.md, "Evidence pack"): the zip and its manifest;
   * written to `out` (a new file, never replaced) when given.
   */
  releaseEvidencePack(requestId: string, out?: string): Promise<{ readonly zip: Uint8Array; readonly manifest: PackManifest }>;
  /**
   * Checks an evidence pack file offline: each check passed or failed (a failure is an answer, not an
   * exception). The tree head's signature is checked under the PEM public key in `publicKeyPemFile`,
   * or, without one, this installation's own audit key.
   */
  verifyEvidencePack(zipFile: string, publicKeyPemFile?: string): Promise<PackVerification>;
  /** The audit log's public key (SPKI PEM), for whoever verifies its proofs and evidence packs. */
  auditPublicKey(): Promise<string>;
  close(): Promise<void>;
}
