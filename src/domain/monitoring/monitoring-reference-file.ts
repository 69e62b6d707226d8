import { z } from 'zod';
import { MONITOR_SIGNAL_NAMES } from './case-signals.js';

/** The file a model bundle may carry with its monitors' reference: per-image signal values of its validation images. */
export const MONITORING_REFERENCE_FILE = 'monitoring-reference.json';

/**
 * `monitoring-reference.json`: one array per signal (MONITOR_SIGNAL_NAMES), one value per validation
 * image scored through the inference chain (null: none, e.g. no probability for an image the gate
 * rejected), all of one length. `vigil model init` writes it; a deployment of the version designs its
 * monitors from it instead of waiting for a production baseline.
 */
export const monitoringReferenceFileSchema = z
  .strictObject({
    format: z.literal('vigil-monitoring-reference/1'),
    /** What the values were measured on (e.g. the validation split's description). */
    source: z.string().max(500),
    cases: z.number().int().min(50).max(1_000_000),
    signals: z.record(z.string(), z.array(z.number().nullable())),
  })
  .superRefine((file, ctx) => {
    for (const name of MONITOR_SIGNAL_NAMES) {
      const values = file.signals[name];
      if (values === undefined) ctx.addIssue({ code: 'custom', path: ['signals', name], message: 'missing' });
      else if (values.length !== file.cases) ctx.addIssue({ code: 'custom', path: ['signals', name], message: `expected ${file.cases} values` });
    }
  });
export type MonitoringReferenceFile = z.infer<typeof monitoringReferenceFileSchema>;

/** The reference as designMonitors takes it (null → NaN). */
export function referenceColumnsOf(file: MonitoringReferenceFile): ReadonlyMap<string, Float64Array> {
  return new Map(MONITOR_SIGNAL_NAMES.map((name) => [name, Float64Array.from(file.signals[name] ?? [], (v) => (v === null ? Number.NaN : v))]));
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
