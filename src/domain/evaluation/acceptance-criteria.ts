import { PlatformError } from '../errors.js';
import {
  abstentionTargets,
  stratumScope,
  type AbstentionRate,
  type Estimate,
  type EvaluationMetrics,
  type OverallMetrics,
  type StratumMetrics,
} from './evaluate-predictions.js';
import { minimumBootstrapReplicates } from './stratified-bootstrap.js';

/**
 * Acceptance criteria as data, written before the test. One criterion per line (`#` starts a
 * comment), or a JSON array of the same strings, or `{ "criteria": [...] }`:
 *
 *   auroc.ci_low >= 0.90
 *   sensitivity.ci_low >= 0.90 in every site with n >= 50
 *   ece <= 0.05
 *   refer_rate <= 0.15
 *   specificity.ci_low >= 0.80 in every site with negatives >= 50
 *   decided_wrong_rate.ci_low <= target
 *   auroc noninferior to reference margin 0.02
 *
 * `METRIC[.value|.ci_low|.ci_high] OP (NUMBER|target) [in every COLUMN with n|positives|negatives >= K]`,
 * OP one of >= <= > <. `target` is the most the abstain band's stated target allows for that rate
 * (decided_wrong_rate, missed_finding_rate, false_alarm_rate; see abstentionTargets).
 * The non-inferiority form passes when the lower 95% bound of (AUROC − reference AUROC) on the same
 * cases is above −margin. The bound comes from paired DeLong unless the line chooses the paired
 * bootstrap: `auroc noninferior to reference margin 0.02 method paired-bootstrap [replicates N]
 * [seed S]` (replicates and seed default to the evaluation's `--replicates` and `--seed`). In a JSON
 * file the same can be written as an object:
 * `{ "criterion": "auroc noninferior to reference margin 0.02", "method": "paired-bootstrap", "replicates": 2000, "seed": 7 }`.
 */
export const OVERALL_METRICS = {
  n: (m) => ({ value: m.n, ciLow: m.n, ciHigh: m.n, method: 'count' }),
  auroc: (m) => m.auroc,
  auroc_bootstrap: (m) => m.aurocBootstrap,
  sensitivity: (m) => m.sensitivity,
  specificity: (m) => m.specificity,
  ppv: (m) => m.ppv,
  npv: (m) => m.npv,
  accuracy: (m) => m.accuracy,
  ppv_at_prevalence: (m) => m.ppvAtPrevalence,
  npv_at_prevalence: (m) => m.npvAtPrevalence,
  brier: (m) => m.brier,
  ece: (m) => m.ece,
  calibration_slope: (m) => m.calibrationSlope,
  calibration_intercept: (m) => m.calibrationIntercept,
  refer_rate: (m) => m.referRate,
  decided_wrong_rate: (m) => m.abstention.decidedWrong,
  missed_finding_rate: (m) => m.abstention.missedFinding,
  false_alarm_rate: (m) => m.abstention.falseAlarm,
  error_rate_non_referred: (m) => m.nonReferred.errorRate,
  sensitivity_non_referred: (m) => m.nonReferred.sensitivity,
  specificity_non_referred: (m) => m.nonReferred.specificity,
} as const satisfies Record<string, (m: OverallMetrics) => Estimate>;

export const STRATUM_METRICS = {
  n: (s) => ({ value: s.n, ciLow: s.n, ciHigh: s.n, method: 'count' }),
  auroc: (s) => s.auroc,
  sensitivity: (s) => s.sensitivity,
  specificity: (s) => s.specificity,
  brier: (s) => s.brier,
  ece: (s) => s.ece,
  refer_rate: (s) => s.referRate,
  decided_wrong_rate: (s) => s.abstention.decidedWrong,
  missed_finding_rate: (s) => s.abstention.missedFinding,
  false_alarm_rate: (s) => s.abstention.falseAlarm,
} as const satisfies Record<string, (s: StratumMetrics) => Estimate>;

