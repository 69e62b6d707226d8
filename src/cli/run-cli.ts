import { parseArgs } from 'node:util';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { PredictResult } from '../workflows/predict-images.js';
import type { RasterDeclaration } from '../domain/image/image-frame.js';
import type { PredictOptions, VigilServices } from '../workflows/vigil-services.js';
import { EXIT_CODES, EXIT_OK, EXIT_SOME_INPUTS_FAILED } from './exit-codes.js';
import { createProgressLine } from './progress-line.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal: only then is a progress line drawn. */
  readonly interactive: boolean;
}

export const USAGE = `Usage: vigil <command> [options]

Commands:
  predict <paths...> [--model DIR] [--json]   judge DICOM, PNG and JPEG files (folders are walked)
          [--modality CR --body-part CHEST --view PA]  declare what PNG/JPEG inputs are
  audit verify [--json]                        recompute the audit log's Merkle tree and check it
  audit prove <auditId> [--json]               print an inclusion proof for one audit entry
  model inspect <DIR> [--json]                 show a model bundle's manifest and verify its hash
  demo                                         run predict on the public sample data, then verify the audit log
  help                                         show this text

Environment: VIGIL_DATA_DIR (default ./vigil-data), VIGIL_MODEL_DIR, VIGIL_SAMPLE_DATA, VIGIL_LOG_LEVEL, …
(see README.md, "Configuration").`;

/**
 * Runs one command and returns its exit code. Errors are printed as `code: message` (or as JSON
 * with --json) and mapped to exit codes at this edge only.
 */
export async function runCli(argv: readonly string[], services: () => VigilServices, io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  let opened: VigilServices | undefined;
  const open = (): VigilServices => (opened ??= services());
  try {
    return await dispatch(argv, open, io);
  } catch (cause) {
    const error = toPlatformError(cause);
    if (json) io.stdout(JSON.stringify({ error: { code: error.code, message: error.message } }) + '\n');
    else io.stderr(`vigil: ${error.code}: ${error.message}\n`);
    return EXIT_CODES[error.code];
  } finally {
    await opened?.close();
  }
}

async function dispatch(argv: readonly string[], open: () => VigilServices, io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'predict':
      return predict(rest, open, io);
    case 'audit':
      return audit(rest, open, io);
    case 'model':
      return model(rest, open, io);
    case 'demo':
      return demo(open, io);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE + '\n');
      return command === undefined ? EXIT_CODES.CLI_USAGE : EXIT_OK;
    default:
      throw usage(`unknown command "${command}"`);
  }
}

function usage(message: string): PlatformError {
  return new PlatformError('CLI_USAGE', `${message}\n\n${USAGE}`);
}

function parse(args: readonly string[], options: Record<string, { type: 'string' | 'boolean' }>): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new PlatformError('CLI_USAGE', `${(cause as Error).message}\n\n${USAGE}`);
  }
}

async function predict(args: readonly string[], open: () => VigilServices, io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    model: { type: 'string' },
    json: { type: 'boolean' },
    modality: { type: 'string' },
    'body-part': { type: 'string' },
    view: { type: 'string' },
  });
  if (positionals.length === 0) throw usage('predict needs at least one file or folder');
  const json = values.json === true;
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const declared: RasterDeclaration = {
    ...(text(values.modality) === undefined ? {} : { modality: text(values.modality) as string }),
    ...(text(values['body-part']) === undefined ? {} : { bodyPartExamined: text(values['body-part']) as string }),
    ...(text(values.view) === undefined ? {} : { viewPosition: text(values.view) as string }),
  };
  const options: PredictOptions = {
    ...(text(values.model) === undefined ? {} : { modelDir: text(values.model) as string }),
    ...(Object.keys(declared).length === 0 ? {} : { declared }),
  };
  const progress = io.interactive ? createProgressLine(io.stderr) : undefined;
  const counts = await open().predict(
    positionals,
    options,
    (result) => {
      progress?.clear();
      io.stdout(json ? JSON.stringify(result) + '\n' : formatResult(result) + '\n');
    },
    progress === undefined ? undefined : (p) => progress.update(p.filesDone, p.filesTotal),
  );
  progress?.clear();
  if (!json) io.stderr(`${counts.decided} decided, ${counts.rejected} rejected by the gate, ${counts.errors} failed\n`);
  return counts.errors > 0 ? EXIT_SOME_INPUTS_FAILED : EXIT_OK;
}

function formatValue(value: number | string | undefined): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(3))) : String(value);
}

