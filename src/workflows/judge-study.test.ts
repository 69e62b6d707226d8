import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import { applyDeploymentChange, emptyDeployment, routeStudy, type SiteDeployment } from '../domain/deployment/deployment.js';
import { PlatformError } from '../domain/errors.js';
import { parseModelManifest } from '../domain/model/model-bundle.js';
import type { ShadowComparison } from '../ports/deployment-store.js';
import type { StudyRecord } from '../ports/study-registry.js';
import { judgeStudy, type JudgeStudyDependencies } from './judge-study.js';
import type { JudgedForMonitoring } from './monitoring.js';
import type { PredictOptions } from './vigil-services.js';

const manifest = parseModelManifest(JSON.parse(readFileSync(new URL('../../models/pneumonia-demo/vigil-model.json', import.meta.url), 'utf8')));
const v = (n: number): string => n.toString(16).padStart(64, '0');
const identity = (versionId: string | null) => ({
  id: manifest.id,
  version: manifest.version,
  sha256: manifest.model.sha256,
  ...(versionId === null ? {} : { versionId }),
});
const now = '2026-12-07T12:00:00.000Z';
const deployed = (versionId: string): SiteDeployment =>
  applyDeploymentChange(emptyDeployment('north'), { kind: 'deploy', versionId, requestId: null }, 'system', now);

/**
 * A study store holding one study of two images, and a predict that judges each stored file: version 1
 * decides "negative", version 2 "positive" on the second image (so a shadow of version 2 disagrees once).
 */
