import { basename } from 'node:path';
import type { ModelIdentity } from '../domain/audit/audit-event.js';
import type { InstanceStore } from '../ports/instance-store.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { PredictResult } from './predict-images.js';
import type { VigilServices } from './vigil-services.js';

export interface JudgeStudyDependencies {
  readonly studies: Pick<StudyRegistry, 'get'>;
  readonly instances: Pick<InstanceStore, 'readDeclaration' | 'readPatientAges' | 'studyLocation'>;
  /** A stored file's name relative to the instance store (`<study>/<instance>.dcm`), as cases record it. */
  readonly nameOf: (path: string) => string;
  readonly predict: VigilServices['predict'];
  readonly currentModel: VigilServices['currentModel'];
}

/**
 * Judges every frame of a stored, de-identified study with the configured model (the predict
 * workflow over the study's instances), as the server's inference job does.
 */
export async function judgeStudy(
  deps: JudgeStudyDependencies,
  studyUid: string,
  studyKey: string,
): Promise<{ readonly model: ModelIdentity; readonly results: readonly PredictResult[] }> {
  const site = (await deps.studies.get(studyKey))?.site ?? undefined;
  const results: PredictResult[] = [];
  // Uploaded images come with what their sender declared; DICOM studies declare nothing extra.
  const declared = await deps.instances.readDeclaration(studyUid);
  // DICOM instances come with the patient's age derived at the door (their stored headers no longer say it).
  const ages = await deps.instances.readPatientAges(studyUid);
  const storedPatientAge = (path: string): number | undefined => ages.get(basename(path).replace(/\.dcm$/, ''));
  // Cases name their images relative to the instance store (`<study>/<instance>.dcm`): the server's
  // own folders stay out of API responses, and servers sharing the objects folder read the same names.
  await deps.predict(
    [deps.instances.studyLocation(studyUid)],
    {
      alreadyDeidentified: true,
      origin: 'server',
      studyKey,
      storedPatientAge,
      ...(site === undefined ? {} : { site }),
      ...(declared === undefined ? {} : { declared }),
    },
    (r) => results.push({ ...r, input: { ...r.input, file: deps.nameOf(r.input.file) } }),
  );
  const model = (await deps.currentModel()).manifest;
  return { model: { id: model.id, version: model.version, sha256: model.model.sha256 }, results };
}
