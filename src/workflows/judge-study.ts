import { basename } from 'node:path';
import type { AuditEvent, ModelIdentity } from '../domain/audit/audit-event.js';
import type { SiteDeployment, StudyRoute } from '../domain/deployment/deployment.js';
import { shadowAgreement } from '../domain/deployment/shadow.js';
import { isPlatformError, PlatformError, toPlatformError, type ErrorCode } from '../domain/errors.js';
import type { Clock } from '../ports/clock.js';
import type { ShadowComparison } from '../ports/deployment-store.js';
import type { InstanceStore } from '../ports/instance-store.js';
import type { Logger } from '../ports/logger.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { ImageMeasurements, PredictResult } from './predict-images.js';
import type { AcquisitionRecord } from '../domain/monitoring/acquisition-signals.js';
import type { JudgedForMonitoring, MonitoredImage } from './monitoring.js';
import type { PredictOptions, VigilServices } from './vigil-services.js';

export interface JudgeStudyDependencies {
  readonly studies: Pick<StudyRegistry, 'get'>;
  readonly instances: Pick<InstanceStore, 'readDeclaration' | 'readPatientAges' | 'studyLocation' | 'listImages'>;
  /** A stored file's name relative to the instance store (`<study>/<instance>.dcm`), as cases record it. */
  readonly nameOf: (path: string) => string;
  readonly predict: VigilServices['predict'];
  /** The configured site a study is judged for: the site it came from, or the default site (a study kept before sites, or from a site no longer configured). */
  readonly siteOf: (recorded: string | null) => string;
  /** Who judges a study of the site now (workflows/deployments.ts). */
  readonly route: (site: string, studyKey: string) => Promise<{ readonly deployment: SiteDeployment; readonly route: StudyRoute }>;
  /** A registered version's identity, with its version id (for a study no model could judge). */
  readonly identityOf: (versionId: string | null) => Promise<ModelIdentity>;
  readonly recordShadow: (comparison: ShadowComparison) => Promise<void>;
  /** Appends to the audit log; resolves with the entry's id once it is durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<string>;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Production monitoring (workflows/monitoring.ts `recordJudged`): the judged images' measurements, for
   * the deployment that judged them (production, or a canary candidate under its own key; never a
   * shadow). Never throws.
   */
  readonly monitor?: (judged: JudgedForMonitoring) => Promise<unknown>;
}

export interface JudgedStudy {
  readonly model: ModelIdentity;
  readonly results: readonly PredictResult[];
}

/**
 * Judges every frame of a stored, de-identified study with the version its site's deployment routes
 * it to (production, or the canary candidate for the canary's share of study keys), as the server's
 * inference job does. A shadow candidate then judges the same images beside it: its decisions are
 * audited as the shadow's and compared, and change nothing returned here.
 *
 * A study no model can judge — the site is paused, nothing is deployed there, or the version's model
 * cannot be loaded — is not dropped and not retried into a dead letter: each of its images comes back
 * as an error with the reason, which sends the study to human review (domain/review/worklist.ts, `not_judged`).
 */
export async function judgeStudy(deps: JudgeStudyDependencies, studyUid: string, studyKey: string, caseId: string): Promise<JudgedStudy> {
  const site = deps.siteOf((await deps.studies.get(studyKey))?.site ?? null);
  const { deployment, route } = await deps.route(site, studyKey);
  if (route.kind === 'human_review') {
    const code: ErrorCode = route.reason === 'deployment_paused' ? 'DEPLOYMENT_PAUSED' : 'DEPLOYMENT_NOT_FOUND';
    const message = route.reason === 'deployment_paused' ? `The site's deployment is paused: ${route.detail}` : route.detail;
    return notJudged(deps, studyUid, studyKey, site, deployment.production, new PlatformError(code, message, { site }));
  }
  let judged: PredictResult[];
  try {
    judged = await judgeWith(deps, studyUid, studyKey, site, route.versionId, 'server', deps.monitor !== undefined);
  } catch (cause) {
    // A model that cannot be loaded (altered archive, runtime failure) will not load on a retry either.
    if (isPlatformError(cause) && cause.code.startsWith('MODEL_')) return notJudged(deps, studyUid, studyKey, site, route.versionId, cause);
    throw cause;
  }
  if (deps.monitor !== undefined) {
    await deps.monitor({ site, versionId: route.versionId, origin: route.route, caseId, studyKey, images: monitoredImages(judged) });
  }
  if (route.shadow !== null) await shadowJudge(deps, { studyUid, studyKey, caseId, site, deployment, candidate: route.shadow, production: judged });
  const model = judged[0]?.model ?? (await deps.identityOf(route.versionId));
  // The embedding served monitoring only: the case keeps its results without it.
  return { model, results: judged.map(withoutEmbedding) };
}

async function judgeWith(
  deps: JudgeStudyDependencies,
  studyUid: string,
  studyKey: string,
  site: string,
  versionId: string,
  origin: 'server' | 'shadow',
  measure = false,
): Promise<PredictResult[]> {
  const results: PredictResult[] = [];
  // Uploaded images come with what their sender declared; DICOM studies declare nothing extra.
  const declared = await deps.instances.readDeclaration(studyUid);
  // DICOM instances come with the patient's age derived at the door (their stored headers no longer say it).
  const ages = await deps.instances.readPatientAges(studyUid);
  const storedPatientAge = (path: string): number | undefined => ages.get(basename(path).replace(/\.dcm$/, ''));
  const options: PredictOptions = {
    versionId,
    alreadyDeidentified: true,
    origin,
    studyKey,
    storedPatientAge,
    site,
    ...(declared === undefined ? {} : { declared }),
    ...(measure ? { measure: true as const } : {}),
  };
  // Cases name their images relative to the instance store (`<study>/<instance>.dcm`): the server's
  // own folders stay out of API responses, and servers sharing the objects folder read the same names.
  await deps.predict([deps.instances.studyLocation(studyUid)], options, (r) => results.push({ ...r, input: { ...r.input, file: deps.nameOf(r.input.file) } }));
  return results;
}

