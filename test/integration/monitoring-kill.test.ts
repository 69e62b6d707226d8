/**
 * kill -9 while the monitors raise alarms. A child process (the TypeScript sources, loaded by
 * test/fixtures/ts-loader) judges a shifted stream as fast as it can through the real monitoring over
 * the real SQLite stores and audit log (test/fixtures/monitoring/judge-until-killed.ts): an alarm every
 * few cases, each stored, filed into the deployment's incident and audited before the state's
 * compare-and-set. The test SIGKILLs it again and again — some rounds just as an alert's row is written
 * (inside the raise: before its incident link, its audit entry or the state), others at a random moment —
 * and starts the next child on the same folder, which continues the stream. At the end: exactly the
 * alarms one process computes over the stored stream, each stored once, in the one incident once,
 * audited once; the log verifies and the state has consumed every case (docs/monitoring.md, "An alert is
 * never lost"). The in-process fault injection of each step is monitoring-alert-durability.test.ts.
 *
 * SIGKILL loses the process, not the OS page cache: this shows the write order, not survival of a power
 * cut (open-sqlite.test.ts checks synchronous=FULL for that).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MONITOR_SIGNAL_NAMES } from '../../src/domain/monitoring/case-signals.js';
import { recomputeMonitors } from '../../src/domain/monitoring/deployment-monitors.js';
import { decodeMonitorPlan } from '../../src/domain/monitoring/monitor-snapshot.js';
import { KEY, STREAM_CASES } from '../fixtures/monitoring/kill-stream.js';
import { openMonitoring } from '../fixtures/monitoring/open-monitoring.js';
import { sqliteMonitoringStoresAt } from '../fixtures/monitoring/sqlite-monitoring-stores.js';
import { REPO_ROOT } from '../helpers/sample-data.js';

const loader = join(REPO_ROOT, 'test/fixtures/ts-loader/register.js');
const child = join(REPO_ROOT, 'test/fixtures/monitoring/judge-until-killed.ts');
const KILLS = 8;

interface Run {
  readonly killed: boolean;
  /** Alerts whose row this child wrote, and those it also audited. */
  readonly put: readonly string[];
  readonly audited: readonly string[];
}

/** Runs one child on `dataDir`: until the kill (just after its `afterPut`-th alert row, or `afterMs` after it is ready), or to the stream's end. */
async function judgeUntil(dataDir: string, when: { readonly afterPut: number } | { readonly afterMs: number } | 'end'): Promise<Run> {
  const proc = spawn(process.execPath, ['--import', loader, child, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let pending = '';
  const put: string[] = [];
  const audited: string[] = [];
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [what, id] = line.split(' ');
      if (what === 'ready' && typeof when === 'object' && 'afterMs' in when) setTimeout(() => proc.kill('SIGKILL'), when.afterMs);
      if (what === 'audited') audited.push(id ?? '');
      if (what === 'done') done = true;
      if (what === 'put') {
        put.push(id ?? '');
        if (typeof when === 'object' && 'afterPut' in when && put.length === when.afterPut) proc.kill('SIGKILL');
      }
    }
  });
  // Bounds a child that hangs.
  const guard = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const { code, signal } = await exited;
  clearTimeout(guard);
  if (when === 'end') expect({ code, done }, stderr).toEqual({ code: 0, done: true });
  else if (done)
    expect(code, stderr).toBe(0); // reached the end before the kill
  else expect(signal, `child exited with code ${code}: ${stderr}`).toBe('SIGKILL');
  return { killed: signal === 'SIGKILL', put, audited };
}

describe('kill -9 while the monitors raise alarms: none lost, none doubled', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('on SQLite', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-monitor-kill-'));
    dirs.push(dataDir);
    const runs: Run[] = [];
    for (let round = 0; round < KILLS; round++) {
      // Alternately: just after an alert's row is written (1..6 alerts in), or at a random moment.
      const when = round % 2 === 0 ? { afterPut: 1 + Math.floor(Math.random() * 6) } : { afterMs: 50 + Math.floor(Math.random() * 1_500) };
      runs.push(await judgeUntil(dataDir, when));
    }
    runs.push(await judgeUntil(dataDir, 'end'));

    const clock = { now: () => new Date() };
    const stores = sqliteMonitoringStoresAt(dataDir, clock);
    try {
      const { monitoring } = await openMonitoring(stores, clock, undefined, false);
      expect(await stores.monitor.countCases(KEY)).toBe(STREAM_CASES);
      const alerts = await stores.monitor.listAlerts({ site: KEY.site, versionId: KEY.versionId, limit: 5_000 });
      const ids = alerts.map((a) => a.alertId).sort();

      // Exactly the alarms one process computes over the stored stream.
      const plan = await monitoring.plan(KEY);
      const start = plan!.stored.reference.kind === 'baseline' ? plan!.stored.reference.lastSeq : 0;
      const cases = await stores.monitor.readCases(KEY, start, 10_000);
      const recomputed = recomputeMonitors(
        decodeMonitorPlan(plan!.stored.plan),
        MONITOR_SIGNAL_NAMES.map((_, s) => Float64Array.from(cases, (c) => c.values[s]!)),
        Float64Array.from(cases, (c) => c.seq),
      );
      expect(alerts.map((a) => `${a.alert.detector}@${a.alarmSeq}`).sort()).toEqual(recomputed.alerts.map((x) => `${x.detector}@${x.alarmTime}`).sort());
      expect(alerts.length).toBeGreaterThan(20);
      expect((await stores.monitor.getState(KEY))?.lastSeq).toBe(cases.at(-1)?.seq);

      // Each alert in the deployment's one incident, once.
      const incidents = await stores.incidents.list({ limit: 10 });
      expect(incidents).toHaveLength(1);
      const incident = incidents[0]!;
      for (const a of alerts) expect(a.incidentId).toBe(incident.incidentId);
      expect([...incident.alertIds].sort()).toEqual(ids);

      // Audited once each, and the log verifies.
      const audited = (await stores.search.search({ type: 'monitor_alert', limit: 5_000 })).entries.flatMap((e) =>
        e.event.type === 'monitor_alert' ? [e.event.alertId] : [],
      );
      expect(audited.sort()).toEqual(ids);
      expect(await stores.audit.verify()).toMatchObject({ ok: true });

      // How many kills landed inside a raise: rows a child wrote but did not audit itself (its successor did).
      const unaudited = runs.reduce((sum, r) => sum + r.put.filter((id) => !r.audited.includes(id)).length, 0);
      console.info(
        `SQLite: ${runs.filter((r) => r.killed).length} kills, ${alerts.length} alerts, ${unaudited} stored by a killed child and audited by its successor`,
      );
    } finally {
      await stores.close();
    }
  }, 240_000);
});
