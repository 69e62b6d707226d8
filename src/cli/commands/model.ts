import { unknownValueVerdicts } from '../../domain/model/model-manifest.js';
import { shortVersionId, type ModelVersion } from '../../domain/registry/model-version.js';
import { EXIT_OK } from '../exit-codes.js';
import type { ModelInitAnswers } from '../../domain/model/model-init.js';
import {
  BUNDLE_DERIVATION_OPTIONS,
  bundleDerivationArgs,
  DECLARATION_OPTIONS,
  declarationArgs,
  numberOption,
  parseCommandArgs,
  stringOption,
  usageError,
  type Command,
  type CommandContext,
} from './command.js';

const REFERENCE_USAGE =
  'model reference --model DIR --dataset SPEC --out DIR [--finding LABEL] [--modality CR --body-part CHEST --view PA --patient-age-years N] [--json]';
const INIT_USAGE =
  'model init --onnx FILE --validation SPEC [--reference SPEC] --out DIR [--answers FILE] [--monai-metadata FILE] [--id ID] [--model-version X.Y.Z] [--name TEXT] [--cost-fn N --cost-fp N] [--opset N] [--modality CR --body-part CHEST --view PA --patient-age-years N] [--json]';
const USAGE = [
  'model inspect <DIR> [--json]',
  INIT_USAGE,
  REFERENCE_USAGE,
  'model register <DIR> [--parent VERSION] [--validation-data SHA256] [--code-ref REF] [--json]',
  'model versions [--json]',
  'model card <VERSION>',
].join('\n  vigil ');

/** One line for calibrate, policy and model reference: what they registered. */
export function registeredLine(registered: { readonly parent: ModelVersion; readonly version: ModelVersion }): string {
  return `registered as version ${shortVersionId(registered.version.versionId)}, child of ${shortVersionId(registered.parent.versionId)} (vigil model card ${shortVersionId(registered.version.versionId)})\n`;
}

function versionLine(v: ModelVersion): string {
  const parent =
    v.parentVersionId === null
      ? 'original'
      : `child of ${shortVersionId(v.parentVersionId)}${v.lineage.derivedBy === null ? '' : ` by ${v.lineage.derivedBy}`}`;
  return `${shortVersionId(v.versionId)}  ${v.model.id} ${v.model.version}  ${parent}  registered ${v.registeredAt} by ${v.registeredBy}`;
}

export const modelCommand: Command = {
  usage:
    `${USAGE}\n      inspect a bundle (verifying its model file's hash); build a complete bundle for your own ONNX network (gate statistics from\n` +
    `      --reference images, default the validation data; calibration, policy and evaluation on --validation; answers in a JSON file,\n` +
    `      a MONAI metadata.json and flags, later ones winning; then registered); compute its reference distribution on its validation data (for evaluate's\n` +
    `      shift comparison) and write the bundle with it; register a bundle as an immutable, content-addressed version; list the\n` +
    `      registered versions; print a version's generated model card`,
  async run(args, context) {
    const [sub, ...rest] = args;
    if (sub === 'register') return register(rest, context);
    if (sub === 'versions') return versions(rest, context);
    if (sub === 'card') return card(rest, context);
    if (sub === 'init') return init(rest, context);
    const { io, services } = context;
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
      if (json)
        io.stdout(
          JSON.stringify({
            out,
            version: outcome.manifest.version,
            images: outcome.images,
            source: ref?.source,
            versionId: outcome.registered.version.versionId,
            parentVersionId: outcome.registered.parent.versionId,
          }) + '\n',
        );
      else
        io.stdout(
          `${outcome.manifest.id} ${outcome.manifest.version} written to ${out} with its reference distribution: ${outcome.images} images of ${ref?.source.dataset ?? '?'}, ` +
            `${outcome.features} image variables${ref?.outputs === undefined ? '' : `, and the model's outputs on ${ref.outputs.n} of them`}\n` +
            registeredLine(outcome.registered),
        );
      return EXIT_OK;
    }
    const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean' } }, USAGE);
    if (sub !== 'inspect' || positionals.length !== 1)
      throw usageError(
        'model needs "inspect <DIR>", "reference --model DIR --dataset SPEC --out DIR", "register <DIR>", "versions" or "card <VERSION>"',
        USAGE,
      );
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

async function register(args: readonly string[], { io, services }: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { json: { type: 'boolean' }, parent: { type: 'string' }, 'validation-data': { type: 'string' }, 'code-ref': { type: 'string' } },
    USAGE,
  );
  if (positionals.length !== 1) throw usageError('model register needs one bundle folder', USAGE);
  const validation = stringOption(values['validation-data']);
  if (validation !== undefined && !/^[0-9a-f]{64}$/.test(validation))
    throw usageError('--validation-data is the SHA-256 (64 hex digits) of the validation data', USAGE);
  const parent = stringOption(values.parent);
  const codeReference = stringOption(values['code-ref']);
  const { version, created } = await services().registerModel({
    directory: positionals[0] as string,
    actor: 'local-cli',
    ...(parent === undefined ? {} : { parent }),
    lineage: { ...(validation === undefined ? {} : { validationDataSha256: validation }), ...(codeReference === undefined ? {} : { codeReference }) },
  });
  if (values.json === true) io.stdout(JSON.stringify({ created, version }) + '\n');
  else io.stdout(`${created ? 'registered' : 'already registered'}: ${versionLine(version)}\n  version id ${version.versionId}\n`);
  return EXIT_OK;
}

