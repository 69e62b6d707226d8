import type { PredictResult } from '../workflows/predict-images.js';

function formatValue(value: number | string | undefined): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(3))) : String(value);
}

/** One human-readable line per `predict` result. */
export function formatResult(r: PredictResult): string {
  const where = r.input.frame === null ? r.input.file : `${r.input.file} [frame ${r.input.frame}]`;
  switch (r.status) {
    case 'decided': {
      const findings = r.outputs.map((o) => `${o.finding} ${o.probability.toFixed(3)} → ${o.decision}`).join(', ');
      const gate =
        r.quality === null || r.quality.verdict === 'pass'
          ? ''
          : `  (gate warned: ${r.quality.reasons.map((x) => `${x.code} ${formatValue(x.measured)} vs ${formatValue(x.threshold)}`).join(', ')})`;
      return `${where}: ${findings}${gate}  [${r.auditId ?? ''}]`;
    }
    case 'rejected':
      return `${where}: rejected: ${(r.quality?.reasons ?? [])
        .filter((x) => x.verdict === 'reject')
        .map((x) => `${x.code} (${formatValue(x.measured)} vs ${formatValue(x.threshold)})`)
        .join(', ')}  [${r.auditId ?? ''}]`;
    case 'error':
      return `${where}: error ${r.error?.code ?? ''}: ${r.error?.message ?? ''}`;
  }
}
