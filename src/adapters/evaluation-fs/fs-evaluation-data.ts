import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import { SeededRandom, shuffledIndices } from '../../domain/evaluation/random.js';
import { rasterAttributes, type ImageFrame, type RasterDeclaration } from '../../domain/image/image-frame.js';
import type { DatasetDeclaration, EvaluationDataSource, LabelledCase, LabelledDataset, PredictionRow, PredictionSet } from '../../ports/evaluation-data.js';
import { readBoundedFile, readRegularFile } from '../files-fs/read-bounded-file.js';
import { readMedmnistSplit } from '../dataset-medmnist/read-npz.js';

/**
 * PneumoniaMNIST carries no site or device labels. Derived strata, deterministic and documented:
 * `exposure` and `contrast` are terciles of the image's mean and standard deviation of its 8-bit
 * pixels, with cut points taken from the 4,708 train images (numpy percentile 33.3 / 66.7):
 * mean 138.61 / 154.89, std 33.08 / 40.20. They stand in for acquisition differences (exposure,
 * contrast) in the manner of MedMNIST-C; they are not sites.
 */
const EXPOSURE_CUTS = [138.61352041, 154.89158163] as const;
const CONTRAST_CUTS = [33.08418512, 40.20177899] as const;
const MEDMNIST_STRATA = ['exposure', 'contrast'] as const;
const MEDMNIST_NOTE =
  'PneumoniaMNIST has no site labels. Derived strata: "exposure" = tercile of the image mean (dark < 138.61 <= mid < 154.89 <= bright) and "contrast" = tercile of the pixel standard deviation (low < 33.08 <= mid < 40.20 <= high), cut points from the train split.';
/** The most a small text file (criteria) read by `readText` holds unless the caller says otherwise. */
const TEXT_FILE_MAX_BYTES = 256 * 1024;
/** Seed of the label-stratified shuffle behind `:part=K/M`. */
const PART_SEED = 20231;

function sha256(...parts: (Uint8Array | string)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** The most a CSV or JSONL table (a dataset manifest, a predictions file) holds: far past any real one, well under a string's limit. */
const TABLE_FILE_MAX_BYTES = 256 * 1024 ** 2;
/** VIGIL_MAX_INPUT_BYTES's default, for a source built without a configuration (tests). */
const DEFAULT_MAX_INPUT_BYTES = 2 * 1024 ** 3 - 1;

export interface FsEvaluationDataOptions {
  /** The largest image or .npz file read, and the most an .npz may unpack to (VIGIL_MAX_INPUT_BYTES). */
  readonly maxInputBytes?: number;
}

function tercile(v: number, cuts: readonly [number, number], names: readonly [string, string, string]): string {
  return v < cuts[0] ? names[0] : v < cuts[1] ? names[1] : names[2];
}

/** Cases of part K of M: a label-stratified, seeded shuffle dealt round-robin into M parts. */
export function selectPart(labels: readonly number[], part: number, parts: number): number[] {
  const random = new SeededRandom(PART_SEED);
  const chosen: number[] = [];
  for (const cls of [0, 1]) {
    const members = labels.map((l, i) => (l === cls ? i : -1)).filter((i) => i >= 0);
    const order = shuffledIndices(members.length, random);
    order.forEach((o, rank) => {
      if (rank % parts === part) chosen.push(members[o]!);
    });
  }
  return chosen.sort((a, b) => a - b);
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f.length > 0)) rows.push(row);
      row = [];
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f.length > 0)) rows.push(row);
  return rows;
}

/** Rows of a CSV (header line) or JSONL file as string records, with their 1-based line numbers. */
function readTable(text: string, jsonl: boolean, what: string): { line: number; record: Record<string, unknown> }[] {
  if (jsonl) {
    return text
      .split(/\r?\n/)
      .map((l, i) => ({ l: l.trim(), line: i + 1 }))
      .filter((x) => x.l.length > 0)
      .map(({ l, line }) => {
        let record: unknown;
        try {
          record = JSON.parse(l);
        } catch (cause) {
          throw new PlatformError('DATASET_INVALID', `Line ${line} of the ${what} is not valid JSON`, { line }, { cause });
        }
        if (typeof record !== 'object' || record === null || Array.isArray(record)) {
          throw new PlatformError('DATASET_INVALID', `Line ${line} of the ${what} is not a JSON object`, { line });
        }
        return { line, record: record as Record<string, unknown> };
      });
  }
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) throw new PlatformError('DATASET_INVALID', `The ${what} is empty`, { line: 1 });
  return rows.map((cells, i) => ({ line: i + 2, record: Object.fromEntries(header.map((h, k) => [h.trim(), cells[k] ?? ''])) }));
}

