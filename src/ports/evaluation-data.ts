import type { ImageFrame, PatientAgeYears } from '../domain/image/image-frame.js';

/** One labelled case of an evaluation dataset. */
export interface LabelledCase {
  /** A stable id within the dataset (row number or the `id` column), never a path. */
  readonly id: string;
  readonly label: 0 | 1;
  /** Strata columns for this case (site, device, sex, age band, …), as strings. */
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
  cases(): AsyncIterable<LabelledCase>;
}

/** One row of `--predictions` JSONL: a score from any model, its label, and strata. */
export interface PredictionRow {
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
  /** A small text file (criteria), with its SHA-256. */
  readText(path: string): Promise<{ readonly text: string; readonly sha256: string }>;
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
  | { readonly kind: 'confusion'; readonly title: string; readonly tp: number; readonly fp: number; readonly tn: number; readonly fn: number };

export interface ChartRenderer {
  /** A standalone SVG document. */
  renderSvg(chart: ChartData): Promise<string>;
}

export interface EvaluationOutput {
  /** Writes files into `directory` (created if needed). */
  writeFiles(directory: string, files: Readonly<Record<string, string>>): Promise<void>;
  /**
   * Writes a derived bundle: copies the source bundle's model file byte for byte and writes the new
   * manifest. Refuses (EVAL_OUTPUT_EXISTS) an existing non-empty folder or the source folder itself.
   */
  writeDerivedBundle(sourceDirectory: string, directory: string, modelFile: string, manifestJson: string): Promise<void>;
}
