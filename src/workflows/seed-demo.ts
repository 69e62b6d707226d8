import type { Releases } from './releases.js';
import type { VigilServices } from './vigil-services.js';
import type { DemoRun } from '../ports/demo-inputs.js';
import type { InputFiles } from '../ports/input-files.js';
import type { StudyDeclaration } from '../ports/instance-store.js';
import type { Logger } from '../ports/logger.js';
import type { UploadResult } from './ingest-upload.js';
import type { StoredPart } from './store-instances.js';

export interface SeedDemoDependencies {
  /** The demo's inputs from the public sample data (the same as `vigil demo`). */
  readonly prepare: () => Promise<{ readonly runs: readonly DemoRun[]; readonly notes: readonly string[] }>;
  readonly files: InputFiles;
  /** The server's ingest, as STOW-RS uses it. */
  readonly storeInstances: (instances: readonly Uint8Array[]) => Promise<readonly StoredPart[]>;
  /** The server's device-image upload. */
  readonly uploadImages: (declaration: StudyDeclaration, images: readonly Uint8Array[]) => Promise<UploadResult>;
  /** True when the store holds any study already. */
  readonly hasStudies: () => Promise<boolean>;
  readonly logger: Logger;
}

export type SeedOutcome =
  | {
      readonly status: 'seeded';
      /** DICOM instances acknowledged (stored or already held). */
      readonly instances: number;
      /** Files the ingest refused or could not read (non-DICOM files among the samples, say). */
      readonly refused: number;
      /** Device images uploaded, one study each. */
      readonly images: number;
      readonly notes: readonly string[];
      /** The demo's release request, when PneumoniaMNIST is there to derive and validate its candidate. */
      readonly release?: { readonly requestId: string; readonly state: string };
    }
  | { readonly status: 'skipped'; readonly reason: 'store-not-empty' }
  | { readonly status: 'no-sample-data'; readonly notes: readonly string[] };

/** Site and device labels the demo's uploads declare (strata in reports, never a patient attribute). */
export const DEMO_DECLARATION = { site: 'demo-site', device: 'pneumoniamnist' } as const;

/**
 * Seeds a new server with the public sample data through the real ingest paths, so a newcomer sees
 * studies, decisions and a worklist at once: the DICOM samples as STOW-RS would store them, the
 * PneumoniaMNIST images as a device would upload them (one image per study). A store that already
 * holds studies is left as it is: seeding is for the first start.
 */
export async function seedDemo(deps: SeedDemoDependencies): Promise<SeedOutcome> {
  if (await deps.hasStudies()) return { status: 'skipped', reason: 'store-not-empty' };
  const { runs, notes } = await deps.prepare();
  if (runs.length === 0) return { status: 'no-sample-data', notes };
  let instances = 0;
  let refused = 0;
  let images = 0;
  for (const run of runs) {
    const files = await deps.files.list(run.paths);
    if (run.declared === undefined) {
      for (const file of files) {
        const [part] = await deps.storeInstances([await deps.files.read(file)]);
        if (part !== undefined && (part.outcome.status === 'stored' || part.outcome.status === 'duplicate')) instances++;
        else refused++;
      }
    } else {
      for (const file of files) {
        const result = await deps.uploadImages({ ...run.declared, ...DEMO_DECLARATION }, [await deps.files.read(file)]);
        images += result.stored + result.duplicates;
        refused += result.failed.length;
      }
    }
  }
  deps.logger.info({ stage: 'seed', count: instances + images, status: 'seeded' }, 'demo data seeded');
  return { status: 'seeded', instances, refused, images, notes };
}

export interface SeedReleaseDependencies {
  /** The PneumoniaMNIST file of the public sample data, when it is there. */
  readonly pneumoniaMnist: string | undefined;
  /** The configured model's folder (the site's production version) and where the demo's derived bundle goes. */
  readonly modelDir: string;
  readonly outDir: string;
  readonly site: string;
  /** Creates the demo's requesting account (an ml-engineer with no password and no token: it cannot sign in). */
  readonly ensureRequester: (name: string) => Promise<void>;
  readonly calibrate: VigilServices['calibrate'];
  readonly releases: () => Promise<Releases>;
  readonly logger: Logger;
}

/** The demo's requester: an account that exists to have asked for the demo's release, and can do nothing else. */
export const DEMO_REQUESTER = 'demo-ml-engineer';

/**
 * A second version and a release request on a new server, so the release page shows the process: a
 * Platt recalibration of the demo fitted on half of its validation split (registered as the demo's
 * child), requested for the default site, its criteria gate run on the pinned validation split — so
 * it waits for its two signatures (qa-regulatory "approved for release", clinician-reviewer "reviewed").
 * Fitting on half of the data the gate then validates on is a demonstration, not a method: said in the notes.
 */
export async function seedDemoRelease(deps: SeedReleaseDependencies): Promise<{ readonly requestId: string; readonly state: string } | undefined> {
  if (deps.pneumoniaMnist === undefined) return undefined;
  const declared = { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA', patientAgeYears: { min: 1, max: 5 } };
  const val = `medmnist:${deps.pneumoniaMnist}:val`;
  await deps.ensureRequester(DEMO_REQUESTER);
  const calibrated = await deps.calibrate({ modelDir: deps.modelDir, dataset: `${val}:part=0/2`, method: 'platt', out: deps.outDir, declared });
  const releases = await deps.releases();
  const created = await releases.create(
    { userName: DEMO_REQUESTER },
    { changeType: 'recalibration', site: deps.site, candidate: calibrated.registered.version.versionId },
  );
  const gates = await releases.runGates({ kind: 'local-cli', osUser: 'vigil-demo' }, created.request.requestId, { dataset: val, declared });
  deps.logger.info({ stage: 'seed', status: gates.release.request.state }, 'demo release request seeded');
  return { requestId: created.request.requestId, state: gates.release.request.state };
}
