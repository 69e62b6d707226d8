import type { ModelManifest } from '../model/model-manifest.js';
import { shortVersionId, type ModelVersion } from './model-version.js';

/** An estimate with its 95 % interval, as evaluation reports give it. */
export interface Estimate {
  readonly value: number;
  readonly ciLow: number;
  readonly ciHigh: number;
}

/** What a model card needs from one `vigil evaluate` report shipped in the bundle (reports/<name>/report.json). */
export interface EvaluationSummary {
  readonly name: string;
  readonly dataset: { readonly description: string; readonly sha256: string };
  readonly overall: { readonly n: number; readonly positives: number; readonly metrics: Readonly<Record<string, Estimate | undefined>> };
  readonly strata: readonly {
    readonly column: string;
    readonly level: string;
    readonly n: number;
    readonly metrics: Readonly<Record<string, Estimate | undefined>>;
  }[];
  readonly gate: { readonly total: number; readonly rejected: number; readonly reasons: Readonly<Record<string, number>> } | null;
}

const CARD_METRICS = ['sensitivity', 'specificity', 'auroc', 'ppv', 'ece'] as const;
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const est = (e: Estimate | undefined, asPercent: boolean): string =>
  e === undefined
    ? '—'
    : asPercent
      ? `${pct(e.value)} (${pct(e.ciLow)}–${pct(e.ciHigh)})`
      : `${e.value.toFixed(3)} (${e.ciLow.toFixed(3)}–${e.ciHigh.toFixed(3)})`;
const cell = (metric: string, e: Estimate | undefined): string => est(e, metric === 'sensitivity' || metric === 'specificity' || metric === 'ppv');

/**
 * A plain-language model card for one registered version (Markdown): what it is for and not for, how
 * it performed per stratum with 95 % intervals (from the evaluation reports in its bundle), its known
 * failure modes (what its gate refuses, the strata where it did worst, reports' warnings), and how its
 * uncertainty is shown to a reader. Generated, never hand-edited, so it cannot drift from the version.
 * `version` null: the card a bundle ships before it is registered (`vigil model init` writes it), whose
 * lineage comes from the manifest alone.
 */
