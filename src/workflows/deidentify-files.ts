import type { ActionCounts } from '../domain/deidentification/deidentify-dataset.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { DeidOutputFolder, DeidRequest, DicomDeidentifier } from '../ports/dicom-deidentifier.js';
import type { Hasher } from '../ports/hasher.js';
import type { InputFiles } from '../ports/input-files.js';
import type { Logger } from '../ports/logger.js';

/** One line of `vigil deid` output (NDJSON with --json): one per input file. */
export interface DeidResult {
  /** The path as the user gave it or as found under a folder: printed to that user, never logged. */
  readonly input: string;
  /** The de-identified file written, or null (quarantined or failed). */
  readonly output: string | null;
  readonly status: 'deidentified' | 'quarantined' | 'error';
  readonly reasons: readonly string[];
  readonly actions: ActionCounts;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface DeidCounts {
  readonly deidentified: number;
  readonly quarantined: number;
  readonly errors: number;
}

export interface DeidDependencies {
  readonly files: InputFiles;
  readonly deidentifier: DicomDeidentifier;
  readonly output: DeidOutputFolder;
  readonly hasher: Hasher;
  readonly logger: Logger;
}

const NO_ACTIONS: ActionCounts = Object.freeze({ removed: 0, emptied: 0, replaced: 0, shifted: 0, kept: 0 });

/**
 * De-identifies every DICOM file under `paths` into the output folder: `<study>/<instance>.dcm`, named by
 * the pseudonymous UIDs. A file that may carry burned-in identity is quarantined: nothing of it is copied,
 * only `quarantine/<instance>.reason.json` (the reasons and the input's SHA-256, so that the site can find
 * the original in its own systems). Every input gets one result; a failure does not stop the others.
 */
export async function deidentifyFiles(
  deps: DeidDependencies,
  paths: readonly string[],
  request: DeidRequest,
  emit: (result: DeidResult) => void,
): Promise<DeidCounts> {
  const counts = { deidentified: 0, quarantined: 0, errors: 0 };
  const files = await deps.files.list(paths);
  for (const file of files) {
    const base = { input: file.path };
    try {
      const bytes = await deps.files.read(file);
      if (!deps.deidentifier.isDicom(bytes)) throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'The file is not DICOM', {});
      const outcome = await deps.deidentifier.deidentify(bytes, request);
      if (outcome.status === 'quarantined') {
        const reason = { status: 'quarantined', reasons: outcome.reasons, inputSha256: deps.hasher.sha256Hex(bytes), released: false };
        await deps.output.write(`quarantine/${outcome.sopInstanceUid}.reason.json`, new TextEncoder().encode(JSON.stringify(reason, null, 2) + '\n'));
        counts.quarantined++;
        deps.logger.info({ status: 'quarantined', count: outcome.reasons.length }, 'deid file quarantined');
        emit({ ...base, output: null, status: 'quarantined', reasons: outcome.reasons, actions: NO_ACTIONS });
        continue;
      }
      const written = await deps.output.write(`${outcome.studyInstanceUid ?? 'no-study'}/${outcome.sopInstanceUid}.dcm`, outcome.bytes);
      counts.deidentified++;
      deps.logger.info({ status: 'deidentified', stage: outcome.pixelsCleaned ? 'pixels-cleaned' : 'header-only' }, 'deid file written');
      emit({ ...base, output: written, status: 'deidentified', reasons: outcome.pixelsCleaned ? ['pixels-cleaned'] : [], actions: outcome.counts });
    } catch (cause) {
      const error = toPlatformError(cause);
      counts.errors++;
      deps.logger.warn({ code: error.code }, 'deid file failed');
      emit({ ...base, output: null, status: 'error', reasons: [], actions: NO_ACTIONS, error: { code: error.code, message: error.message } });
    }
  }
  return counts;
}
