import { z } from 'zod';
import { MONITOR_SIGNAL_NAMES } from './case-signals.js';
import { roundSummary, type EmbeddingProjection } from './embedding-summary.js';
import { reviewStrataOfValidationMetrics, type ReviewStratum } from './review-monitors.js';

/** The file a model bundle may carry with its monitors' reference: per-image signal values of its validation images. */
export const MONITORING_REFERENCE_FILE = 'monitoring-reference.json';

/**
 * `monitoring-reference.json`: one array per signal (MONITOR_SIGNAL_NAMES), one value per validation
 * image scored through the inference chain (null: none, e.g. no probability for an image the gate
 * rejected), all of one length. `vigil model init` writes it; a deployment of the version designs its
 * monitors from it instead of waiting for a production baseline.
 *
 * A file may carry only the `embedding` part (no `signals`, and a `signalsNote` saying why): its version's
 * signals are then watched against a production baseline, and its embedding against its own reference
 * images (the demo bundle: its monitors start from a baseline, which alone can watch acquisition metadata).
 */
export const monitoringReferenceFileSchema = z
  .strictObject({
    format: z.literal('vigil-monitoring-reference/1'),
    /** What the values were measured on (e.g. the validation split's description). */
    source: z.string().max(500),
    cases: z.number().int().min(50).max(1_000_000),
    signals: z.record(z.string(), z.array(z.number().nullable())).optional(),
    /** Why the file has no `signals` (the version's signals are watched against a production baseline). */
    signalsNote: z.string().max(500).optional(),
    /**
     * The embedding summary's projection (domain/monitoring/embedding-summary.ts), fitted on these images'
     * embeddings (the manifest's `embedding` output), and each image's projection rounded to float32 (null:
     * none, an image the gate rejected): the reference sample of the multivariate drift detectors.
     */
    embedding: z
      .strictObject({
        output: z.string().min(1),
        dimension: z.number().int().min(1).max(4096),
        mean: z.array(z.number()),
        /** k unit components, each `dimension` values, by decreasing variance. */
        components: z.array(z.array(z.number())).min(1),
        variances: z.array(z.number()),
        totalVariance: z.number(),
        projected: z.array(z.array(z.number()).nullable()),
      })
      .optional(),
    /** Why the file has no `embedding` (e.g. the model declares no embedding output). */
    embeddingNote: z.string().max(500).optional(),
    /**
     * The labels' summary the review detectors need (review-monitors.ts): per review stratum (confident
     * positives, confident negatives), its labelled reference cases, those the label contradicts, and its
     * share of all reference cases. Absent in a file written before it, or when no case had a label.
     */
    review: z
      .strictObject({
        strata: z
          .array(
            z
              .strictObject({
                name: z.string().min(1).max(100),
                label: z.string().min(1).max(200),
                referenceCases: z.number().int().min(1),
                referenceWrong: z.number().int().min(0),
                share: z.number().gt(0).lte(1),
              })
              .refine((s) => s.referenceWrong <= s.referenceCases, { message: 'referenceWrong exceeds referenceCases' }),
          )
          .min(1),
      })
      .optional(),
  })
  .superRefine((file, ctx) => {
    const e = file.embedding;
    if (e !== undefined) {
      const k = e.components.length;
      const bad = (path: string[], message: string): void => ctx.addIssue({ code: 'custom', path: ['embedding', ...path], message });
      if (e.mean.length !== e.dimension) bad(['mean'], `expected ${e.dimension} values`);
      if (e.components.some((c) => c.length !== e.dimension)) bad(['components'], `each needs ${e.dimension} values`);
      if (e.variances.length !== k) bad(['variances'], `expected ${k} values`);
      if (e.projected.length !== file.cases) bad(['projected'], `expected ${file.cases} entries`);
      if (e.projected.some((p) => p !== null && p.length !== k)) bad(['projected'], `each needs ${k} values`);
    }
    if (file.signals === undefined) {
      if (file.embedding === undefined) ctx.addIssue({ code: 'custom', path: ['signals'], message: 'a file without signals must carry an embedding' });
      return;
    }
    for (const name of MONITOR_SIGNAL_NAMES) {
      const values = file.signals[name];
      if (values === undefined) ctx.addIssue({ code: 'custom', path: ['signals', name], message: 'missing' });
      else if (values.length !== file.cases) ctx.addIssue({ code: 'custom', path: ['signals', name], message: `expected ${file.cases} values` });
    }
  });
export type MonitoringReferenceFile = z.infer<typeof monitoringReferenceFileSchema>;

