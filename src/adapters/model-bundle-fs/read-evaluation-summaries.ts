import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { EvaluationSummary } from '../../domain/registry/model-card.js';
import { readRegularFile } from '../files-fs/read-bounded-file.js';

const MAX_REPORTS = 32;
const MAX_REPORT_BYTES = 16 * 1024 * 1024;

const estimate = z.object({ value: z.number(), ciLow: z.number(), ciHigh: z.number() }).optional().catch(undefined);
const metrics = z.object({ sensitivity: estimate, specificity: estimate, auroc: estimate, ppv: estimate, ece: estimate });
const reportSchema = z.object({
  dataset: z.object({ description: z.string(), sha256: z.string() }),
  metrics: z.object({
    overall: metrics.extend({ n: z.number(), positives: z.number() }),
    strata: z.array(metrics.extend({ column: z.string(), level: z.string(), n: z.number() })).catch([]),
  }),
  gate: z
    .object({ total: z.number(), rejected: z.number(), reasons: z.record(z.string(), z.number()) })
    .nullable()
    .catch(null),
});

/**
 * The `vigil evaluate` reports a bundle ships (`reports/<name>/report.json`), summarised for its model
 * card. A report this build cannot read (an older schema, or not a report) is left out, not fatal: the
 * card says what it could read. Bounded in count and size.
 */
export async function readEvaluationSummaries(bundleDir: string): Promise<readonly EvaluationSummary[]> {
  let names: string[];
  try {
    names = (await readdir(join(bundleDir, 'reports'), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
  const out: EvaluationSummary[] = [];
  for (const name of names.sort().slice(0, MAX_REPORTS)) {
    const path = join(bundleDir, 'reports', name, 'report.json');
    try {
      // Bounded and a regular file (a report linked to /dev/zero is left out, not read): see read-bounded-file.ts.
      const parsed = reportSchema.safeParse(JSON.parse(new TextDecoder().decode(await readRegularFile(path, 'evaluation report', MAX_REPORT_BYTES))));
      if (!parsed.success) continue;
      const r = parsed.data;
      const { n, positives, ...overall } = r.metrics.overall;
      out.push({
        name,
        dataset: r.dataset,
        overall: { n, positives, metrics: overall },
        strata: r.metrics.strata.map(({ column, level, n: count, ...m }) => ({ column, level, n: count, metrics: m })),
        gate: r.gate,
      });
    } catch {
      continue;
    }
  }
  return out;
}
