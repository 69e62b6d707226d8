import { displayProbability } from '../domain/calibration/display-probability.js';
import type { GateReason } from '../domain/quality/gate.js';
import type { PredictResult } from '../workflows/predict-images.js';

function formatValue(value: number | string | undefined): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(3))) : String(value);
}

/** `code (measured vs limit)` for a failed check; `code (not checked: …)` for one the gate could not make. */
function formatReason(x: GateReason): string {
  if (x.outcome === 'unchecked') {
    const what = x.why === 'not_computable' ? 'not computable' : 'value unknown';
    return `${x.code} (not checked: ${what}${x.threshold === undefined ? '' : `, needs ${formatValue(x.threshold)}`})`;
  }
  return `${x.code} (${formatValue(x.measured)} vs ${formatValue(x.threshold)})`;
}

/**
 * One human-readable line per `predict` result. Probabilities are shown at the precision the model's
 * calibration supports (`calibrationError`: the worst held-out ECE its manifest reports; the coarsest
 * step when unknown), never as 1.000; `--json` keeps the exact values.
 */
export function formatResult(r: PredictResult, calibrationError?: number): string {
  const where = r.input.frame === null ? r.input.file : `${r.input.file} [frame ${r.input.frame}]`;
  const reasons = r.quality?.reasons ?? [];
  switch (r.status) {
    case 'decided': {
      const findings = r.outputs.map((o) => `${o.finding} p ${displayProbability(o.probability, calibrationError).text} → ${o.decision}`).join(', ');
      const gate = r.quality === null || r.quality.verdict === 'pass' ? '' : `  (gate warned: ${reasons.map(formatReason).join(', ')})`;
      return `${where}: ${findings}${gate}  [${r.auditId ?? ''}]`;
    }
    case 'rejected': {
      const warned = reasons.filter((x) => x.verdict === 'warn');
      return `${where}: rejected: ${reasons
        .filter((x) => x.verdict === 'reject')
        .map(formatReason)
        .join(', ')}${warned.length === 0 ? '' : `; also warned: ${warned.map(formatReason).join(', ')}`}  [${r.auditId ?? ''}]`;
    }
    case 'error':
      return `${where}: error ${r.error?.code ?? ''}: ${r.error?.message ?? ''}`;
  }
}
