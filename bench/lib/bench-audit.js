/**
 * Durable audit appends: SqliteAuditLog (WAL, synchronous=FULL, one Ed25519-signed tree head per append,
 * each append its own transaction) in a fresh folder on the scratch disk, `appends` realistic decision
 * events per run (distinct study keys and pixel hashes, as a predict run writes them), median of `runs`
 * runs; then `verify()` of the resulting log. The cost of one fdatasync on the same disk is measured beside
 * it: a durable append cannot be cheaper than that.
 */
import { closeSync, fdatasyncSync, openSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { importDist, makeScratchDir, removeDir } from './paths.js';
import { median, nowMs, quantile, round, summarize } from './stats.js';

const hex = (text) => createHash('sha256').update(text).digest('hex');

/** A decision event shaped like the ones `vigil predict` appends (demo model, gate warning, one finding). */
export function realisticDecisionEvent(i) {
  const probability = ((i * 7919) % 1000) / 1000;
  return {
    type: 'decision',
    status: 'decided',
    studyKey: `st-${hex(`study ${i}`).slice(0, 32)}`,
    pixelSha256: hex(`pixels ${i}`),
    frameIndex: 0,
    model: { id: 'pneumonia-demo', version: '1.0.0', sha256: hex('model') },
    configHash: hex('config'),
    gate: { verdict: 'warn', reasons: [{ code: 'out_of_distribution', verdict: 'warn', measured: 7.25 + (i % 10) / 8, threshold: 6.42163 }] },
    outputs: [{ finding: 'pneumonia', probability, decision: probability >= 0.6 ? 'positive' : probability < 0.4 ? 'negative' : 'refer' }],
  };
}

function fsyncFloor(dir, reps) {
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const samples = [];
  try {
    for (let i = 0; i < reps; i++) {
      const start = nowMs();
      writeSync(fd, block);
      fdatasyncSync(fd);
      samples.push(nowMs() - start);
    }
  } finally {
    closeSync(fd);
  }
  return samples;
}

export async function runAuditBench({ appends = 2000, runs = 3, quick = false, log = () => {} }) {
  const { SqliteAuditLog } = await importDist('adapters/store-sqlite/sqlite-audit-log.js');
  const count = quick ? Math.min(appends, 300) : appends;
  const scratch = makeScratchDir('audit');
  const clock = { now: () => new Date() };
  try {
    const events = Array.from({ length: count }, (_, i) => realisticDecisionEvent(i));
    const results = [];
    const floor = [];
    for (let r = 0; r < runs; r++) {
      // The disk is shared: its fsync latency is measured right before each run, beside the appends.
      const runFloor = fsyncFloor(scratch, quick ? 30 : 100);
      floor.push(...runFloor);
      const dataDir = join(scratch, `run-${r}`);
      const auditLog = SqliteAuditLog.open({ dataDir, clock });
      const perAppend = [];
      let verification;
      let verifyMs;
      let totalMs;
      try {
        const start = nowMs();
        for (const event of events) {
          const s = nowMs();
          await auditLog.append(event);
          perAppend.push(nowMs() - s);
        }
        totalMs = nowMs() - start;
        const v = nowMs();
        verification = await auditLog.verify();
        verifyMs = nowMs() - v;
      } finally {
        await auditLog.close();
      }
      const dbBytes = ['vigil.sqlite', 'vigil.sqlite-wal'].reduce((sum, f) => sum + (statSync(join(dataDir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
      removeDir(dataDir);
      results.push({ totalMs, perAppend, verifyMs, verification, dbBytes, fsyncFloorMs: median(runFloor) });
      log(
        `  run ${r + 1}/${runs}: ${count} appends in ${round(totalMs)} ms (${round((count / totalMs) * 1000)}/s); verify ${round(verifyMs)} ms, ok=${verification.ok}`,
      );
    }
    const totals = results.map((r) => r.totalMs);
    const all = results.flatMap((r) => r.perAppend);
    const medianTotal = median(totals);
    return {
      benchmark: 'audit',
      method: `SqliteAuditLog.open({ dataDir: fresh scratch folder }) (WAL, synchronous=FULL, BEGIN IMMEDIATE per append, one signed tree head per append); ${count} realistic decision events appended one by one, median of ${runs} runs; then verify() on the ${count}-entry log (recomputes every leaf, every tree head root and signature). fsyncFloor: write 4 KiB + fdatasync on the same disk, 100 times right before each run.`,
      appendsPerRun: count,
      runs,
      appendsPerSecond: round((count / medianTotal) * 1000),
      appendsPerSecondByRun: totals.map((t) => round((count / t) * 1000)),
      fsyncFloorMsByRun: results.map((r) => round(r.fsyncFloorMs)),
      totalMs: summarize(totals),
      perAppendMs: { p50: round(quantile(all, 0.5)), p95: round(quantile(all, 0.95)), p99: round(quantile(all, 0.99)), max: round(Math.max(...all)) },
      verifyMs: summarize(results.map((r) => r.verifyMs)),
      verifyEntriesPerSecond: round((count / median(results.map((r) => r.verifyMs))) * 1000),
      verified: results.every((r) => r.verification.ok),
      databaseBytes: results[0].dbBytes,
      fsyncFloorMs: summarize(floor),
    };
  } finally {
    removeDir(scratch);
  }
}