function parseLabel(value: unknown, line: number, what: string): 0 | 1 {
  if (value === 0 || value === '0' || value === false) return 0;
  if (value === 1 || value === '1' || value === true) return 1;
  throw new PlatformError('DATASET_INVALID', `Line ${line} of the ${what}: "label" must be 0 or 1`, { line });
}

/**
 * The stratum values of one row. A value that is absent, null, or empty (an empty CSV cell, "" or
 * blanks) is missing: it is left out here, and the evaluation reports it as missing, never as a
 * stratum named "". Columns are every key seen with a value in any row.
 */
function pickStrata(record: Record<string, unknown>, reserved: readonly string[], wanted: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) {
    if (reserved.includes(k)) continue;
    if (wanted !== undefined && !wanted.includes(k)) continue;
    if (typeof v === 'string' ? v.trim().length > 0 : typeof v === 'number' || typeof v === 'boolean') out[k] = String(v).trim();
  }
  return out;
}

/**
 * Columns of a table: every key with a plain value (text, number, true/false, null) in any row,
 * except the reserved ones; a column whose every value is missing is still a column.
 */
function columnsOf(rows: readonly { record: Record<string, unknown> }[], reserved: readonly string[]): string[] {
  const plain = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  return [...new Set(rows.flatMap((r) => Object.entries(r.record).flatMap(([k, v]) => (!reserved.includes(k) && plain(v) ? [k] : []))))].sort();
}

function checkStrata(columns: readonly string[], wanted: readonly string[] | undefined, what: string): readonly string[] {
  if (wanted === undefined) return columns;
  const missing = wanted.filter((w) => !columns.includes(w));
  if (missing.length > 0) throw new PlatformError('DATASET_INVALID', `The ${what} has no column ${missing.map((m) => `"${m}"`).join(', ')} for --strata`, {});
  return wanted;
}

/**
 * Datasets, predictions and criteria named on the command line or in a request. Every file is read
 * bounded (files-fs/read-bounded-file.ts): a regular file within its kind's limit — tables 256 MiB,
 * images and .npz files VIGIL_MAX_INPUT_BYTES — or a coded INPUT_* error before a byte is read, so
 * `medmnist:/dev/zero:val` is refused at once instead of filling memory.
 */
export class FsEvaluationDataSource implements EvaluationDataSource {
  readonly #maxInputBytes: number;