/** Metrics whose bound may be written `target`: the abstain band's stated target for that rate. */
const TARGET_METRICS: readonly string[] = ['decided_wrong_rate', 'missed_finding_rate', 'false_alarm_rate'] satisfies AbstentionRate[];

const EXTRA_METRICS = ['gate_reject_rate'] as const;

type Op = '>=' | '<=' | '>' | '<';
type Field = 'value' | 'ci_low' | 'ci_high';

export type Criterion =
  | {
      readonly kind: 'threshold';
      readonly line: number;
      readonly text: string;
      readonly metric: string;
      readonly field: Field;
      readonly op: Op;
      /** A number, or the abstain band's target for this rate. */
      readonly bound: number | 'target';
      /** Strata of `column` whose count of cases (`n`), of cases with the finding or without it is at least `minN`. */
      readonly perStratum?: { readonly column: string; readonly count: StratumCount; readonly minN: number };
    }
  | {
      readonly kind: 'noninferiority';
      readonly line: number;
      readonly text: string;
      readonly metric: 'auroc';
      readonly margin: number;
      readonly method: NoninferiorityMethod;
      /** Paired bootstrap only; when absent, the evaluation's replicate count and seed. */
      readonly replicates?: number;
      readonly seed?: number;
    };

export type NoninferiorityMethod = 'delong' | 'paired-bootstrap';
export type StratumCount = 'n' | 'positives' | 'negatives';

/**
 * Replicates of a paired bootstrap a criterion may ask for: at least 5 beyond each end of the 95%
 * interval (minimumBootstrapReplicates), fewer make the 2.5% percentile too noisy to decide on; more only cost time.
 */
const BOOTSTRAP_REPLICATES = { min: minimumBootstrapReplicates(0.95), max: 100_000 } as const;

const THRESHOLD =
  /^([a-z_]+)(?:\.(value|ci_low|ci_high))?\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?|target)(?:\s+in\s+every\s+([A-Za-z0-9_-]+)\s+with\s+(n|positives|negatives)\s*>=\s*(\d+))?$/;
const NONINFERIOR =
  /^([a-z_]+)\s+noninferior\s+to\s+reference\s+margin\s+(\d+(?:\.\d+)?)(?:\s+method\s+([a-z-]+))?(?:\s+replicates\s+(\d+))?(?:\s+seed\s+(\d+))?$/;
const JSON_OBJECT_KEYS = ['criterion', 'method', 'replicates', 'seed'];

function lines(text: string): { line: number; text: string }[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (cause) {
      throw new PlatformError('CRITERIA_INVALID', 'The criteria file starts like JSON but is not valid JSON', { line: 1 }, { cause });
    }
    const list = Array.isArray(json) ? json : (json as { criteria?: unknown }).criteria;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' || isCriterionObject(x))) {
      throw new PlatformError(
        'CRITERIA_INVALID',
        'A JSON criteria file must be an array of strings (or of { "criterion", "method", "replicates", "seed" } objects), or { "criteria": [...] }',
        { line: 1 },
      );
    }
    return list.map((t, i) => ({ line: i + 1, text: typeof t === 'string' ? t.trim() : criterionObjectText(t) }));
  }
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t.replace(/#.*$/, '').trim() }))
    .filter((l) => l.text.length > 0);
}

interface CriterionObject {
  readonly criterion: string;
  readonly method?: string;
  readonly replicates?: number;
  readonly seed?: number;
}

function isCriterionObject(x: unknown): x is CriterionObject {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  return (
    Object.keys(o).every((k) => JSON_OBJECT_KEYS.includes(k)) &&
    typeof o.criterion === 'string' &&
    (o.method === undefined || typeof o.method === 'string') &&
    (o.replicates === undefined || typeof o.replicates === 'number') &&
    (o.seed === undefined || typeof o.seed === 'number')
  );
}

/** The object form written as the one-line form, so that both parse (and read in the report) alike. */
function criterionObjectText(o: CriterionObject): string {
  return [
    o.criterion.trim(),
    o.method === undefined ? '' : `method ${o.method}`,
    o.replicates === undefined ? '' : `replicates ${o.replicates}`,
    o.seed === undefined ? '' : `seed ${o.seed}`,
  ]
    .filter((part) => part.length > 0)
    .join(' ');
}

