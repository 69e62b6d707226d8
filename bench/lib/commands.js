/**
 * Times a command line as a user runs it: one process per run, wall-clock from spawn to exit, measured by
 * the parent (so every command, Vigil's and the peers', pays the same spawn cost). hyperfine would do the
 * same; doing it here keeps the bench to what the machine already has.
 */
import { spawnSync } from 'node:child_process';
import { nowMs } from './stats.js';

/**
 * Runs `command args` `warmup` times untimed (page cache, dynamic loader) and then `reps` times.
 * A run that exits non-zero is recorded as a failure and not timed; `parse(stdout)` may extract a figure
 * the tool reports itself (OpenJPEG prints its own decode time).
 */
export function timeCommand(command, args, { reps = 10, warmup = 1, env, cwd, parse, okStatuses = [0] } = {}) {
  const samples = [];
  const parsed = [];
  const failures = [];
  for (let i = 0; i < warmup + reps; i++) {
    const start = nowMs();
    const result = spawnSync(command, args, { env: env ?? process.env, cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const elapsed = nowMs() - start;
    const ok = result.error === undefined && okStatuses.includes(result.status);
    if (!ok) {
      failures.push({ status: result.status, error: result.error?.message ?? null, stderr: (result.stderr ?? '').trim().split('\n').slice(-2).join(' | ') });
      continue;
    }
    if (i < warmup) continue;
    samples.push(elapsed);
    if (parse !== undefined) {
      const value = parse(result.stdout ?? '');
      if (value !== undefined) parsed.push(value);
    }
  }
  return { samples, parsed, failures };
}