export function renderModelCard(manifest: ModelManifest, version: ModelVersion | null, evaluations: readonly EvaluationSummary[]): string {
  const use = manifest.intendedUse;
  const lines: string[] = [];
  lines.push(`# ${manifest.name} — version ${manifest.version}`, '');
  lines.push(
    version === null
      ? `The card shipped in the bundle, written before it was registered (a registered version's card, with its version id: \`vigil model card VERSION\`). Model file SHA-256 \`${manifest.model.sha256}\`.`
      : `Registered version \`${shortVersionId(version.versionId)}\` (SHA-256 of the whole bundle: \`${version.versionId}\`), ` +
          `registered ${version.registeredAt} by ${version.registeredBy}. Model file SHA-256 \`${manifest.model.sha256}\`.`,
    '',
  );
  lines.push('## What it is for', '', use.summary, '', `- Population: ${use.population}`);
  lines.push(
    `- Images: ${use.modalities.join(', ')} of the ${use.bodyParts.join(', ').toLowerCase()}${use.views.length > 0 ? `, ${use.views.join(' or ')} view` : ''}`,
  );
  if (use.patientAgeYears !== undefined) lines.push(`- Patients aged ${use.patientAgeYears.min} to ${use.patientAgeYears.max} years`);
  lines.push(`- Finds: ${manifest.outputs.flatMap((o) => o.findings.map((f) => f.label)).join(', ')}`, '');
  lines.push('## Not for', '', ...(use.notFor.length === 0 ? ['(the manifest names nothing)'] : use.notFor.map((x) => `- ${x}`)), '');

  lines.push('## How it performed', '');
  if (evaluations.length === 0) lines.push('No evaluation report ships with this version: evaluate it (`vigil evaluate`) before any use.', '');
  for (const e of evaluations) {
    lines.push(
      `### ${e.dataset.description}`,
      '',
      `Report \`${e.name}\`, data SHA-256 \`${e.dataset.sha256}\`; ${e.overall.n} cases judged, ${e.overall.positives} with the finding.`,
      '',
    );
    lines.push(`| Stratum | n | ${CARD_METRICS.join(' | ')} |`, `|---|---|${CARD_METRICS.map(() => '---').join('|')}|`);
    lines.push(`| all | ${e.overall.n} | ${CARD_METRICS.map((m) => cell(m, e.overall.metrics[m])).join(' | ')} |`);
    for (const s of e.strata) lines.push(`| ${s.column} = ${s.level} | ${s.n} | ${CARD_METRICS.map((m) => cell(m, s.metrics[m])).join(' | ')} |`);
    lines.push('', 'Intervals are 95 %; a dash is a metric the report does not give for that stratum (or its labels do not define).', '');
  }

  lines.push('## Known failure modes', '');
  const failures: string[] = [];
  for (const e of evaluations) {
    const worst = [...e.strata]
      .filter((s) => s.metrics.specificity !== undefined)
      .sort((a, b) => a.metrics.specificity!.value - b.metrics.specificity!.value)[0];
    if (worst !== undefined && e.overall.metrics.specificity !== undefined && worst.metrics.specificity!.value < e.overall.metrics.specificity.value - 0.05) {
      failures.push(
        `On ${e.dataset.description}, specificity falls to ${est(worst.metrics.specificity, true)} where ${worst.column} = ${worst.level} (overall ${est(e.overall.metrics.specificity, true)}): more false alarms there.`,
      );
    }
    if (e.gate !== null && e.gate.total > 0) {
      const reasons = Object.entries(e.gate.reasons).sort((a, b) => b[1] - a[1]);
      if (reasons.length > 0)
        failures.push(
          `On ${e.dataset.description}, its gate flagged ${reasons.map(([r, n]) => `${r.replaceAll('_', ' ')} (${n})`).join(', ')} of ${e.gate.total} images; ${e.gate.rejected} ${e.gate.rejected === 1 ? 'was' : 'were'} refused.`,
        );
    }
  }
  failures.push('Images outside its intended use (other modalities, body parts, views or ages) are refused or referred by its gate, not judged.');
  lines.push(...failures.map((f) => `- ${f}`), '');

  lines.push('## How its uncertainty is shown', '');
  lines.push(`Scores are calibrated (${manifest.calibration.method}) so that a probability can be read as one.`);
  for (const [label, p] of Object.entries(manifest.decisionPolicy)) {
    const band =
      p.abstainBand.low < p.abstainBand.high
        ? `between ${p.abstainBand.low.toFixed(3)} and ${p.abstainBand.high.toFixed(3)} go to a human reader (refer)`
        : 'are never referred for uncertainty alone';
    lines.push(
      `- ${label}: positive at a probability of ${p.threshold.toFixed(3)} or more (a missed finding costs ${p.costFalseNegative}, a false alarm ${p.costFalsePositive}, at prevalence ${p.prevalence.toFixed(3)}); probabilities ${band}; a gate warning ${p.onGateWarn === 'refer' ? 'refers the case' : 'is shown with the decision'}.`,
    );
  }
  lines.push('');
  lines.push('## Lineage', '');
  if (version === null) {
    const parent = manifest.parent;
    lines.push(
      `- Parent: ${parent === undefined ? 'none (an original)' : `${parent.id} ${parent.version} (model file SHA-256 \`${parent.sha256}\`)`}`,
      `- Training data SHA-256: \`${manifest.trainingData.sha256}\` (${manifest.trainingData.dataset}, ${manifest.trainingData.licence})`,
      '',
    );
    return lines.join('\n');
  }
  lines.push(
    `- Parent version: ${version.parentVersionId === null ? 'none (an original)' : `\`${version.parentVersionId}\``}${version.lineage.derivedBy === null ? '' : `, derived by \`${version.lineage.derivedBy}\``}`,
  );
  lines.push(
    `- Training data SHA-256: ${version.lineage.trainingDataSha256 === null ? 'not stated' : `\`${version.lineage.trainingDataSha256}\``} (${manifest.trainingData.dataset}, ${manifest.trainingData.licence})`,
  );
  lines.push(`- Validation data SHA-256: ${version.lineage.validationDataSha256 === null ? 'not stated' : `\`${version.lineage.validationDataSha256}\``}`);
  lines.push(`- Code: ${version.lineage.codeReference ?? 'not stated'}`, '');
  return lines.join('\n');
}