/** Parses a criteria file; throws CRITERIA_INVALID naming the first bad line (by number, and the text, which is not patient data). */
export function parseCriteria(text: string): Criterion[] {
  const out: Criterion[] = [];
  for (const { line, text: t } of lines(text)) {
    const bad = (why: string): PlatformError => new PlatformError('CRITERIA_INVALID', `Criteria line ${line} ("${t.slice(0, 120)}"): ${why}`, { line });
    const ni = NONINFERIOR.exec(t);
    if (ni !== null) {
      if (ni[1] !== 'auroc') throw bad(`non-inferiority is defined for auroc only, not "${ni[1]}"`);
      const method = ni[3] ?? 'delong';
      if (method !== 'delong' && method !== 'paired-bootstrap') throw bad(`unknown non-inferiority method "${method}"; known: delong, paired-bootstrap`);
      if (method === 'delong' && (ni[4] !== undefined || ni[5] !== undefined)) throw bad('replicates and seed apply to method paired-bootstrap only');
      const replicates = ni[4] === undefined ? undefined : Number(ni[4]);
      if (replicates !== undefined && (replicates < BOOTSTRAP_REPLICATES.min || replicates > BOOTSTRAP_REPLICATES.max)) {
        throw bad(`replicates must be between ${BOOTSTRAP_REPLICATES.min} and ${BOOTSTRAP_REPLICATES.max}`);
      }
      const seed = ni[5] === undefined ? undefined : Number(ni[5]);
      if (seed !== undefined && seed > 0xffffffff) throw bad('seed must be an integer from 0 to 4294967295');
      out.push({
        kind: 'noninferiority',
        line,
        text: t,
        metric: 'auroc',
        margin: Number(ni[2]),
        method,
        ...(replicates === undefined ? {} : { replicates }),
        ...(seed === undefined ? {} : { seed }),
      });
      continue;
    }
    const m = THRESHOLD.exec(t);
    if (m === null) {
      throw bad(
        'expected "METRIC[.value|.ci_low|.ci_high] OP NUMBER [in every COLUMN with n|positives|negatives >= K]" or "auroc noninferior to reference margin M [method delong|paired-bootstrap] [replicates N] [seed S]"',
      );
    }
    const metric = m[1]!;
    const perStratum = m[5] === undefined ? undefined : { column: m[5], count: m[6] as StratumCount, minN: Number(m[7]) };
    const known = perStratum === undefined ? [...Object.keys(OVERALL_METRICS), ...EXTRA_METRICS] : Object.keys(STRATUM_METRICS);
    if (!known.includes(metric)) throw bad(`unknown metric "${metric}"${perStratum === undefined ? '' : ' per stratum'}; known: ${known.join(', ')}`);
    if (m[4] === 'target' && !TARGET_METRICS.includes(metric)) throw bad(`"target" is a bound for ${TARGET_METRICS.join(', ')} only`);
    out.push({
      kind: 'threshold',
      line,
      text: t,
      metric,
      field: (m[2] ?? 'value') as Field,
      op: m[3] as Op,
      bound: m[4] === 'target' ? 'target' : Number(m[4]),
      ...(perStratum === undefined ? {} : { perStratum }),
    });
  }
  if (out.length === 0) throw new PlatformError('CRITERIA_INVALID', 'The criteria file holds no criterion', { line: 0 });
  return out;
}

/** `passed` and `failed` compare a measured number with its bound; `not_evaluable`: there was no number to compare (the sentence says why). */
export type CriterionStatus = 'passed' | 'failed' | 'not_evaluable';

export interface CriterionMeasurement {
  /** "overall", or "COLUMN=LEVEL" ("COLUMN=(missing)" for the cases without a value). */
  readonly scope: string;
  readonly estimate?: Estimate;
  /** `excluded`: a stratum below the criterion's minimum count, listed and not judged. */
  readonly status: CriterionStatus | 'excluded';
  /** True when passed or excluded. */
  readonly passed: boolean;
  readonly note?: string;
}