function dependencies(study: { site?: string | null; declared?: { site?: string }; ages?: Record<string, number> }, deployment: SiteDeployment, draw = 0.5) {
  const calls: { paths: readonly string[]; options: PredictOptions }[] = [];
  const audit: AuditEvent[] = [];
  const shadows: ShadowComparison[] = [];
  const files = ['/objects/1.2.3/1.2.3.4.dcm', '/objects/1.2.3/1.2.3.5.png'];
  let failing: string | undefined;
  const deps: JudgeStudyDependencies = {
    studies: { get: (key) => Promise.resolve(key === 'key-1' ? ({ studyKey: 'key-1', site: study.site ?? null } as unknown as StudyRecord) : undefined) },
    instances: {
      readDeclaration: () => Promise.resolve(study.declared),
      readPatientAges: () => Promise.resolve(new Map(Object.entries(study.ages ?? {}))),
      studyLocation: (uid) => `/objects/${uid}`,
      listImages: () => Promise.resolve(files),
    },
    nameOf: (path) => path.replace('/objects/', ''),
    predict: (paths, options, emit) => {
      calls.push({ paths, options });
      if (options.versionId === failing) return Promise.reject(new PlatformError('MODEL_HASH_MISMATCH', 'the archived bundle was altered'));
      files.forEach((file, i) => {
        const decision = options.versionId === v(2) && i === 1 ? 'positive' : 'negative';
        emit({
          input: { file, frame: null },
          studyKey: 'key-1',
          status: 'decided',
          quality: options.measure === true ? { verdict: 'pass', reasons: [], checks: [] } : null,
          outputs: [{ finding: 'pneumonia', probability: 0.5, decision }],
          model: identity(options.versionId ?? null),
          auditId: `a-${calls.length}${i}`,
          // What the chain measured, when the server asks (for monitoring).
          ...(options.measure === true
            ? {
                measures: {
                  mean: 0.5,
                  std: 0.2,
                  laplacianVariance: 0.01,
                  noise: 0.003,
                  oodDistance: 4 + i,
                  // A DICOM instance (explicit VR little endian) and a PNG (no transfer syntax).
                  encoding: { photometricInterpretation: i === 0 ? 'MONOCHROME1' : 'MONOCHROME2', transferSyntax: i === 0 ? '1.2.840.10008.1.2.1' : null },
                  // The DICOM header states how it was acquired (two software versions); the PNG states nothing.
                  acquisition: i === 0 ? { softwareVersions: ['VX 3.1', 'PLC 2'], kvp: 125, pixelSpacingMm: [0.139, 0.139] as const } : {},
                },
                image: { frames: 1, manufacturer: 'ACME' },
              }
            : {}),
        });
      });
      return Promise.resolve({ decided: 2, rejected: 0, errors: 0 });
    },
    siteOf: (recorded) => recorded ?? 'north',
    route: (site, key) => {
      expect([site, key]).toEqual(['north', 'key-1']);
      return Promise.resolve({ deployment, route: routeStudy(deployment, draw) });
    },
    identityOf: (versionId) => Promise.resolve(identity(versionId)),
    recordShadow: (comparison) => {
      shadows.push(comparison);
      return Promise.resolve();
    },
    recordAudit: (event) => {
      audit.push(event);
      return Promise.resolve(`a-${audit.length}`);
    },
    clock: { now: () => new Date(now) },
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  return { deps, calls, audit, shadows, fail: (versionId: string) => void (failing = versionId) };
}

describe('judgeStudy', () => {
  it("judges the stored study's folder with the site's production version, as already de-identified, and names images relative to the store", async () => {
    const { deps, calls } = dependencies({ site: 'north', ages: { '1.2.3.4': 7 } }, deployed(v(1)));
    const judged = await judgeStudy(deps, '1.2.3', 'key-1', 'case-1');
    expect(judged.model).toEqual(identity(v(1)));
    expect(judged.results.map((r) => r.input.file)).toEqual(['1.2.3/1.2.3.4.dcm', '1.2.3/1.2.3.5.png']);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.paths).toEqual(['/objects/1.2.3']);
    expect(call?.options).toMatchObject({ versionId: v(1), alreadyDeidentified: true, origin: 'server', studyKey: 'key-1', site: 'north' });
    expect(call?.options).not.toHaveProperty('declared');
    expect(call?.options.storedPatientAge?.('/objects/1.2.3/1.2.3.4.dcm')).toBe(7);
    expect(call?.options.storedPatientAge?.('/objects/1.2.3/9.9.dcm')).toBeUndefined();
  });

  it('passes on what an upload declared', async () => {
    const { deps, calls } = dependencies({ site: null, declared: { site: 'ward' } }, deployed(v(1)));
    await judgeStudy(deps, '1.2.3', 'key-1', 'case-1');
    expect(calls[0]?.options).toMatchObject({ declared: { site: 'ward' }, site: 'north' });
  });

  it('routes a canary share to the candidate, by the study key’s draw', async () => {
    const canary = applyDeploymentChange(deployed(v(1)), { kind: 'start_canary', versionId: v(2), fraction: 0.25, requestId: 'r1' }, 'ml', now);
    const inside = dependencies({ site: 'north' }, canary, 0.2);
    expect((await judgeStudy(inside.deps, '1.2.3', 'key-1', 'case-1')).model).toEqual(identity(v(2)));
    const outside = dependencies({ site: 'north' }, canary, 0.3);
    expect((await judgeStudy(outside.deps, '1.2.3', 'key-1', 'case-1')).model).toEqual(identity(v(1)));
  });

  it('runs a shadow beside production, records how far they agreed, and returns exactly what production decided', async () => {
    const shadowing = applyDeploymentChange(deployed(v(1)), { kind: 'start_shadow', versionId: v(2), requestId: 'r1' }, 'ml', now);
    const withShadow = dependencies({ site: 'north' }, shadowing);
    const alone = dependencies({ site: 'north' }, deployed(v(1)));
    const judged = await judgeStudy(withShadow.deps, '1.2.3', 'key-1', 'case-1');
    expect(judged).toEqual(await judgeStudy(alone.deps, '1.2.3', 'key-1', 'case-1'));
    expect(withShadow.calls.map((c) => [c.options.versionId, c.options.origin])).toEqual([
      [v(1), 'server'],
      [v(2), 'shadow'],
    ]);
    expect(withShadow.shadows).toEqual([
      { caseId: 'case-1', site: 'north', productionVersionId: v(1), candidateVersionId: v(2), requestId: 'r1', images: 2, agreedImages: 1, createdAt: now },
    ]);
    // A shadow that fails changes nothing either.
    const broken = dependencies({ site: 'north' }, shadowing);
    broken.fail(v(2));
    expect(await judgeStudy(broken.deps, '1.2.3', 'key-1', 'case-1')).toEqual(judged);
    expect(broken.shadows).toEqual([]);
  });

  it('sends production and canary judgements (each under the version that judged) to monitoring, never the shadow’s', async () => {
    const monitored: JudgedForMonitoring[] = [];
    const monitor = (j: JudgedForMonitoring) => Promise.resolve(void monitored.push(j));
    const shadowing = applyDeploymentChange(deployed(v(1)), { kind: 'start_shadow', versionId: v(2), requestId: 'r1' }, 'ml', now);
    const withShadow = dependencies({ site: 'north' }, shadowing);
    await judgeStudy({ ...withShadow.deps, monitor }, '1.2.3', 'key-1', 'case-1');
    expect(withShadow.calls.map((c) => [c.options.versionId, c.options.origin, c.options.measure ?? false])).toEqual([
      [v(1), 'server', true],
      [v(2), 'shadow', false],
    ]);
    expect(monitored).toEqual([
      {
        site: 'north',
        versionId: v(1),
        origin: 'production',
        caseId: 'case-1',
        studyKey: 'key-1',
        images: [0, 1].map((i) => ({
          imageRef: ['1.2.3/1.2.3.4.dcm', '1.2.3/1.2.3.5.png'][i],
          measures: {
            status: 'decided',
            gateVerdict: 'pass',
            probability: 0.5,
            decision: 'negative',
            mean: 0.5,
            std: 0.2,
            laplacianVariance: 0.01,
            noise: 0.003,
            oodDistance: 4 + i,
          },
          device: { manufacturer: 'ACME', model: null },
          // The acquisition record: what the de-identified summary states (here the manufacturer only), how the
          // image was encoded and, for the DICOM image, how its header says it was acquired (multi-valued software versions joined).
          acquisition: {
            photometricInterpretation: i === 0 ? 'MONOCHROME1' : 'MONOCHROME2',
            transferSyntax: i === 0 ? '1.2.840.10008.1.2.1' : null,
            manufacturer: 'ACME',
            ...(i === 0 ? { softwareVersion: 'VX 3.1\\PLC 2', kvp: 125, pixelSpacing: [0.139, 0.139] } : {}),
          },
        })),
      },
    ]);
    const canary = applyDeploymentChange(deployed(v(1)), { kind: 'start_canary', versionId: v(2), fraction: 0.25, requestId: 'r1' }, 'ml', now);
    await judgeStudy({ ...dependencies({ site: 'north' }, canary, 0.2).deps, monitor }, '1.2.3', 'key-1', 'case-2');
    expect(monitored[1]).toMatchObject({ versionId: v(2), origin: 'canary', caseId: 'case-2' });
  });

  it('sends every image of a paused site, or of a model that cannot load, to review unjudged, with the reason audited per image', async () => {
    const paused = applyDeploymentChange(deployed(v(1)), { kind: 'pause', reason: 'input drift at north' }, 'qa', now);
    const { deps, calls, audit } = dependencies({ site: 'north' }, paused);
    const judged = await judgeStudy(deps, '1.2.3', 'key-1', 'case-1');
    expect(calls).toEqual([]);
    // It names the site's deployment, marked: that version judged nothing (here, or in any result).
    expect(judged.model).toEqual({ ...identity(v(1)), judged: false });
    expect(judged.results.map((r) => r.model.judged)).toEqual([false, false]);
    expect(judged.results.map((r) => [r.input.file, r.status, r.error?.code, r.auditId])).toEqual([
      ['1.2.3/1.2.3.4.dcm', 'error', 'DEPLOYMENT_PAUSED', 'a-1'],
      ['1.2.3/1.2.3.5.png', 'error', 'DEPLOYMENT_PAUSED', 'a-2'],
    ]);
    expect(judged.results[0]?.error?.message).toContain('input drift at north');
    expect(audit[0]).toEqual({ type: 'error', code: 'DEPLOYMENT_PAUSED', stage: 'deployment', origin: 'server', studyKey: 'key-1', site: 'north' });

    const failing = dependencies({ site: 'north' }, deployed(v(1)));
    failing.fail(v(1));
    const unloaded = await judgeStudy(failing.deps, '1.2.3', 'key-1', 'case-1');
    expect(unloaded.results.map((r) => r.error?.code)).toEqual(['MODEL_HASH_MISMATCH', 'MODEL_HASH_MISMATCH']);
    expect(unloaded.model.judged).toBe(false);

    const nothing = dependencies({ site: 'north' }, emptyDeployment('north'));
    expect((await judgeStudy(nothing.deps, '1.2.3', 'key-1', 'case-1')).results.map((r) => r.error?.code)).toEqual([
      'DEPLOYMENT_NOT_FOUND',
      'DEPLOYMENT_NOT_FOUND',
    ]);
  });
});
