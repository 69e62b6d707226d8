import type { DeidResult } from '../../workflows/deidentify-files.js';
import type { DeidOptions } from '../../workflows/vigil-services.js';
import { EXIT_OK, EXIT_SOME_INPUTS_FAILED } from '../exit-codes.js';
import { parseCommandArgs, stringOption, usageError, type Command } from './command.js';

const USAGE =
  'deid <files-or-folders...> --out DIR [--profile basic] [--option retain-device-identity --option retain-longitudinal-modified-dates ...] [--secret-file FILE] [--pixel-rules FILE] [--json]';

/** One human-readable line per input (the JSON line has the same fields). */
function formatDeidResult(r: DeidResult): string {
  const a = r.actions;
  if (r.status === 'error') return `error         ${r.input}: ${r.error?.code ?? 'INTERNAL'}: ${r.error?.message ?? ''}`;
  if (r.status === 'quarantined') return `quarantined   ${r.input}: ${r.reasons.join(', ')}`;
  const earlier = r.earlierInput ?? null;
  if (r.status === 'duplicate') {
    const from = earlier === null ? 'already in the output folder' : `the same de-identified bytes as ${earlier}`;
    return `duplicate     ${r.input} = ${r.output ?? ''} (${from}; nothing new written)`;
  }
  if (r.status === 'conflict') {
    const from = earlier === null ? 'already in the output folder' : `from ${earlier}`;
    return `conflict      ${r.input}: ${r.error?.code ?? 'DEID_OUTPUT_CONFLICT'}: ${r.error?.message ?? ''} (kept: ${r.existing ?? ''}, ${from})`;
  }
  return `deidentified  ${r.input} -> ${r.output ?? ''} (removed ${a.removed}, emptied ${a.emptied}, replaced ${a.replaced}, shifted ${a.shifted}, kept ${a.kept})${r.reasons.length > 0 ? ' ' + r.reasons.join(', ') : ''}`;
}

export const deidCommand: Command = {
  usage: `${USAGE}\n      de-identify DICOM files (PS3.15 Basic Profile + options) into DIR; risky images go to DIR/quarantine/ (see docs/deidentification.md)`,
  async run(args, { io, services }) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        out: { type: 'string' },
        profile: { type: 'string' },
        option: { type: 'string', multiple: true },
        'secret-file': { type: 'string' },
        'pixel-rules': { type: 'string' },
        json: { type: 'boolean' },
      },
      USAGE,
    );
    if (positionals.length === 0) throw usageError('deid needs at least one file or folder', USAGE);
    const outDir = stringOption(values.out);
    if (outDir === undefined) throw usageError('deid needs --out DIR', USAGE);
    const profile = stringOption(values.profile) ?? 'basic';
    if (profile !== 'basic') throw usageError(`unknown profile '${profile}': the only profile is 'basic' (add options with --option)`, USAGE);
    const secretFile = stringOption(values['secret-file']);
    const pixelRulesFile = stringOption(values['pixel-rules']);
    const options: DeidOptions = {
      outDir,
      options: Array.isArray(values.option) ? values.option.filter((o): o is string => typeof o === 'string') : [],
      ...(secretFile === undefined ? {} : { secretFile }),
      ...(pixelRulesFile === undefined ? {} : { pixelRulesFile }),
    };
    const json = values.json === true;
    const counts = await services().deidentify(positionals, options, (result) => {
      io.stdout(json ? JSON.stringify(result) + '\n' : formatDeidResult(result) + '\n');
    });
    if (!json) {
      io.stderr(
        `${counts.deidentified} de-identified, ${counts.duplicates} duplicate(s), ${counts.conflicts} conflict(s), ${counts.quarantined} quarantined, ${counts.errors} failed\n`,
      );
    }
    // A conflict leaves an input unreleased, as an error does: scripts must not take the folder as complete.
    return counts.errors > 0 || counts.conflicts > 0 ? EXIT_SOME_INPUTS_FAILED : EXIT_OK;
  },
};