/** One human-readable line per result. */
export function formatResult(r: PredictResult): string {
  const where = r.input.frame === null ? r.input.file : `${r.input.file} [frame ${r.input.frame}]`;
  switch (r.status) {
    case 'decided': {
      const findings = r.outputs.map((o) => `${o.finding} ${o.probability.toFixed(3)} → ${o.decision}`).join(', ');
      const gate =
        r.quality === null || r.quality.verdict === 'pass'
          ? ''
          : `  (gate warned: ${r.quality.reasons.map((x) => `${x.code} ${formatValue(x.measured)} vs ${formatValue(x.threshold)}`).join(', ')})`;
      return `${where}: ${findings}${gate}  [${r.auditId ?? ''}]`;
    }
    case 'rejected':
      return `${where}: rejected: ${(r.quality?.reasons ?? [])
        .filter((x) => x.verdict === 'reject')
        .map((x) => `${x.code} (${formatValue(x.measured)} vs ${formatValue(x.threshold)})`)
        .join(', ')}  [${r.auditId ?? ''}]`;
    case 'error':
      return `${where}: error ${r.error?.code ?? ''}: ${r.error?.message ?? ''}`;
  }
}

async function audit(args: readonly string[], open: () => VigilServices, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
  const json = values.json === true;
  if (sub === 'verify') {
    if (positionals.length > 0) throw usage('audit verify takes no arguments');
    const result = await open().verifyAudit();
    if (json) io.stdout(JSON.stringify(result) + '\n');
    else if (result.ok) io.stdout(`audit log OK: ${result.treeSize} entries, root ${result.rootHash}, ${result.checkedTreeHeads} signed tree heads checked\n`);
    else io.stdout(`audit log FAILED at entry ${result.firstBadAuditId} (index ${result.firstBadIndex} of ${result.treeSize}): ${result.reason}\n`);
    return result.ok ? EXIT_OK : EXIT_CODES.AUDIT_VERIFY_FAILED;
  }
  if (sub === 'prove') {
    const [auditId] = positionals;
    if (auditId === undefined || positionals.length > 1) throw usage('audit prove takes one audit id');
    const { proof, verified } = await open().proveAudit(auditId);
    if (json) io.stdout(JSON.stringify({ ...proof, verified }) + '\n');
    else {
      io.stdout(
        [
          `entry ${proof.auditId} is leaf ${proof.leafIndex} of a tree of ${proof.treeSize}`,
          `leaf hash ${proof.leafHash}`,
          `audit path (${proof.auditPath.length} hashes):`,
          ...proof.auditPath.map((h) => `  ${h}`),
          `root ${proof.rootHash} (signed tree head of ${proof.treeHead.time})`,
          `proof ${verified ? 'verifies' : 'DOES NOT verify'}`,
        ].join('\n') + '\n',
      );
    }
    return verified ? EXIT_OK : EXIT_CODES.AUDIT_VERIFY_FAILED;
  }
  throw usage('audit needs "verify" or "prove <auditId>"');
}

async function model(args: readonly string[], open: () => VigilServices, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
  if (sub !== 'inspect' || positionals.length !== 1) throw usage('model needs "inspect <DIR>"');
  const { manifest, modelBytes } = await open().inspectModel(positionals[0] as string);
  if (values.json === true) {
    io.stdout(JSON.stringify({ hashVerified: true, modelBytes, manifest }) + '\n');
    return EXIT_OK;
  }
  const use = manifest.intendedUse;
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
    ].join('\n') + '\n',
  );
  return EXIT_OK;
}

async function demo(open: () => VigilServices, io: CliIo): Promise<number> {
  const services = open();
  const { runs, notes } = await services.prepareDemo();
  for (const note of notes) io.stdout(note + '\n');
  const totals = { decided: 0, rejected: 0, errors: 0 };
  for (const run of runs) {
    io.stdout(`\n== ${run.title}\n`);
    const progress = io.interactive ? createProgressLine(io.stderr) : undefined;
    const counts = await services.predict(
      run.paths,
      run.declared === undefined ? {} : { declared: run.declared },
      (r) => {
        progress?.clear();
        io.stdout(formatResult(r) + '\n');
      },
      progress === undefined ? undefined : (p) => progress.update(p.filesDone, p.filesTotal),
    );
    progress?.clear();
    totals.decided += counts.decided;
    totals.rejected += counts.rejected;
    totals.errors += counts.errors;
  }
  if (runs.length === 0) return EXIT_OK;
  const verification = await services.verifyAudit();
  io.stdout(
    `\n${totals.decided} decided, ${totals.rejected} rejected by the gate, ${totals.errors} failed.\n` +
      (verification.ok
        ? `Audit log verified: ${verification.treeSize} entries, root ${verification.rootHash}.\n`
        : `Audit log FAILED verification at entry ${verification.firstBadAuditId}.\n`) +
      `Next: npx vigil predict <files or folders> --json · npx vigil audit prove <auditId> · npx vigil model inspect models/pneumonia-demo\n`,
  );
  return verification.ok ? EXIT_OK : EXIT_CODES.AUDIT_VERIFY_FAILED;
}
