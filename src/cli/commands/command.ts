import { parseArgs } from 'node:util';
import { PlatformError } from '../../domain/errors.js';
import type { PatientAgeYears, RasterDeclaration } from '../../domain/image/image-frame.js';
import type { VigilServices } from '../../workflows/vigil-services.js';
import type { MonitoringStreamOutcome } from '../../workflows/seed-monitoring-stream.js';
import type { SeedOutcome } from '../../workflows/seed-demo.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal: only then is a progress line drawn. */
  readonly interactive: boolean;
}

/**
 * What a command writes to: stdout and stderr as printable text (cli/printable-text.ts: control
 * characters escaped, whatever they came from), and the progress line's own channel, the only one
 * that may move the cursor (its carriage return and erase-line sequence; no text from outside).
 */
export interface CommandIo extends CliIo {
  readonly progress: (text: string) => void;
}

/**
 * A list for a person: one or more lines per item, or one line saying there is none (`No incidents.`),
 * since an empty output reads as a command that failed or did not run. `--json` output is not this.
 */
export function printList<T>(io: CliIo, items: readonly T[], lines: (item: T) => string, none: string): void {
  io.stdout(items.length === 0 ? `${none}\n` : items.map(lines).join(''));
}

/** A running server, as `vigil serve` sees it. */
export interface RunningServer {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The DICOM receiver, e.g. `VIGIL@127.0.0.1:11112`. */
  readonly dicom: string;
  /** The administrator's one-time token, on the first start only. */
  readonly bootstrap?: { readonly userName: string; readonly token: string };
  /** Seeds an empty store with the public sample data through the real ingest (`serve --demo`). */
  seedDemo(): Promise<SeedOutcome>;
  /** After a seed: the monitors' demo stream (in distribution, then a contrast-shifted device), in the background; undefined without PneumoniaMNIST. */
  streamDemoMonitoring(): Promise<MonitoringStreamOutcome | undefined>;
  close(): Promise<void>;
}

export interface CommandContext {
  readonly io: CommandIo;
  /** Opens the services on first call (commands that need none never open the store). */
  readonly services: () => VigilServices;
  /** Starts the server (HTTP API); wired by main.ts (composition/server.ts). */
  readonly startServer: () => Promise<RunningServer>;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  readonly stopRequested: () => Promise<void>;
}

export interface Command {
  /** One line for `vigil help`, including the arguments. */
  readonly usage: string;
  run(args: readonly string[], context: CommandContext): Promise<number>;
}

export function usageError(message: string, usage: string): PlatformError {
  return new PlatformError('CLI_USAGE', `${message}\n\nUsage: vigil ${usage}`);
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

/** node:util parseArgs with usage errors as CLI_USAGE. */
export function parseCommandArgs(
  args: readonly string[],
  options: OptionSpec,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: OptionSpec; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw usageError((cause as Error).message, usage);
  }
}

/** A string option's value, or undefined when absent or empty. */
export function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A number option, or undefined; a usage error when not a number in range. */
export function numberOption(value: unknown, name: string, usage: string, range: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  const text = stringOption(value);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (
    !Number.isFinite(n) ||
    (range.integer === true && !Number.isInteger(n)) ||
    (range.min !== undefined && n < range.min) ||
    (range.max !== undefined && n > range.max)
  ) {
    throw usageError(
      `--${name} must be a ${range.integer === true ? 'whole ' : ''}number${range.min === undefined ? '' : ` >= ${range.min}`}${range.max === undefined ? '' : ` <= ${range.max}`}`,
      usage,
    );
  }
  return n;
}

/**
 * `--patient-age-years`: whole years, `N` or an inclusive range `A-B` (for a source that knows only its
 * population's ages), 0 to 130. Never a date of birth.
 *
 * @example ageOption('3', 'patient-age-years', usage) // 3
 * @example ageOption('1-5', 'patient-age-years', usage) // { min: 1, max: 5 }
 */
export function ageOption(value: unknown, name: string, usage: string): PatientAgeYears | undefined {
  const text = stringOption(value);
  if (text === undefined) return undefined;
  const m = /^(\d{1,3})(?:-(\d{1,3}))?$/.exec(text.trim());
  const min = m === null ? Number.NaN : Number(m[1]);
  const max = m?.[2] === undefined ? min : Number(m[2]);
  if (!(min >= 0 && max <= 130 && min <= max)) throw usageError(`--${name} must be whole years, N or A-B, from 0 to 130`, usage);
  return m?.[2] === undefined ? min : { min, max };
}

/** What a dataset's PNG/JPEG or MedMNIST images are: `--modality`, `--body-part`, `--view`, `--patient-age-years` (as `vigil predict`). */
export const DECLARATION_OPTIONS = {
  modality: { type: 'string' },
  'body-part': { type: 'string' },
  view: { type: 'string' },
  'patient-age-years': { type: 'string' },
} as const satisfies OptionSpec;

/** The declaration given on the command line, or undefined when none. */
export function declarationArgs(values: Record<string, unknown>, usage: string): RasterDeclaration | undefined {
  const modality = stringOption(values.modality);
  const bodyPart = stringOption(values['body-part']);
  const view = stringOption(values.view);
  const age = ageOption(values['patient-age-years'], 'patient-age-years', usage);
  if (modality === undefined && bodyPart === undefined && view === undefined && age === undefined) return undefined;
  return {
    ...(modality === undefined ? {} : { modality }),
    ...(bodyPart === undefined ? {} : { bodyPartExamined: bodyPart }),
    ...(view === undefined ? {} : { viewPosition: view }),
    ...(age === undefined ? {} : { patientAgeYears: age }),
  };
}

/** The options `calibrate` and `policy` share: both derive a new bundle from a model and labelled data. */
export const BUNDLE_DERIVATION_OPTIONS = {
  model: { type: 'string' },
  dataset: { type: 'string' },
  out: { type: 'string' },
  finding: { type: 'string' },
  json: { type: 'boolean' },
  ...DECLARATION_OPTIONS,
} as const satisfies OptionSpec;

/** Reads and checks the shared options; a usage error names what is missing. */
export function bundleDerivationArgs(
  values: Record<string, unknown>,
  positionals: readonly string[],
  command: string,
  usage: string,
): {
  readonly modelDir: string;
  readonly dataset: string;
  readonly out: string;
  readonly finding?: string;
  readonly json: boolean;
  readonly declared?: RasterDeclaration;
} {
  const modelDir = stringOption(values.model);
  const dataset = stringOption(values.dataset);
  const out = stringOption(values.out);
  const finding = stringOption(values.finding);
  if (positionals.length > 0 || modelDir === undefined || dataset === undefined || out === undefined) {
    throw usageError(`${command} needs --model, --dataset and --out`, usage);
  }
  const declared = declarationArgs(values, usage);
  return {
    modelDir,
    dataset,
    out,
    ...(finding === undefined ? {} : { finding }),
    json: values.json === true,
    ...(declared === undefined ? {} : { declared }),
  };
}
