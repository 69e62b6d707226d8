import type { ConceptCode } from '../results/case-result.js';
import type { ModelManifest } from './model-manifest.js';

/**
 * The coded concepts of a model's findings, by label, from the configured model's manifest. A case
 * judged by another model (its SHA-256 differs) keeps its labels only: the map is empty.
 */
export function findingCodesOf(manifest: ModelManifest, judgedBy: { readonly sha256: string }): Map<string, ConceptCode> {
  if (manifest.model.sha256 !== judgedBy.sha256) return new Map();
  const codes = new Map<string, ConceptCode>();
  for (const output of manifest.outputs) for (const finding of output.findings) if (finding.code !== undefined) codes.set(finding.label, finding.code);
  return codes;
}