  constructor(options: FsEvaluationDataOptions = {}) {
    this.#maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  }

  async openDataset(spec: string, options: { readonly strata?: readonly string[] }): Promise<LabelledDataset> {
    if (spec.startsWith('medmnist:')) return this.openMedmnist(spec, options);
    const lower = spec.toLowerCase();
    if (!lower.endsWith('.csv') && !lower.endsWith('.jsonl')) {
      throw new PlatformError('DATASET_INVALID', 'The dataset must be medmnist:PATH:SPLIT[:part=K/M], or a .csv or .jsonl manifest', {});
    }
    const bytes = await readRegularFile(spec, 'dataset manifest', TABLE_FILE_MAX_BYTES);
    const rows = readTable(new TextDecoder().decode(bytes), lower.endsWith('.jsonl'), 'dataset manifest');
    const base = dirname(resolve(spec));
    const reserved = ['path', 'file', 'label', 'id'];
    const maxImageBytes = this.#maxInputBytes;
    const strataColumns = checkStrata(columnsOf(rows, reserved), options.strata, 'dataset manifest');
    const entries = rows.map(({ line, record }) => {
      const path = record.path ?? record.file;
      if (typeof path !== 'string' || path.length === 0)
        throw new PlatformError('DATASET_INVALID', `Line ${line} of the dataset manifest has no "path"`, { line });
      return {
        id: typeof record.id === 'string' || typeof record.id === 'number' ? String(record.id) : `row-${line}`,
        row: line,
        path: resolve(base, path),
        label: parseLabel(record.label, line, 'dataset manifest'),
        strata: pickStrata(record, reserved, strataColumns),
      };
    });
    return {
      description: `${entries.length} images listed in a ${lower.endsWith('.csv') ? 'CSV' : 'JSONL'} manifest`,
      sha256: sha256(bytes),
      count: entries.length,
      strataColumns,
      strataNotes: [],
      async *cases(): AsyncIterable<LabelledCase> {
        for (const e of entries) {
          yield {
            id: e.id,
            row: e.row,
            label: e.label,
            strata: e.strata,
            image: { kind: 'file', bytes: await readRegularFile(e.path, `image listed on line ${e.row} of the manifest`, maxImageBytes) },
          };
        }
      },
    };
  }

  private async openMedmnist(spec: string, options: { readonly strata?: readonly string[] }): Promise<LabelledDataset> {
    // medmnist:PATH:SPLIT[:part=K/M]; PATH may itself hold ':' only on Windows, which we do not support.
    const m = /^medmnist:(.+?):(train|val|test)(?::part=(\d+)\/(\d+))?$/.exec(spec);
    const [, path, split, k, mm] = m ?? [];
    // The pattern captures a path and one of the splits whenever it matches; the checks narrow their types.
    if (path === undefined || !isMedmnistSplit(split)) {
      throw new PlatformError('DATASET_INVALID', 'Use medmnist:PATH:SPLIT with SPLIT train, val or test, optionally :part=K/M', {});
    }
    const bytes = await readRegularFile(path, '.npz file', this.#maxInputBytes);
    const data = readMedmnistSplit(bytes, split, this.#maxInputBytes);
    const declaration = await readSidecarDeclaration(path);
    let indices = data.labels.map((_, i) => i);
    let partText = '';
    if (k !== undefined && mm !== undefined) {
      const part = Number(k);
      const parts = Number(mm);
      if (!(parts >= 2 && part < parts)) throw new PlatformError('DATASET_INVALID', 'part=K/M needs M >= 2 and 0 <= K < M', {});
      indices = selectPart(data.labels, part, parts);
      partText = `, part ${part} of ${parts} (label-stratified seeded shuffle, seed ${PART_SEED})`;
    }
    const strataColumns = checkStrata(MEDMNIST_STRATA, options.strata, 'MedMNIST dataset');
    const { width, height } = data;
    return {
      description: `MedMNIST ${split} split${partText}: ${indices.length} images of ${width}×${height} pixels`,
      sha256: sha256(bytes, `\0${split}\0${k ?? ''}/${mm ?? ''}`),
      count: indices.length,
      strataColumns,
      strataNotes: [MEDMNIST_NOTE],
      ...(declaration === undefined ? {} : { declaration }),
      // eslint-disable-next-line @typescript-eslint/require-await -- an async generator keeps the port's AsyncIterable shape
      async *cases(): AsyncIterable<LabelledCase> {
        for (const i of indices) {
          const pixels = data.images[i]!;
          let sum = 0;
          for (const v of pixels) sum += v;
          const mean = sum / pixels.length;
          let ss = 0;
          for (const v of pixels) ss += (v - mean) ** 2;
          const std = Math.sqrt(ss / pixels.length);
          const derived: Record<string, string> = {
            exposure: tercile(mean, EXPOSURE_CUTS, ['dark', 'mid', 'bright']),
            contrast: tercile(std, CONTRAST_CUTS, ['low', 'mid', 'high']),
          };
          const strata = Object.fromEntries(strataColumns.flatMap((c) => (derived[c] === undefined ? [] : [[c, derived[c]]])));
          // An .npz says nothing about what its images are (BreastMNIST is ultrasound, PneumoniaMNIST
          // chest films): the frame carries no modality, body part or view. What the dataset is comes
          // from its declaration (sidecar or command line), applied where every image is scored.
          const frame = rasterFrame(pixels, width, height);
          yield { id: `${split}-${i}`, row: i, label: data.labels[i] === 1 ? 1 : 0, strata, image: { kind: 'frame', frame } };
        }
      },
    };
  }

  async readPredictions(path: string, options: { readonly strata?: readonly string[] }): Promise<PredictionSet> {
    const bytes = await readRegularFile(path, 'predictions file', TABLE_FILE_MAX_BYTES);
    const rows = readTable(new TextDecoder().decode(bytes), !path.toLowerCase().endsWith('.csv'), 'predictions file');
    const reserved = ['score', 'label', 'id'];
    const strataColumns = checkStrata(columnsOf(rows, reserved), options.strata, 'predictions file');
    const out: PredictionRow[] = rows.map(({ line, record }) => {
      const score = typeof record.score === 'string' && record.score.trim().length > 0 ? Number(record.score) : record.score;
      if (typeof score !== 'number' || !Number.isFinite(score)) {
        throw new PlatformError('DATASET_INVALID', `Line ${line} of the predictions file: "score" must be a finite number`, { line });
      }
      // A line number is not patient data; the score itself is not quoted.
      if (score < 0 || score > 1) {
        throw new PlatformError(
          'DATASET_INVALID',
          `Line ${line} of the predictions file: "score" must be a probability in [0, 1] (calibrate raw scores first)`,
          { line },
        );
      }
      const id = record.id;
      return {
        line,
        ...(typeof id === 'string' || typeof id === 'number' ? { id: String(id) } : {}),
        score,
        label: parseLabel(record.label, line, 'predictions file'),
        strata: pickStrata(record, reserved, strataColumns),
      };
    });
    return { description: `${out.length} predictions from a file`, sha256: sha256(bytes), rows: out, strataColumns };
  }

  async readText(
    path: string,
    options: { readonly maxBytes?: number; readonly what?: string } = {},
  ): Promise<{ readonly text: string; readonly sha256: string }> {
    const bytes = await readBoundedFile(path, options.what ?? 'criteria file', options.maxBytes ?? TEXT_FILE_MAX_BYTES);
    return { text: new TextDecoder().decode(bytes), sha256: sha256(bytes) };
  }
}

const RASTER_ATTRIBUTES = rasterAttributes(1, 8, false);

/** An 8-bit grey image as a PNG would arrive: nothing declared about what it shows. */
function rasterFrame(pixels: Uint8Array, width: number, height: number): ImageFrame {
  return { attributes: RASTER_ATTRIBUTES, frameIndex: 0, rows: height, columns: width, samplesPerPixel: 1, pixels };
}

/** Sidecar of `NAME.npz`: `NAME.declaration.json`. */
export function sidecarPath(npzPath: string): string {
  return `${npzPath.replace(/\.npz$/i, '')}.declaration.json`;
}

const SIDECAR_MAX_BYTES = 64 * 1024;
const SIDECAR_KEYS = ['modality', 'bodyPart', 'view', 'patientAgeYears', 'description'] as const;

/**
 * What the images of an .npz are, from `NAME.declaration.json` beside it, e.g.
 * `{ "modality": "CR", "bodyPart": "CHEST", "view": "PA" }` (optional `patientAgeYears`, whole years
 * N or a population's range `{"min": A, "max": B}` that applies to every image, and a free-text
 * `description`). Absent file: undefined.
 */
async function readSidecarDeclaration(npzPath: string): Promise<DatasetDeclaration | undefined> {
  const path = sidecarPath(npzPath);
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, 'dataset declaration (sidecar .declaration.json)', SIDECAR_MAX_BYTES);
  } catch (cause) {
    if (cause instanceof PlatformError && cause.code === 'INPUT_NOT_FOUND') return undefined;
    throw cause;
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new PlatformError('DATASET_INVALID', 'The dataset declaration (sidecar .declaration.json) is not valid JSON', {}, { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PlatformError('DATASET_INVALID', 'The dataset declaration must be a JSON object', {});
  }
  const o = json as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(SIDECAR_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new PlatformError('DATASET_INVALID', `The dataset declaration has unknown keys (${unknown.join(', ')}); known: ${SIDECAR_KEYS.join(', ')}`, {});
  }
  const text = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim().length === 0 || v.length > 64) {
      throw new PlatformError('DATASET_INVALID', `The dataset declaration's "${key}" must be a non-empty string of at most 64 characters`, {});
    }
    return v.trim().toUpperCase();
  };
  const age = o.patientAgeYears;
  const isYears = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 130;
  const range = typeof age === 'object' && age !== null ? (age as { min?: unknown; max?: unknown }) : undefined;
  const ageOk =
    age === undefined ||
    isYears(age) ||
    (range !== undefined && Object.keys(range).every((k) => k === 'min' || k === 'max') && isYears(range.min) && isYears(range.max) && range.min <= range.max);
  if (!ageOk) {
    throw new PlatformError(
      'DATASET_INVALID',
      'The dataset declaration\'s "patientAgeYears" must be whole years from 0 to 130: N, or {"min": A, "max": B}',
      {},
    );
  }
  const modality = text('modality');
  const bodyPart = text('bodyPart');
  const view = text('view');
  const values: RasterDeclaration = {
    ...(modality === undefined ? {} : { modality }),
    ...(bodyPart === undefined ? {} : { bodyPartExamined: bodyPart }),
    ...(view === undefined ? {} : { viewPosition: view }),
    ...(isYears(age) ? { patientAgeYears: age } : range !== undefined ? { patientAgeYears: { min: range.min as number, max: range.max as number } } : {}),
  };
  return { values, source: `sidecar ${path.split(/[\\/]/).pop() ?? ''}` };
}

const MEDMNIST_SPLITS = ['train', 'val', 'test'] as const;
function isMedmnistSplit(value: string | undefined): value is (typeof MEDMNIST_SPLITS)[number] {
  return MEDMNIST_SPLITS.some((split) => split === value);
}
