import { unknownValueVerdicts } from '../../domain/model/model-manifest.js';
import { EXIT_OK } from '../exit-codes.js';
import { BUNDLE_DERIVATION_OPTIONS, bundleDerivationArgs, parseCommandArgs, usageError, type Command } from './command.js';

const INSPECT_USAGE = 'model inspect <DIR> [--json]';
const REFERENCE_USAGE =
  'model reference --model DIR --dataset SPEC --out DIR [--finding LABEL] [--modality CR --body-part CHEST --view PA --patient-age-years N] [--json]';
const USAGE = `${INSPECT_USAGE}\n  vigil ${REFERENCE_USAGE}`;

export const modelCommand: Command = {
  usage:
    `${INSPECT_USAGE}\n      show a model bundle's manifest and intended use, and verify the model file's hash\n` +
    `  vigil ${REFERENCE_USAGE}\n      compute the bundle's reference distribution on its validation data (for evaluate's shift comparison) and write the bundle with it`,
  async run(args, { io, services }) {
    const [sub, ...rest] = args;
    if (sub === 'reference') {
      const { values, positionals } = parseCommandArgs(rest, BUNDLE_DERIVATION_OPTIONS, REFERENCE_USAGE);
      const { modelDir, dataset, out, finding, json, declared } = bundleDerivationArgs(values, positionals, 'model reference', REFERENCE_USAGE);
      const outcome = await services().computeReference({
        modelDir,
        dataset,
        out,
        ...(finding === undefined ? {} : { finding }),
        ...(declared === undefined ? {} : { declared }),
      });
      const ref = outcome.manifest.referenceDistribution;
      if (json) io.stdout(JSON.stringify({ out, version: outcome.manifest.version, images: outcome.images, source: ref?.source }) + '\n');
      else
        io.stdout(
          `${outcome.manifest.id} ${outcome.manifest.version} written to ${out} with its reference distribution: ${outcome.images} images of ${ref?.source.dataset ?? '?'}, ` +
            `${outcome.features} image variables${ref?.outputs === undefined ? '' : `, and the model's outputs on ${ref.outputs.n} of them`}\n`,
        );
      return EXIT_OK;
    }
    const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean' } }, INSPECT_USAGE);
    if (sub !== 'inspect' || positionals.length !== 1)
      throw usageError('model needs "inspect <DIR>" or "reference --model DIR --dataset SPEC --out DIR"', USAGE);
    const { manifest, modelBytes } = await services().inspectModel(positionals[0] as string);
    if (values.json === true) {
      io.stdout(JSON.stringify({ hashVerified: true, modelBytes, manifest }) + '\n');
      return EXIT_OK;
    }
    const use = manifest.intendedUse;
    const unknown = unknownValueVerdicts(use);
    const policies = Object.entries(manifest.decisionPolicy).map(
      ([label, p]) =>
        `  ${label}: positive at p ≥ ${p.threshold.toFixed(3)}, refer inside [${p.abstainBand.low.toFixed(3)}, ${p.abstainBand.high.toFixed(3)}], cost FN:FP = ${p.costFalseNegative}:${p.costFalsePositive} at prevalence ${p.prevalence.toFixed(3)}; gate warning → ${p.onGateWarn}`,
    );
    io.stdout(
      [
        `${manifest.name} (${manifest.id} ${manifest.version})`,
        `model file ${manifest.model.file}: ${modelBytes} bytes, sha256 ${manifest.model.sha256} (verified)`,
        ``,
        `Intended use: ${use.summary}`,
        `  modalities ${use.modalities.join(', ')}; body parts ${use.bodyParts.join(', ')}; views ${use.views.length > 0 ? use.views.join(', ') : 'any'}`,
        `  population: ${use.population}`,
        `  patient ages: ${use.patientAgeYears === undefined ? 'any (not checked)' : `${use.patientAgeYears.min}-${use.patientAgeYears.max} years`}`,
        `  when a restricted value is unknown: modality ${unknown.modality}, body part ${unknown.bodyPart}, view ${use.views.length > 0 ? unknown.view : '(not restricted)'}, patient age ${use.patientAgeYears === undefined ? '(not restricted)' : unknown.patientAge}`,
        `  photometric ${use.photometricInterpretations.join(', ')}; at least ${use.minColumns}×${use.minRows} px, ${use.minBitsStored} bits`,
        `Not for:`,
        ...use.notFor.map((x) => `  - ${x}`),
        ``,
        `Input ${manifest.input.name}: ${manifest.input.dtype} [${manifest.input.shape.join(', ')}] ${manifest.input.layout}, channels ${manifest.input.channels.join(', ')}`,
        `Preprocessing: ${manifest.preprocessing.map((s) => s.op).join(' → ')}`,
        `Findings: ${manifest.outputs.flatMap((o) => o.findings.map((f) => f.label)).join(', ')}`,
        `Calibration: ${manifest.calibration.method}`,
        `Decision policy:`,
        ...policies,
        `Training data: ${manifest.trainingData.dataset} (${manifest.trainingData.licence}), sha256 ${manifest.trainingData.sha256}`,
        manifest.referenceDistribution === undefined
          ? 'Reference distribution: none (vigil evaluate cannot compare datasets with it; compute one with vigil model reference)'
          : `Reference distribution: ${manifest.referenceDistribution.gate.n} images of ${manifest.referenceDistribution.source.dataset}, computed ${manifest.referenceDistribution.source.computedAt}`,
      ].join('\n') + '\n',
    );
    return EXIT_OK;
  },
};
