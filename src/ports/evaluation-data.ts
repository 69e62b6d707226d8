import type { ImageFrame, PatientAgeYears, RasterDeclaration } from '../domain/image/image-frame.js';

/** One labelled case of an evaluation dataset. */
export interface LabelledCase {
  /** A stable id within the dataset (row number or the `id` column), never a path. */
  readonly id: string;
  /** Where the case sits in its source: the manifest's line number, or the image's index in the .npz split. */
  readonly row: number;
  readonly label: 0 | 1;
  /** Strata columns for this case (site, device, sex, age band, …), as strings; a column without a value here is missing. */
  readonly strata: Readonly<Record<string, string>>;
  /**
   * What the dataset says of the patient's age (whole years, or a range such as its population's),
   * for the intended-use gate; absent when it says nothing (PNG/JPEG cases then take evaluate's
   * `--patient-age-years`).
   */
  readonly patientAgeYears?: PatientAgeYears;
  /** A frame ready to preprocess (MedMNIST), or file bytes to decode (DICOM/PNG/JPEG from a manifest). */
  readonly image: { readonly kind: 'frame'; readonly frame: ImageFrame } | { readonly kind: 'file'; readonly bytes: Uint8Array };
}

export interface LabelledDataset {
  /** What it is, for the report (e.g. "PneumoniaMNIST test split, 624 images"); no paths of patients. */
  readonly description: string;
  /** SHA-256 of the dataset's content: the manifest or .npz file, plus the selection (split, part). */
  readonly sha256: string;
  readonly count: number;
  readonly strataColumns: readonly string[];
  /** How derived strata were derived, when the data has none of its own. */
  readonly strataNotes: readonly string[];
  /** What the dataset's images are, when the dataset declares it itself (a sidecar file); images that say it themselves (DICOM) keep their own. */
  readonly declaration?: DatasetDeclaration;
  cases(): AsyncIterable<LabelledCase>;
}

/** A declaration of what a dataset's images show, and where it came from (a sidecar file, the command line). */
export interface DatasetDeclaration {
  readonly values: RasterDeclaration;
  /** e.g. "sidecar pneumoniamnist.declaration.json", "command line". */
  readonly source: string;
}

/** One row of `--predictions` JSONL: a score from any model, its label, and strata. */
export interface PredictionRow {
  /** Line number in the predictions file. */
  readonly line: number;
  readonly id?: string;
  readonly score: number;
  readonly label: 0 | 1;
  readonly strata: Readonly<Record<string, string>>;
}

export interface PredictionSet {
  readonly description: string;
  readonly sha256: string;
  readonly rows: readonly PredictionRow[];
  readonly strataColumns: readonly string[];
}

export interface EvaluationDataSource {
  /** `medmnist:PATH:SPLIT[:part=K/M]`, or a CSV/JSONL manifest with `path` (or `file`), `label` and strata columns. */
  openDataset(spec: string, options: { readonly strata?: readonly string[] }): Promise<LabelledDataset>;
  /** JSONL rows `{ score, label, ...strata }`. */
  readPredictions(path: string, options: { readonly strata?: readonly string[] }): Promise<PredictionSet>;
  /**
   * A small text file (criteria, an answers file), with its SHA-256: at most `maxBytes` (default
   * 256 KiB: criteria files are a few hundred bytes), refused before it is read when larger (INPUT_TOO_LARGE); a missing file
   * INPUT_NOT_FOUND, a directory or an unreadable one INPUT_UNREADABLE. `what` names it in messages.
   */
  readText(path: string, options?: { readonly maxBytes?: number; readonly what?: string }): Promise<{ readonly text: string; readonly sha256: string }>;
}

/** Charts for the report, described by their data; the adapter draws them with a charting library. */
export type ChartData =
  | {
      readonly kind: 'roc';
      readonly title: string;
      readonly curve: readonly { readonly fpr: number; readonly tpr: number }[];
      readonly band: readonly { readonly fpr: number; readonly tprLow: number; readonly tprHigh: number }[];
    }
  | {
      readonly kind: 'reliability';
      readonly title: string;
      readonly bins: readonly { readonly meanPredicted: number; readonly fractionPositive: number; readonly count: number }[];
    }
  | {
      readonly kind: 'decision-curve';
      readonly title: string;
      readonly points: readonly { readonly threshold: number; readonly model: number; readonly treatAll: number }[];
    }
  | {
      readonly kind: 'forest';
      readonly title: string;
      readonly rows: readonly { readonly stratum: string; readonly metric: string; readonly value: number; readonly low: number; readonly high: number }[];
      readonly overall: readonly { readonly metric: string; readonly value: number }[];
    }
  | { readonly kind: 'confusion'; readonly title: string; readonly tp: number; readonly fp: number; readonly tn: number; readonly fn: number }
  | {
      readonly kind: 'shift';
      readonly title: string;
      readonly rows: readonly { readonly variable: string; readonly psi: number; readonly differs: boolean }[];
    }
  | {
      readonly kind: 'shift-bins';
      readonly title: string;
      /** Per bin (in order, labelled by its range), the share of the reference and of the evaluated set in it. */
      readonly bins: readonly { readonly bin: string; readonly reference: number; readonly evaluated: number }[];
    };

export interface ChartRenderer {
  /** A standalone SVG document. */
  renderSvg(chart: ChartData): Promise<string>;
}

export interface EvaluationOutput {
  /**
   * Checks, before any work, that `directory` can be the output folder: OUTPUT_PATH_INVALID when it is
   * a file or its path runs through one, and with `empty` EVAL_OUTPUT_EXISTS when it holds anything. A
   * folder that does not exist yet is fine (it is made when written).
   */
  checkOutputFolder(directory: string, options: { readonly empty: boolean }): Promise<void>;
  /** Writes files into `directory` (created if needed). */
  writeFiles(directory: string, files: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Writes one line per item (a newline after each) into `directory/name`, streaming, so that a
   * million cases never sit in memory as one string; returns the file's SHA-256 and size.
   */
  writeLines(directory: string, name: string, lines: Iterable<string>): Promise<{ readonly sha256: string; readonly bytes: number }>;
  /**
   * Writes a derived bundle: copies the source bundle's model file byte for byte and writes the new
   * manifest. Refuses (EVAL_OUTPUT_EXISTS) an existing non-empty folder or the source folder itself.
   */
  writeDerivedBundle(sourceDirectory: string, directory: string, modelFile: string, manifestJson: string): Promise<void>;
  /**
   * Writes a new bundle (`vigil model init`): the model file's bytes and the manifest, into a folder
   * that does not exist or is empty (EVAL_OUTPUT_EXISTS otherwise).
   */
  writeNewBundle(directory: string, modelFile: string, modelBytes: Uint8Array, manifestJson: string): Promise<void>;
}