export interface CriterionResult {
  readonly line: number;
  readonly text: string;
  readonly status: CriterionStatus;
  /** status === 'passed'. */
  readonly passed: boolean;
  readonly measurements: readonly CriterionMeasurement[];
  /** One sentence for a reader who is not an engineer. */
  readonly sentence: string;
}

/** All passed → passed; any failed → failed; otherwise (something could not be evaluated) → not_evaluable. */
export function overallCriteriaStatus(results: readonly { readonly status: CriterionStatus }[]): CriterionStatus {
  if (results.some((r) => r.status === 'failed')) return 'failed';
  if (results.some((r) => r.status === 'not_evaluable')) return 'not_evaluable';
  return 'passed';
}

/** A paired bootstrap of (AUROC − reference AUROC) on the same cases, as run for a criterion. */
export interface PairedBootstrapComparison {
  readonly replicates: number;
  readonly seed: number;
  readonly difference: Estimate;
}

export interface CriteriaContext {
  readonly metrics: EvaluationMetrics;
  readonly gateRejectRate?: Estimate;
  /**
   * Paired comparison with a reference model on the same cases: this model minus the reference, by
   * paired DeLong (`difference`) and by each paired bootstrap the criteria asked for.
   */
  readonly comparison?: {
    readonly reference: string;
    readonly difference: Estimate;
    readonly pairedBootstrap?: readonly PairedBootstrapComparison[];
  };
}

/** The paired bootstraps (replicates, seed) that these criteria need, once each; defaults from the evaluation's options. */
export function pairedBootstrapSettings(
  criteria: readonly Criterion[],
  defaults: { readonly replicates: number; readonly seed: number },
): { replicates: number; seed: number }[] {
  const out: { replicates: number; seed: number }[] = [];
  for (const c of criteria) {
    if (c.kind !== 'noninferiority' || c.method !== 'paired-bootstrap') continue;
    const s = { replicates: c.replicates ?? defaults.replicates, seed: c.seed ?? defaults.seed };
    if (!out.some((o) => o.replicates === s.replicates && o.seed === s.seed)) out.push(s);
  }
  return out;
}

const NAMES: Record<string, string> = {
  auroc: 'the AUROC',
  auroc_bootstrap: 'the AUROC (bootstrap interval)',
  sensitivity: 'sensitivity',
  specificity: 'specificity',
  ppv: 'the positive predictive value',
  npv: 'the negative predictive value',
  accuracy: 'accuracy',
  ppv_at_prevalence: 'the positive predictive value at the stated prevalence',
  npv_at_prevalence: 'the negative predictive value at the stated prevalence',
  brier: 'the Brier score',
  ece: 'the expected calibration error',
  calibration_slope: 'the calibration slope',
  calibration_intercept: 'the calibration intercept',
  refer_rate: 'the share of cases referred to a human',
  decided_wrong_rate: 'the share of cases decided and wrong',
  missed_finding_rate: 'the share of cases with the finding decided negative (missed findings)',
  false_alarm_rate: 'the share of cases without the finding decided positive (false alarms)',
  error_rate_non_referred: 'the error rate among cases not referred',
  sensitivity_non_referred: 'sensitivity among cases not referred',
  specificity_non_referred: 'specificity among cases not referred',
  gate_reject_rate: 'the share of images the quality gate rejected',
  n: 'the number of cases',
};

const COUNT_WORDS: Record<StratumCount, string> = { n: 'cases', positives: 'cases with the finding', negatives: 'cases without the finding' };

function compare(x: number, op: Op, bound: number): boolean {
  switch (op) {
    case '>=':
      return x >= bound;
    case '<=':
      return x <= bound;
    case '>':
      return x > bound;
    case '<':
      return x < bound;
  }
}