async function versions(args: readonly string[], { io, services }: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (positionals.length !== 0) throw usageError('model versions takes no folder', USAGE);
  const all = await services().modelVersions();
  if (values.json === true) io.stdout(JSON.stringify({ versions: all }) + '\n');
  else io.stdout(all.length === 0 ? 'No model version is registered (vigil model register DIR).\n' : all.map((v) => versionLine(v) + '\n').join(''));
  return EXIT_OK;
}

async function card(args: readonly string[], { io, services }: CommandContext): Promise<number> {
  const { positionals } = parseCommandArgs(args, {}, USAGE);
  if (positionals.length !== 1) throw usageError('model card needs a version id (or a unique prefix of 8 or more hex digits)', USAGE);
  io.stdout((await services().modelCard(positionals[0] as string)).card);
  return EXIT_OK;
}

async function init(args: readonly string[], { io, services }: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      onnx: { type: 'string' },
      validation: { type: 'string' },
      reference: { type: 'string' },
      out: { type: 'string' },
      answers: { type: 'string' },
      'monai-metadata': { type: 'string' },
      id: { type: 'string' },
      'model-version': { type: 'string' },
      name: { type: 'string' },
      'cost-fn': { type: 'string' },
      'cost-fp': { type: 'string' },
      opset: { type: 'string' },
      json: { type: 'boolean' },
      ...DECLARATION_OPTIONS,
    },
    INIT_USAGE,
  );
  const onnx = stringOption(values.onnx);
  const validation = stringOption(values.validation);
  const out = stringOption(values.out);
  if (positionals.length > 0 || onnx === undefined || validation === undefined || out === undefined) {
    throw usageError('model init needs --onnx, --validation and --out', INIT_USAGE);
  }
  const costFn = numberOption(values['cost-fn'], 'cost-fn', INIT_USAGE, { min: 0 });
  const costFp = numberOption(values['cost-fp'], 'cost-fp', INIT_USAGE, { min: 0 });
  if ((costFn === undefined) !== (costFp === undefined)) throw usageError('give both --cost-fn and --cost-fp', INIT_USAGE);
  const opset = numberOption(values.opset, 'opset', INIT_USAGE, { min: 1, integer: true });
  const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
    value === undefined ? {} : ({ [key]: value } as Record<K, V>);
  const flags: ModelInitAnswers = {
    ...optional('id', stringOption(values.id)),
    ...optional('version', stringOption(values['model-version'])),
    ...optional('name', stringOption(values.name)),
    ...(costFn === undefined || costFp === undefined ? {} : { costs: { costFalseNegative: costFn, costFalsePositive: costFp } }),
    ...(opset === undefined ? {} : { model: { opset } }),
  };
  const declared = declarationArgs(values, INIT_USAGE);
  const reference = stringOption(values.reference);
  const answersFile = stringOption(values.answers);
  const monaiMetadataFile = stringOption(values['monai-metadata']);
  const outcome = await services().initModel({
    onnx,
    validation,
    out,
    flags,
    ...(reference === undefined ? {} : { reference }),
    ...(answersFile === undefined ? {} : { answersFile }),
    ...(monaiMetadataFile === undefined ? {} : { monaiMetadataFile }),
    ...(declared === undefined ? {} : { declared }),
  });
  const { manifest, version } = outcome;
  if (values.json === true) {
    io.stdout(
      JSON.stringify({
        out,
        id: manifest.id,
        version: manifest.version,
        versionId: version.versionId,
        reference: outcome.reference,
        validation: outcome.validation,
        calibration: manifest.calibration.method,
        decisionPolicy: Object.fromEntries(
          Object.entries(manifest.decisionPolicy).map(([k, p]) => [k, { threshold: p.threshold, abstainBand: p.abstainBand }]),
        ),
        reports: outcome.reports,
      }) + '\n',
    );
    return EXIT_OK;
  }
  const policies = Object.entries(manifest.decisionPolicy).map(
    ([label, p]) => `  ${label}: positive at p ≥ ${p.threshold.toFixed(4)}, refer inside [${p.abstainBand.low}, ${p.abstainBand.high}]`,
  );
  io.stdout(
    [
      `${manifest.id} ${manifest.version} written to ${out}`,
      `  gate statistics from ${outcome.reference.images} images of ${outcome.reference.description}`,
      `  calibration (${manifest.calibration.method}) and policy fitted on ${outcome.validation.cases} cases of ${outcome.validation.description} (${outcome.validation.gateRejected} rejected by the gate)`,
      ...policies,
      `  evaluation report(s): ${outcome.reports.map((r) => `${out}/reports/${r}`).join(', ')}; model card ${out}/MODEL_CARD.md`,
      `registered as version ${shortVersionId(version.versionId)} (vigil model card ${shortVersionId(version.versionId)})`,
    ].join('\n') + '\n',
  );
  return EXIT_OK;
}