/** The reference as designMonitors takes it (null → NaN); undefined for a file that carries only an embedding reference. */
export function referenceColumnsOf(file: MonitoringReferenceFile): ReadonlyMap<string, Float64Array> | undefined {
  const signals = file.signals;
  if (signals === undefined) return undefined;
  return new Map(MONITOR_SIGNAL_NAMES.map((name) => [name, Float64Array.from(signals[name] ?? [], (v) => (v === null ? Number.NaN : v))]));
}

/** Columns (one per signal, equal lengths) as the file's text. */
export function monitoringReferenceFileOf(columns: ReadonlyMap<string, ArrayLike<number>>, source: string): MonitoringReferenceFile {
  const cases = columns.get(MONITOR_SIGNAL_NAMES[0]!)?.length ?? 0;
  return {
    format: 'vigil-monitoring-reference/1',
    source,
    cases,
    signals: Object.fromEntries(MONITOR_SIGNAL_NAMES.map((name) => [name, Array.from(columns.get(name) ?? [], (v) => (Number.isFinite(v) ? v : null))])),
  };
}

/** A version's review strata (the labels' summary), or why it has none. */
export type VersionReviewReference =
  { readonly kind: 'strata'; readonly strata: readonly ReviewStratum[]; readonly source: string } | { readonly kind: 'none'; readonly reason: string };

/**
 * The review strata a version's monitoring reference carries; else those its manifest's recorded
 * validation metrics give (`reviewStrataOfValidationMetrics`, for a bundle without a labelled
 * reference, e.g. the demo's); else why it has none.
 */
export function reviewReferenceOf(file: MonitoringReferenceFile | undefined, manifestMetrics: unknown): VersionReviewReference {
  if (file?.review !== undefined) return { kind: 'strata', strata: file.review.strata, source: `${MONITORING_REFERENCE_FILE} (validation labels)` };
  const fromMetrics = reviewStrataOfValidationMetrics(manifestMetrics);
  if (fromMetrics !== undefined) return { kind: 'strata', strata: fromMetrics, source: "the manifest's validation metrics (metrics.val.notReferred)" };
  return {
    kind: 'none',
    reason:
      file === undefined
        ? `the version carries no ${MONITORING_REFERENCE_FILE} and its manifest records no validation confusion counts (metrics.val.notReferred): no reference error rates`
        : `its ${MONITORING_REFERENCE_FILE} has no labels' summary and its manifest records no validation confusion counts (metrics.val.notReferred): no reference error rates`,
  };
}

/** A version's embedding reference as the monitors use it: the projection, and the reference images' summaries. */
export interface EmbeddingReference {
  readonly output: string;
  readonly projection: EmbeddingProjection;
  /** The reference images' projections (float32), those that have one (the gate let them through), in file order. */
  readonly projected: readonly Float32Array[];
}

/**
 * What a version's monitoring reference gives the embedding monitors: its projection and reference
 * sample, or why there is none (no reference file, or a model without an embedding output).
 */
export function embeddingReferenceOf(
  file: MonitoringReferenceFile | undefined,
): { readonly kind: 'projection'; readonly reference: EmbeddingReference } | { readonly kind: 'none'; readonly reason: string } {
  if (file === undefined) {
    return { kind: 'none', reason: `the version carries no ${MONITORING_REFERENCE_FILE}, so no projection of its embeddings` };
  }
  const e = file.embedding;
  if (e === undefined) return { kind: 'none', reason: file.embeddingNote ?? `its ${MONITORING_REFERENCE_FILE} has no embedding projection` };
  return {
    kind: 'projection',
    reference: {
      output: e.output,
      projection: {
        dimension: e.dimension,
        mean: Float64Array.from(e.mean),
        components: Float64Array.from(e.components.flat()),
        variances: Float64Array.from(e.variances),
        totalVariance: e.totalVariance,
      },
      projected: e.projected.filter((p): p is number[] => p !== null).map((p) => roundSummary(p)),
    },
  };
}

/** The file's `embedding` section from a fitted projection and each image's summary (null: none). */
export function embeddingSectionOf(
  output: string,
  projection: EmbeddingProjection,
  projected: readonly (Float32Array | null)[],
): NonNullable<MonitoringReferenceFile['embedding']> {
  const d = projection.dimension;
  const k = projection.variances.length;
  return {
    output,
    dimension: d,
    mean: Array.from(projection.mean),
    components: Array.from({ length: k }, (_, c) => Array.from(projection.components.subarray(c * d, (c + 1) * d))),
    variances: Array.from(projection.variances),
    totalVariance: projection.totalVariance,
    projected: projected.map((p) => (p === null ? null : Array.from(p))),
  };
}
