import type { CalibrationMethod } from '../../domain/evaluation/fit-calibration.js';
import { EXIT_OK } from '../exit-codes.js';
import { registeredLine } from './model.js';
import { BUNDLE_DERIVATION_OPTIONS, bundleDerivationArgs, parseCommandArgs, stringOption, usageError, type Command } from './command.js';

const USAGE =
  'calibrate --model DIR --dataset SPEC --method temperature|platt|isotonic --out DIR [--finding LABEL] [--modality CR --body-part CHEST --view PA --patient-age-years N] [--json]';
const METHODS: readonly CalibrationMethod[] = ['temperature', 'platt', 'isotonic'];

export const calibrateCommand: Command = {
  usage: `${USAGE}\n      fit a calibration on labelled data and write it into a new bundle (the original is untouched)`,
  async run(args, { io, services }) {
    const { values, positionals } = parseCommandArgs(args, { ...BUNDLE_DERIVATION_OPTIONS, method: { type: 'string' } }, USAGE);
    const { modelDir, dataset, out, finding, json, declared } = bundleDerivationArgs(values, positionals, 'calibrate', USAGE);
    const method = stringOption(values.method);
    if (method === undefined || !(METHODS as readonly string[]).includes(method)) throw usageError('--method must be temperature, platt or isotonic', USAGE);
    const { manifest, fit, registered } = await services().calibrate({
      modelDir,
      dataset,
      out,
      method: method as CalibrationMethod,
      ...(finding === undefined ? {} : { finding }),
      ...(declared === undefined ? {} : { declared }),
    });
    if (json)
      io.stdout(
        JSON.stringify({
          out,
          version: manifest.version,
          calibration: manifest.calibration,
          versionId: registered.version.versionId,
          parentVersionId: registered.parent.versionId,
        }) + '\n',
      );
    else
      io.stdout(
        `${manifest.id} ${manifest.version} written to ${out} (parent ${manifest.parent?.version ?? '?'}): ${String(fit.method)} on ${String(fit.n)} cases; ` +
          `ECE ${String(fit.eceBefore)} → ${String(fit.eceAfter)}, NLL ${String(fit.nllBefore)} → ${String(fit.nllAfter)}, Brier ${String(fit.brierBefore)} → ${String(fit.brierAfter)}\n` +
          registeredLine(registered),
      );
    return EXIT_OK;
  },
};
