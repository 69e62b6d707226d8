import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelManifest } from '../domain/model/model-bundle.js';
import type { StudyRecord } from '../ports/study-registry.js';
import { judgeStudy, type JudgeStudyDependencies } from './judge-study.js';
import type { PredictResult } from './predict-images.js';
import type { PredictOptions } from './vigil-services.js';

const manifest = parseModelManifest(JSON.parse(readFileSync(new URL('../../models/pneumonia-demo/vigil-model.json', import.meta.url), 'utf8')));
const model = { id: manifest.id, version: manifest.version, sha256: manifest.model.sha256 };
const resultFor = (file: string): PredictResult => ({
  input: { file, frame: null },
  studyKey: 'key-1',
  status: 'decided',
  quality: null,
  outputs: [],
  model,
  auditId: null,
});

/** A study store holding one study, and a predict that reports what it was asked and judges each stored file once. */
function dependencies(study: { site?: string | null; declared?: { site?: string }; ages?: Record<string, number> }) {
  const calls: { paths: readonly string[]; options: PredictOptions }[] = [];
  const deps: JudgeStudyDependencies = {
    studies: { get: (key) => Promise.resolve(key === 'key-1' ? ({ studyKey: 'key-1', site: study.site ?? null } as unknown as StudyRecord) : undefined) },
    instances: {
      readDeclaration: () => Promise.resolve(study.declared),
      readPatientAges: () => Promise.resolve(new Map(Object.entries(study.ages ?? {}))),
      studyLocation: (uid) => `/objects/${uid}`,
    },
    nameOf: (path) => path.replace('/objects/', ''),
    predict: (paths, options, emit) => {
      calls.push({ paths, options });
      emit(resultFor('/objects/1.2.3/1.2.3.4.dcm'));
      return Promise.resolve({ decided: 1, rejected: 0, errors: 0 });
    },
    currentModel: () => Promise.resolve({ manifest, hashVerified: true, modelBytes: 1 }),
  };
  return { deps, calls };
}

describe('judgeStudy', () => {
  it("judges the stored study's folder as already de-identified, by the server, and names images relative to the store", async () => {
    const { deps, calls } = dependencies({ site: 'north', ages: { '1.2.3.4': 7 } });
    const judged = await judgeStudy(deps, '1.2.3', 'key-1');
    expect(judged.model).toEqual(model);
    expect(judged.results.map((r) => r.input.file)).toEqual(['1.2.3/1.2.3.4.dcm']);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.paths).toEqual(['/objects/1.2.3']);
    expect(call?.options).toMatchObject({ alreadyDeidentified: true, origin: 'server', studyKey: 'key-1', site: 'north' });
    expect(call?.options).not.toHaveProperty('declared');
    expect(call?.options.storedPatientAge?.('/objects/1.2.3/1.2.3.4.dcm')).toBe(7);
    expect(call?.options.storedPatientAge?.('/objects/1.2.3/9.9.dcm')).toBeUndefined();
  });

  it('passes on what an upload declared, and no site for a study without one', async () => {
    const { deps, calls } = dependencies({ site: null, declared: { site: 'ward' } });
    await judgeStudy(deps, '1.2.3', 'key-1');
    expect(calls[0]?.options).toMatchObject({ declared: { site: 'ward' } });
    expect(calls[0]?.options).not.toHaveProperty('site');
  });
});