function pick(e: Estimate, field: Field): number {
  return field === 'value' ? e.value : field === 'ci_low' ? e.ciLow : e.ciHigh;
}

const fmt = (x: number): string =>
  Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3)) : x === Infinity ? '∞' : x === -Infinity ? '−∞' : 'not available';

function describe(e: Estimate): string {
  return !Number.isNaN(e.ciLow) && e.ciLow !== e.ciHigh ? `${fmt(e.value)} (95% CI ${fmt(e.ciLow)} to ${fmt(e.ciHigh)})` : fmt(e.value);
}

const FIELD_WORDS: Record<Field, string> = { value: '', ci_low: 'the lower 95% bound of ', ci_high: 'the upper 95% bound of ' };
const OP_WORDS: Record<Op, string> = { '>=': 'at least', '<=': 'at most', '>': 'above', '<': 'below' };

/** Why an estimate cannot be compared with a bound, or undefined when it can. */
function whyNotEvaluable(e: Estimate, field: Field): string | undefined {
  if (e.notDefined !== undefined) return e.notDefined;
  if (Number.isNaN(pick(e, field))) return field === 'value' ? 'no value' : `no 95% interval (${e.method})`;
  return undefined;
}

const notEvaluable = (c: Criterion, scope: string, note: string, sentence: string): CriterionResult => ({
  line: c.line,
  text: c.text,
  status: 'not_evaluable',
  passed: false,
  measurements: [{ scope, status: 'not_evaluable', passed: false, note }],
  sentence,
});

/**
 * Evaluates each criterion. A criterion passes or fails only on a number measured in this
 * evaluation; where there is none (a metric the labels do not define, an interval not estimated, a
 * missing column or reference, a target the bundle does not state) it is `not_evaluable` and says
 * why: it never passes by default, and is not counted as a measured failure either.
 */
