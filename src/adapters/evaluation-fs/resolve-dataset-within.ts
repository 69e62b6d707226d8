import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { PlatformError } from '../../domain/errors.js';

/**
 * A dataset spec a remote caller gave (`medmnist:PATH:SPLIT[:part=K/M]`, or a `.csv`/`.jsonl`
 * manifest), as a spec the server may open: its PATH, relative to `folder` (or absolute inside it),
 * must name a file inside `folder` — by its text first, so that no path outside is ever touched (not
 * even to learn whether it exists), then by its real path, so that a link inside cannot lead out.
 * RELEASE_DATASET_OUTSIDE otherwise. A manifest's own entries are the operator's: the folder is theirs.
 *
 * @example await resolveDatasetWithin('medmnist:medmnist/pneumoniamnist.npz:val', '/srv/vigil/datasets') // 'medmnist:/srv/vigil/datasets/medmnist/pneumoniamnist.npz:val'
 */
export async function resolveDatasetWithin(spec: string, folder: string): Promise<string> {
  const medmnist = /^medmnist:(.+?)(:(?:train|val|test)(?::part=\d+\/\d+)?)$/.exec(spec);
  const path = medmnist === null ? spec : (medmnist[1] as string);
  const rebuild = (resolved: string): string => (medmnist === null ? resolved : `medmnist:${resolved}${medmnist[2] as string}`);
  const root = resolve(folder);
  const candidate = resolve(root, path);
  if (!isInside(root, candidate)) throw outside();
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(candidate), realpath(root)]);
  } catch (cause) {
    throw new PlatformError('INPUT_NOT_FOUND', 'The dataset named does not exist in the release datasets folder', {}, { cause });
  }
  if (!isInside(realRoot, real)) throw outside();
  return rebuild(real);
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

function outside(): PlatformError {
  return new PlatformError(
    'RELEASE_DATASET_OUTSIDE',
    'A release gate run over the API reads its dataset from the release datasets folder (VIGIL_RELEASE_DATASETS_DIR): name a file inside it',
    {},
  );
}