/**
 * The judged images as monitoring records them: those decided or rejected by the gate, with what the
 * chain measured (an image that failed has no measurements), the monitored finding (the first), and
 * the device named by the de-identified metadata (manufacturer and model, or an upload's device label).
 */
function monitoredImages(results: readonly PredictResult[]): MonitoredImage[] {
  const images: MonitoredImage[] = [];
  for (const r of results) {
    if (r.measures === undefined || r.status === 'error' || r.quality === null) continue;
    const { encoding, acquisition, ...measured } = r.measures;
    const finding = r.outputs[0];
    const manufacturer = r.image?.manufacturer ?? null;
    const model = r.image?.manufacturerModel ?? r.image?.device ?? null;
    images.push({
      imageRef: r.input.frame === null ? r.input.file : `${r.input.file}#${r.input.frame}`,
      measures: {
        status: r.status,
        gateVerdict: r.quality.verdict,
        ...(finding === undefined ? {} : { probability: finding.probability, decision: finding.decision }),
        ...measured,
      },
      device: manufacturer === null && model === null ? null : { manufacturer, model },
      acquisition: acquisitionOf(r.image, encoding, acquisition),
    });
  }
  return images;
}

/**
 * An image's acquisition record for monitoring (domain/monitoring/acquisition-signals.ts) from what the
 * chain's image summary carries after de-identification — manufacturer, model (or an upload's device
 * label), body part and view — how the image was encoded (the sender's photometric interpretation;
 * a DICOM instance's transfer syntax, none for PNG/JPEG) and how it was acquired (a DICOM header's
 * software versions, kVp and pixel spacing; not stated when the header lacks them, and for PNG/JPEG).
 */
function acquisitionOf(image: PredictResult['image'], encoding: ImageMeasurements['encoding'], header: ImageMeasurements['acquisition']): AcquisitionRecord {
  return {
    photometricInterpretation: encoding.photometricInterpretation,
    transferSyntax: encoding.transferSyntax,
    ...(header.softwareVersions === undefined ? {} : { softwareVersion: header.softwareVersions.join('\\') }),
    ...(header.kvp === undefined ? {} : { kvp: header.kvp }),
    ...(header.pixelSpacingMm === undefined ? {} : { pixelSpacing: header.pixelSpacingMm }),
    ...(image?.manufacturer === undefined ? {} : { manufacturer: image.manufacturer }),
    ...((image?.manufacturerModel ?? image?.device) === undefined ? {} : { manufacturerModel: image?.manufacturerModel ?? image?.device ?? null }),
    ...(image?.bodyPart === undefined ? {} : { bodyPart: image.bodyPart }),
    ...(image?.view === undefined ? {} : { view: image.view }),
  };
}

/** Each stored image, as not judged for `error`'s reason (audited per image, as a judged image's error is). */
async function notJudged(
  deps: JudgeStudyDependencies,
  studyUid: string,
  studyKey: string,
  site: string,
  versionId: string | null,
  error: PlatformError,
): Promise<JudgedStudy> {
  // The deployment the study was routed by, marked: no model judged it (a reader must not take it for the judge).
  const model: ModelIdentity = { ...(await deps.identityOf(versionId)), judged: false };
  const results: PredictResult[] = [];
  for (const path of await deps.instances.listImages(studyUid)) {
    const auditId = await deps.recordAudit({ type: 'error', code: error.code, stage: 'deployment', origin: 'server', studyKey, site });
    results.push({
      input: { file: deps.nameOf(path), frame: null },
      studyKey,
      status: 'error',
      quality: null,
      outputs: [],
      model,
      auditId,
      error: { code: error.code, message: error.message },
    });
  }
  deps.logger.warn({ stage: 'infer', studyKey, code: error.code, count: results.length, status: 'not_judged' }, 'study sent to human review unjudged');
  return { model, results };
}

/** The shadow candidate judges the same study; its failure is logged and changes nothing. */
async function shadowJudge(
  deps: JudgeStudyDependencies,
  study: {
    readonly studyUid: string;
    readonly studyKey: string;
    readonly caseId: string;
    readonly site: string;
    readonly deployment: SiteDeployment;
    readonly candidate: string;
    readonly production: readonly PredictResult[];
  },
): Promise<void> {
  try {
    const shadow = await judgeWith(deps, study.studyUid, study.studyKey, study.site, study.candidate, 'shadow');
    const agreement = shadowAgreement(study.production, shadow);
    await deps.recordShadow({
      caseId: study.caseId,
      site: study.site,
      productionVersionId: study.deployment.production ?? '',
      candidateVersionId: study.candidate,
      requestId: study.deployment.candidate?.requestId ?? null,
      ...agreement,
      createdAt: deps.clock.now().toISOString(),
    });
  } catch (cause) {
    const error = toPlatformError(cause);
    deps.logger.warn({ stage: 'shadow', studyKey: study.studyKey, code: error.code, status: 'failed' }, 'shadow candidate could not judge the study');
  }
}

function withoutEmbedding(r: PredictResult): PredictResult {
  if (r.measures?.embedding === undefined) return r;
  const { embedding: _embedding, ...measures } = r.measures;
  return { ...r, measures };
}
