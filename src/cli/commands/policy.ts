import { EXIT_OK } from '../exit-codes.js';
import { registeredLine } from './model.js';
import { BUNDLE_DERIVATION_OPTIONS, bundleDerivationArgs, numberOption, parseCommandArgs, stringOption, usageError, type Command } from './command.js';

const USAGE =
  'policy --model DIR --dataset SPEC --cost-fn C --cost-fp C --prevalence P [--bayes-threshold | --min-sensitivity S] [--coverage 0.95 [--class-conditional] | --coverage-positive 0.98 --coverage-negative 0.90] [--mondrian COLUMN] [--max-error-not-referred E] --out DIR [--finding LABEL] [--modality CR --body-part CHEST --view PA --patient-age-years N] [--json]';

export const policyCommand: Command = {
  usage: `${USAGE}\n      choose the threshold (minimum expected cost, the Bayes threshold C_FP / (C_FP + C_FN), or a sensitivity constraint) and an abstain band\n      (conformal, or the narrowest around the threshold whose decided cases' error rate is at most E); write a new bundle`,
  async run(args, { io, services }) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        ...BUNDLE_DERIVATION_OPTIONS,
        'cost-fn': { type: 'string' },
        'cost-fp': { type: 'string' },
        prevalence: { type: 'string' },
        'min-sensitivity': { type: 'string' },
        coverage: { type: 'string' },
        'class-conditional': { type: 'boolean' },
        'coverage-positive': { type: 'string' },
        'coverage-negative': { type: 'string' },
        mondrian: { type: 'string' },
        'bayes-threshold': { type: 'boolean' },
        'max-error-not-referred': { type: 'string' },
      },
      USAGE,
    );
    const { modelDir, dataset, out, finding, json, declared } = bundleDerivationArgs(values, positionals, 'policy', USAGE);
    const costFalseNegative = numberOption(values['cost-fn'], 'cost-fn', USAGE, { min: 0 });
    const costFalsePositive = numberOption(values['cost-fp'], 'cost-fp', USAGE, { min: 0 });
    const prevalence = numberOption(values.prevalence, 'prevalence', USAGE, { min: 0, max: 1 });
    const minSensitivity = numberOption(values['min-sensitivity'], 'min-sensitivity', USAGE, { min: 0, max: 1 });
    const coverageRange = { min: 0.5, max: 0.9999 };
    const coverage = numberOption(values.coverage, 'coverage', USAGE, coverageRange);
    const coveragePositive = numberOption(values['coverage-positive'], 'coverage-positive', USAGE, coverageRange);
    const coverageNegative = numberOption(values['coverage-negative'], 'coverage-negative', USAGE, coverageRange);
    const classConditional = values['class-conditional'] === true;
    const mondrian = stringOption(values.mondrian);
    const bayes = values['bayes-threshold'] === true;
    const maxErrorNotReferred = numberOption(values['max-error-not-referred'], 'max-error-not-referred', USAGE, { min: 0, max: 1 });
    if (bayes && minSensitivity !== undefined) throw usageError('give --bayes-threshold or --min-sensitivity, not both', USAGE);
    if (maxErrorNotReferred !== undefined && (coverage !== undefined || coveragePositive !== undefined || mondrian !== undefined))
      throw usageError('--max-error-not-referred chooses the band instead of a coverage: give one of them', USAGE);
    if (costFalseNegative === undefined || costFalsePositive === undefined || prevalence === undefined)
      throw usageError('policy needs --cost-fn, --cost-fp and --prevalence', USAGE);
    if ((coveragePositive === undefined) !== (coverageNegative === undefined))
      throw usageError('--coverage-positive and --coverage-negative go together (one target per label)', USAGE);
    if (coveragePositive !== undefined && coverage !== undefined)
      throw usageError('give --coverage (one target) or --coverage-positive with --coverage-negative (a target per label), not both', USAGE);
    if (classConditional && coverage === undefined) throw usageError('--class-conditional needs --coverage', USAGE);
    const classCoverage =
      coveragePositive !== undefined && coverageNegative !== undefined
        ? { positive: coveragePositive, negative: coverageNegative }
        : classConditional && coverage !== undefined
          ? { positive: coverage, negative: coverage }
          : undefined;
    if (mondrian !== undefined && coverage === undefined && classCoverage === undefined) throw usageError('--mondrian needs a coverage', USAGE);
    const outcome = await services().choosePolicy({
      modelDir,
      dataset,
      out,
      costFalseNegative,
      costFalsePositive,
      prevalence,
      ...(minSensitivity === undefined ? {} : { minSensitivity }),
      ...(bayes ? { thresholdRule: 'bayes' as const } : {}),
      ...(maxErrorNotReferred === undefined ? {} : { maxErrorNotReferred }),
      ...(classCoverage !== undefined ? { classCoverage } : coverage === undefined ? {} : { coverage }),
      ...(mondrian === undefined ? {} : { mondrian }),
      ...(finding === undefined ? {} : { finding }),
      ...(declared === undefined ? {} : { declared }),
    });
    if (json)
      io.stdout(
        JSON.stringify({
          out,
          version: outcome.manifest.version,
          decisionPolicy: outcome.manifest.decisionPolicy,
          evidence: outcome.evidence,
          versionId: outcome.registered.version.versionId,
          parentVersionId: outcome.registered.parent.versionId,
        }) + '\n',
      );
    else {
      const e = outcome.evidence;
      io.stdout(
        `${outcome.manifest.id} ${outcome.manifest.version} written to ${out}: positive at p >= ${outcome.operatingPoint.threshold.toPrecision(6)} ` +
          `(sensitivity ${outcome.operatingPoint.sensitivity.toFixed(3)}, specificity ${outcome.operatingPoint.specificity.toFixed(3)} on the fitting data), ` +
          (outcome.band.low < outcome.band.high
            ? `refer inside [${outcome.band.low.toPrecision(6)}, ${outcome.band.high.toPrecision(6)}] (refer rate ${String(e.referRate)}, error rate among the rest ${String(e.errorRateNotReferred)})\n`
            : `no abstain band${coverage === undefined && classCoverage === undefined ? '' : ' (the conformal band has zero width on the calibration cases)'} (error rate ${String(e.errorRateNotReferred)})\n`) +
          registeredLine(outcome.registered),
      );
    }
    return EXIT_OK;
  },
};
