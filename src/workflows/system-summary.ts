import type { JobState } from '../domain/jobs/job.js';
import type { Clock } from '../ports/clock.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { DecisionCounts, SystemStats } from '../ports/system-stats.js';

export interface SystemSummaryDependencies {
  readonly jobs: JobQueue;
  readonly stats: SystemStats;
  readonly clock: Clock;
  readonly freeDiskBytes: () => Promise<number>;
  /** `AE@host:port`, or null when this process runs no receiver. */
  readonly dicomAddress: () => string | null;
  readonly uptimeSeconds: () => number;
  readonly version: string;
}

export interface SystemSummary {
  readonly time: string;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly dicomAddress: string | null;
  readonly freeDiskBytes: number;
  readonly queue: {
    /** Jobs per state, as /api/metrics' vigil_jobs. */
    readonly byState: Readonly<Record<JobState, number>>;
    readonly byKind: readonly { readonly kind: string; readonly state: JobState; readonly count: number }[];
    readonly deadLetters: readonly {
      readonly jobId: number;
      readonly kind: string;
      readonly attempts: number;
      readonly errorCode: string | null;
      readonly errorMessage: string | null;
      readonly updatedAt: string;
    }[];
  };
  readonly last24h: DecisionCounts & {
    /** Referred outputs over all finding outputs; null with none. */
    readonly referRate: number | null;
    /** Last received instance of a study → its result, in ms (nearest rank); null without results. */
    readonly resultLatencyMs: { readonly count: number; readonly p50: number | null; readonly p95: number | null };
  };
}

const DAY_MS = 86_400_000;

/** The health page's numbers: queue, dead letters, the last 24 hours' decisions and latency, disk, receiver. */
export async function summarizeSystem(deps: SystemSummaryDependencies): Promise<SystemSummary> {
  const now = deps.clock.now();
  const since = now.getTime() - DAY_MS;
  const [byState, byKind, dead, decisions, latencies, freeDiskBytes] = await Promise.all([
    deps.jobs.counts(),
    deps.stats.jobsByKind(),
    deps.jobs.deadLetters(20),
    deps.stats.decisionsSince(new Date(since).toISOString()),
    deps.stats.resultLatenciesSince(since),
    deps.freeDiskBytes(),
  ]);
  const outputs = Object.values(decisions.byDecision).reduce((sum, n) => sum + n, 0);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    time: now.toISOString(),
    version: deps.version,
    uptimeSeconds: Math.round(deps.uptimeSeconds()),
    dicomAddress: deps.dicomAddress(),
    freeDiskBytes,
    queue: {
      byState,
      byKind: [...byKind],
      deadLetters: dead.map((job) => ({
        jobId: job.id,
        kind: job.kind,
        attempts: job.attempts,
        errorCode: job.lastError?.code ?? null,
        errorMessage: job.lastError?.message ?? null,
        updatedAt: job.updatedAt,
      })),
    },
    last24h: {
      ...decisions,
      referRate: outputs === 0 ? null : (decisions.byDecision['refer'] ?? 0) / outputs,
      resultLatencyMs: { count: sorted.length, p50: nearestRank(sorted, 0.5), p95: nearestRank(sorted, 0.95) },
    },
  };
}

/** Nearest-rank percentile of ascending values (the smallest value with at least q of them at or below it). */
export function nearestRank(ascending: readonly number[], q: number): number | null {
  if (ascending.length === 0) return null;
  return ascending[Math.min(ascending.length, Math.max(1, Math.ceil(q * ascending.length))) - 1] as number;
}
