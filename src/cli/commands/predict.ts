import { reportedCalibrationError } from '../../domain/calibration/display-probability.js';
import type { RasterDeclaration } from '../../domain/image/image-frame.js';
import type { PredictOptions } from '../../workflows/vigil-services.js';
import { EXIT_OK, EXIT_SOME_INPUTS_FAILED } from '../exit-codes.js';
import { formatResult } from '../format-result.js';
import { createProgressLine } from '../progress-line.js';
import { ageOption, parseCommandArgs, stringOption, usageError, type Command } from './command.js';

const USAGE = 'predict <paths...> [--model DIR] [--json] [--modality CR --body-part CHEST --view PA --patient-age-years N|A-B]';

export const predictCommand: Command = {
  usage: `${USAGE}\n      judge DICOM, PNG and JPEG files (folders are walked); the flags declare what PNG/JPEG inputs are`,
  async run(args, { io, services }) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        model: { type: 'string' },
        json: { type: 'boolean' },
        modality: { type: 'string' },
        'body-part': { type: 'string' },
        view: { type: 'string' },
        'patient-age-years': { type: 'string' },
      },
      USAGE,
    );
    if (positionals.length === 0) throw usageError('predict needs at least one file or folder', USAGE);
    const json = values.json === true;
    const modality = stringOption(values.modality);
    const bodyPart = stringOption(values['body-part']);
    const view = stringOption(values.view);
    // An age in whole years (or a range known to hold it), never a date of birth (DICOM inputs derive theirs at the door).
    const age = ageOption(values['patient-age-years'], 'patient-age-years', USAGE);
    const model = stringOption(values.model);
    const declared: RasterDeclaration = {
      ...(modality === undefined ? {} : { modality }),
      ...(bodyPart === undefined ? {} : { bodyPartExamined: bodyPart }),
      ...(view === undefined ? {} : { viewPosition: view }),
      ...(age === undefined ? {} : { patientAgeYears: age }),
    };
    const options: PredictOptions = {
      ...(model === undefined ? {} : { modelDir: model }),
      ...(Object.keys(declared).length === 0 ? {} : { declared }),
    };
    // The precision probabilities are printed at comes from the model's reported calibration error. A
    // model that cannot be loaded is reported by predict itself, with its own error.
    const calibrationError = json
      ? undefined
      : await (model === undefined ? services().currentModel() : services().inspectModel(model)).then(
          (m) => reportedCalibrationError(m.manifest),
          () => undefined,
        );
    const progress = io.interactive ? createProgressLine(io.progress) : undefined;
    const counts = await services().predict(
      positionals,
      options,
      (result) => {
        progress?.clear();
        io.stdout(json ? JSON.stringify(result) + '\n' : formatResult(result, calibrationError) + '\n');
      },
      progress === undefined ? undefined : (p) => progress.update(p.filesDone, p.filesTotal),
    );
    progress?.clear();
    if (!json) io.stderr(`${counts.decided} decided, ${counts.rejected} rejected by the gate, ${counts.errors} failed\n`);
    return counts.errors > 0 ? EXIT_SOME_INPUTS_FAILED : EXIT_OK;
  },
};
