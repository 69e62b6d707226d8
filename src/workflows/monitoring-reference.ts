import { decideCases } from '../domain/evaluation/evaluate-predictions.js';
import type { DecisionPolicy } from '../domain/model/model-manifest.js';
import { MONITOR_SIGNAL_NAMES } from '../domain/monitoring/case-signals.js';
import type { ScoredCases } from './score-dataset.js';
import type { ModelManifest } from '../domain/model/model-manifest.js';
import { EMBEDDING_SUMMARY_COMPONENTS, fitEmbeddingProjection, projectEmbedding, roundSummary } from '../domain/monitoring/embedding-summary.js';
import { embeddingSectionOf, type MonitoringReferenceFile } from '../domain/monitoring/monitoring-reference-file.js';
import { reviewStrataOfReference } from '../domain/monitoring/review-monitors.js';

/**
 * A scored dataset's per-image monitor values (MONITOR_SIGNAL_NAMES), built as the server records a judged
 * image (domain/monitoring/case-signals.ts) and as the monitoring proof builds its streams: a rejected
 * image has no probability, decision or referral; a decided one is referred by the bundle's own policy
 * (gate warnings included when it refers them). Undefined when an image could not be read (its features
 * are missing, so the columns would not line up).
 */
export function monitoringReferenceOf(scored: ScoredCases, policy: DecisionPolicy): ReadonlyMap<string, Float64Array> | undefined {
  if (scored.failed > 0) return undefined;
  const n = scored.total;
  const column = (): Float64Array => new Float64Array(n).fill(Number.NaN);
  const cols = new Map(MONITOR_SIGNAL_NAMES.map((name) => [name, column()]));
  const col = (name: string): Float64Array => cols.get(name)!;
  for (const name of ['mean', 'std', 'laplacianVariance', 'noise', 'oodDistance']) {
    const values = scored.shiftFeatures.get(name);
    if (values === undefined || values.length !== n) return undefined;
    col(name).set(values);
  }
  col('gateRejected').fill(0);
  col('gateWarned').fill(0);
  for (const e of scored.excluded) if (e.gate !== null) col('gateRejected')[e.seq] = 1;
  const decisions = decideCases({ probability: scored.probabilities, label: scored.labels, strata: new Map(), gateWarned: scored.gateWarned }, policy);
  scored.seqs.forEach((seq, j) => {
    col('probability')[seq] = scored.probabilities[j]!;
    col('positive')[seq] = decisions[j] === 'positive' ? 1 : 0;
    col('referred')[seq] = decisions[j] === 'refer' ? 1 : 0;
    col('gateWarned')[seq] = scored.gateWarned[j]!;
  });
  return cols;
}

/**
 * The monitoring reference's embedding part: the projection (embedding-summary.ts, k = 8) fitted on the
 * scored images' embeddings and each image's summary, or a note saying why there is none.
 */
export function embeddingReferenceOf(
  scored: ScoredCases,
  manifest: Pick<ModelManifest, 'embedding'>,
): Pick<MonitoringReferenceFile, 'embedding' | 'embeddingNote'> {
  const spec = manifest.embedding;
  if (spec === undefined) return { embeddingNote: 'the model declares no embedding output (manifest embedding): no embedding summary is kept' };
  const all = scored.embeddings ?? [];
  const rows = all.filter((e): e is Float32Array => e !== null);
  if (rows.length <= EMBEDDING_SUMMARY_COMPONENTS) {
    return {
      embeddingNote: `${rows.length} reference images reached the model: too few for ${EMBEDDING_SUMMARY_COMPONENTS} principal components of the embedding`,
    };
  }
  const projection = fitEmbeddingProjection(rows, EMBEDDING_SUMMARY_COMPONENTS);
  return {
    embedding: embeddingSectionOf(
      spec.output,
      projection,
      all.map((e) => (e === null ? null : roundSummary(projectEmbedding(projection, e)))),
    ),
  };
}

/**
 * The monitoring reference's labels' summary (the review detectors' p₀, review-monitors.ts): per review
 * stratum of `columns` (the scored images' signal values, `monitoringReferenceOf`), its labelled cases and
 * those whose label contradicts the decision; nothing when no confident decision had a label.
 */
export function reviewReferenceSectionOf(scored: ScoredCases, columns: ReadonlyMap<string, ArrayLike<number>>): Pick<MonitoringReferenceFile, 'review'> {
  const labels = new Float64Array(scored.total).fill(Number.NaN);
  scored.seqs.forEach((seq, j) => (labels[seq] = scored.labels[j]!));
  const strata = reviewStrataOfReference(columns, labels);
  return strata.length === 0 ? {} : { review: { strata } };
}
