import type { ActionCounts } from '../domain/deidentification/deidentify-dataset.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { DeidOutputFolder, DeidRequest, DicomDeidentifier } from '../ports/dicom-deidentifier.js';
import type { Hasher } from '../ports/hasher.js';
import type { InputFiles } from '../ports/input-files.js';
import type { Logger } from '../ports/logger.js';

/**
 * What became of one input; every status is true of what is on disk when it is printed:
 * - `deidentified`: this input's de-identified file was written at `output`;
 * - `duplicate`: `output` already held exactly this input's de-identified bytes (an identical copy earlier in
 *   this run, `earlierInput`, or a file from an earlier or concurrent run, `earlierInput` null); nothing new
 *   was written and nothing is lost;
 * - `conflict`: another object with the same SOP Instance UID was already released as `existing`, with
 *   different bytes (another transfer syntax, or another object reusing the UID). Nothing was written for this
 *   input; `existing` is kept as it is. The run then exits non-zero: one of the two is not released;
 * - `quarantined`: nothing of it was copied, its reason file is under quarantine/;
 * - `error`: nothing was written for it (`error.code`).
 */
export type DeidStatus = 'deidentified' | 'duplicate' | 'conflict' | 'quarantined' | 'error';

/** One line of `vigil deid` output (NDJSON with --json): one per input file. */
export interface DeidResult {
  /** The path as the user gave it or as found under a folder: printed to that user, never logged. */
  readonly input: string;
  /** The file on disk holding this input's de-identified bytes (written now, or identical already), else null. */
  readonly output: string | null;
  readonly status: DeidStatus;
  readonly reasons: readonly string[];
  readonly actions: ActionCounts;
  /** `duplicate` and `conflict`: the file that was already there (kept as it is). */
  readonly existing?: string;
  /** `duplicate` and `conflict`: the input of this run that produced `existing`; null when it was there before (an earlier or concurrent run). */
  readonly earlierInput?: string | null;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface DeidCounts {
  readonly deidentified: number;
  readonly duplicates: number;
  readonly conflicts: number;
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

/** Where this run released a SOP Instance UID, and from which input. */
interface Released {
  readonly relativePath: string;
  readonly path: string;
  readonly input: string | null;
}

/**
 * De-identifies every DICOM file under `paths` into the output folder: `<study>/<instance>.dcm`, named by
 * the pseudonymous UIDs. A file that may carry burned-in identity is quarantined: nothing of it is copied,
 * only `quarantine/<instance>-<hash>.reason.json` (the reasons and the input's SHA-256, so that the site can
 * find the original in its own systems; one per distinct input). Every input gets one result; a failure does
 * not stop the others.
 *
 * No output is ever written over another (DeidOutputFolder writes only new names). Two inputs with one SOP
 * Instance UID are one instance to every DICOM system downstream: the first is released, an identical one is
 * a `duplicate`, a different one a `conflict` (also when it names another study, which would put two objects
 * with one SOP Instance UID in the output).
 */
export async function deidentifyFiles(
  deps: DeidDependencies,
  paths: readonly string[],
  request: DeidRequest,
  emit: (result: DeidResult) => void,
): Promise<DeidCounts> {
  const counts = { deidentified: 0, duplicates: 0, conflicts: 0, quarantined: 0, errors: 0 };
  const released = new Map<string, Released>();
  /** Nothing was written for this input (so no actions to report); `existing` is kept as it is. */
  const conflict = (input: string, existing: string, earlierInput: string | null, message: string): void => {
    counts.conflicts++;
    deps.logger.warn({ code: 'DEID_OUTPUT_CONFLICT' }, 'deid file conflicts');
    const error = new PlatformError('DEID_OUTPUT_CONFLICT', message, {});
    emit({
      input,
      output: null,
      status: 'conflict',
      reasons: [],
      actions: NO_ACTIONS,
      existing,
      earlierInput,
      error: { code: error.code, message: error.message },
    });
  };
  const files = await deps.files.list(paths);
  for (const file of files) {
    const base = { input: file.path };
    try {
      const bytes = await deps.files.read(file);
      if (!deps.deidentifier.isDicom(bytes)) throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'The file is not DICOM', {});
      const outcome = await deps.deidentifier.deidentify(bytes, request);
      if (outcome.status === 'quarantined') {
        const inputSha256 = deps.hasher.sha256Hex(bytes);
        const reason = { status: 'quarantined', reasons: outcome.reasons, inputSha256, released: false };
        const write = await deps.output.write(
          `quarantine/${outcome.sopInstanceUid}-${inputSha256.slice(0, 16)}.reason.json`,
          new TextEncoder().encode(JSON.stringify(reason, null, 2) + '\n'),
        );
        // The name holds the input's hash, so only an edit (e.g. marked released) makes the file there differ.
        if (write.state === 'different') {
          conflict(file.path, write.path, null, 'A quarantine reason file with other content is already at this name');
          continue;
        }
        counts.quarantined++;
        deps.logger.info({ status: 'quarantined', count: outcome.reasons.length }, 'deid file quarantined');
        emit({ ...base, output: null, status: 'quarantined', reasons: outcome.reasons, actions: NO_ACTIONS });
        continue;
      }
      const relativePath = `${outcome.studyInstanceUid ?? 'no-study'}/${outcome.sopInstanceUid}.dcm`;
      const reasons = outcome.pixelsCleaned ? ['pixels-cleaned'] : [];
      const earlier = released.get(outcome.sopInstanceUid);
      if (earlier !== undefined && earlier.relativePath !== relativePath) {
        // Same SOP Instance UID in another study: it would be a second file, but not a second instance.
        conflict(file.path, earlier.path, earlier.input, 'An object with the same SOP Instance UID was released in another study; this input was not written');
        continue;
      }
      const write = await deps.output.write(relativePath, outcome.bytes);
      if (write.state === 'written') {
        released.set(outcome.sopInstanceUid, { relativePath, path: write.path, input: file.path });
        counts.deidentified++;
        deps.logger.info({ status: 'deidentified', stage: outcome.pixelsCleaned ? 'pixels-cleaned' : 'header-only' }, 'deid file written');
        emit({ ...base, output: write.path, status: 'deidentified', reasons, actions: outcome.counts });
        continue;
      }
      const earlierInput = earlier?.input ?? null;
      if (earlier === undefined) released.set(outcome.sopInstanceUid, { relativePath, path: write.path, input: null });
      if (write.state === 'different') {
        conflict(
          file.path,
          write.path,
          earlierInput,
          'A file with the same SOP Instance UID and different content is already in the output folder; this input was not written',
        );
        continue;
      }
      counts.duplicates++;
      deps.logger.info({ status: 'duplicate' }, 'deid file already released');
      emit({ ...base, output: write.path, status: 'duplicate', reasons, actions: outcome.counts, existing: write.path, earlierInput });
    } catch (cause) {
      const error = toPlatformError(cause);
      counts.errors++;
      deps.logger.warn({ code: error.code }, 'deid file failed');
      emit({ ...base, output: null, status: 'error', reasons: [], actions: NO_ACTIONS, error: { code: error.code, message: error.message } });
    }
  }
  return counts;
}
