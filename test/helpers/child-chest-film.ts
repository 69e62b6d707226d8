import { execFile } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DICOM_SAMPLES } from './sample-data.js';

const run = promisify(execFile);

/** The real adult PA chest film of the samples (born 1940-03-05, studied 2004-08-26: 64 years). */
export const ADULT_CHEST = 'cr_chest_pa_j2k_lossy.dcm';
/** The birth date given to the copy: 3 years old on the study date, inside the demo model's 1-5. */
export const CHILD_BIRTH_DATE = '20010415';

export const hasDcmodify = ['/usr/bin/dcmodify', '/usr/local/bin/dcmodify'].some((p) => existsSync(p));

/**
 * A copy of the adult chest film made paediatric, so that the demo model (children of 1-5 years) decides
 * it: Patient's Birth Date changed by DCMTK's dcmodify, and new Study, Series and SOP Instance UIDs (it
 * is another study, not a duplicate of the original). The pixels and everything else stay as they are.
 * Written into `folder` (a test's temporary folder), never into the repository.
 */
export async function childChestFilm(folder: string, name = 'cr_chest_pa_child.dcm'): Promise<string> {
  const target = join(folder, name);
  copyFileSync(join(DICOM_SAMPLES, ADULT_CHEST), target);
  await run('dcmodify', ['-nb', '-m', `(0010,0030)=${CHILD_BIRTH_DATE}`, '-gst', '-gse', '-gin', target]);
  return target;
}