export function evaluateCriteria(criteria: readonly Criterion[], context: CriteriaContext): CriterionResult[] {
  const targets = abstentionTargets(context.metrics.options.abstentionTarget);
  return criteria.map((c): CriterionResult => {
    if (c.kind === 'noninferiority') {
      const comparison = context.comparison;
      if (comparison === undefined) {
        return notEvaluable(
          c,
          'overall',
          'no reference model was given (--reference-model or --reference-predictions)',
          'Not evaluable: non-inferiority needs a reference model on the same cases, and none was given.',
        );
      }
      let d: Estimate | undefined = comparison.difference;
      let how = 'by paired DeLong';
      if (c.method === 'paired-bootstrap') {
        const [s] = pairedBootstrapSettings([c], context.metrics.options);
        d = comparison.pairedBootstrap?.find((b) => b.replicates === s!.replicates && b.seed === s!.seed)?.difference;
        how = `by paired bootstrap (${s!.replicates} replicates of the cases, resampled within each label and shared by both models, seed ${s!.seed}; percentile interval)`;
        if (d === undefined) {
          return notEvaluable(c, 'overall', 'the paired bootstrap was not run', `Not evaluable: non-inferiority ${how} was asked for, and it was not run.`);
        }
      }
      const why = whyNotEvaluable(d, 'ci_low');
      if (why !== undefined) {
        return notEvaluable(c, 'overall', why, `Not evaluable: the AUROC difference from the reference has no lower 95% bound ${how} (${why}).`);
      }
      const passed = d.ciLow > -c.margin;
      return {
        line: c.line,
        text: c.text,
        status: passed ? 'passed' : 'failed',
        passed,
        measurements: [{ scope: 'overall', estimate: d, status: passed ? 'passed' : 'failed', passed }],
        sentence: `The AUROC minus the reference's (${comparison.reference}) is ${describe(d)} ${how}; non-inferiority with margin ${c.margin} requires the lower bound above −${c.margin}: ${passed ? 'met' : 'NOT met'}.`,
      };
    }
    const bound = c.bound === 'target' ? targets[c.metric as AbstentionRate] : c.bound;
    const boundWords = c.bound === 'target' ? `the abstain band's target${bound === undefined ? '' : ` (${fmt(bound)})`}` : String(c.bound);
    const wording = `${FIELD_WORDS[c.field]}${NAMES[c.metric] ?? c.metric} must be ${OP_WORDS[c.op]} ${boundWords}`;
    if (bound === undefined) {
      return notEvaluable(
        c,
        c.perStratum === undefined ? 'overall' : c.perStratum.column,
        `the bundle's decision policy states no target for ${c.metric}`,
        `Not evaluable: ${wording}, and the model's decision policy states no such target (only an abstain band fitted by vigil policy --coverage records one).`,
      );
    }
    if (c.perStratum === undefined) {
      const estimate =
        c.metric === 'gate_reject_rate' ? context.gateRejectRate : OVERALL_METRICS[c.metric as keyof typeof OVERALL_METRICS](context.metrics.overall);
      if (estimate === undefined) return notEvaluable(c, 'overall', 'not measured in this evaluation', `Not evaluable: ${wording}, and it was not measured.`);
      const why = whyNotEvaluable(estimate, c.field);
      if (why !== undefined) {
        return {
          ...notEvaluable(c, 'overall', why, `Not evaluable: ${wording}, and on these cases it has ${why.startsWith('not ') ? `no value (${why})` : why}.`),
        };
      }
      const passed = compare(pick(estimate, c.field), c.op, bound);
      const capital = wording.charAt(0).toUpperCase() + wording.slice(1);
      return {
        line: c.line,
        text: c.text,
        status: passed ? 'passed' : 'failed',
        passed,
        measurements: [{ scope: 'overall', estimate, status: passed ? 'passed' : 'failed', passed }],
        sentence: `${capital}; measured ${describe(estimate)}: ${passed ? 'met' : 'NOT met'}.`,
      };
    }
    const { column, count, minN } = c.perStratum;
    const strata = context.metrics.strata.filter((s) => s.column === column);
    const measurements: CriterionMeasurement[] = [];
    for (const s of strata) {
      const scope = stratumScope(column, s.level);
      const size = count === 'n' ? s.n : count === 'positives' ? s.positives : s.negatives;
      if (size < minN) {
        measurements.push({ scope, status: 'excluded', passed: true, note: `excluded: ${size} ${COUNT_WORDS[count]} < ${minN}` });
        continue;
      }
      const estimate = STRATUM_METRICS[c.metric as keyof typeof STRATUM_METRICS](s);
      const why = whyNotEvaluable(estimate, c.field);
      if (why !== undefined) {
        measurements.push({ scope, estimate, status: 'not_evaluable', passed: false, note: why });
        continue;
      }
      const passed = compare(pick(estimate, c.field), c.op, bound);
      measurements.push({ scope, estimate, status: passed ? 'passed' : 'failed', passed });
    }
    const included = measurements.filter((m) => m.status !== 'excluded');
    const failing = included.filter((m) => m.status === 'failed').map((m) => m.scope);
    const unevaluable = included.filter((m) => m.status === 'not_evaluable');
    const status: CriterionStatus = failing.length > 0 ? 'failed' : unevaluable.length > 0 || included.length === 0 ? 'not_evaluable' : 'passed';
    const where = `In every ${column} with at least ${minN} ${COUNT_WORDS[count]} (${included.length} of ${strata.length})`;
    const parts = [
      failing.length > 0 ? `NOT met in ${failing.join(', ')}` : '',
      unevaluable.length > 0 ? `not evaluable in ${unevaluable.map((m) => `${m.scope} (${m.note ?? ''})`).join(', ')}` : '',
    ].filter((x) => x.length > 0);
    const sentence =
      strata.length === 0
        ? `Not evaluable: there is no stratum column "${column}" in the data.`
        : included.length === 0
          ? `Not evaluable: no ${column} has at least ${minN} ${COUNT_WORDS[count]}.`
          : `${where}, ${wording}: ${status === 'passed' ? 'met in all' : parts.join('; ')}.`;
    return { line: c.line, text: c.text, status, passed: status === 'passed', measurements, sentence };
  });
}
