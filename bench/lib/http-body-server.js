// Child of bench/http-bodies.js: the real API server on a free port. It samples its own RSS and the
// longest gap of a 5 ms timer (the event-loop stall), counts its CPU time, and reports them over IPC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDist, REPO_ROOT } from './paths.js';

const { loadConfig } = await importDist('config/load-config.js');
const { createLogger } = await importDist('logging/create-logger.js');
const { createApiServer } = await importDist('main.js');
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-http-'));
const config = loadConfig({ VIGIL_DATA_DIR: dir, VIGIL_INTRA_OP_THREADS: '1' }, REPO_ROOT);
const server = await createApiServer(config, createLogger('error', { write: () => {} }));
await server.app.listen({ host: '127.0.0.1', port: 0 });

const TICK_MS = 5;
let peakRss = 0;
let maxStall = 0;
let last = performance.now();
let cpuAtReset = process.cpuUsage();
setInterval(() => {
  const now = performance.now();
  maxStall = Math.max(maxStall, now - last - TICK_MS);
  last = now;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, TICK_MS).unref();
process.on('message', (message) => {
  if (message === 'reset') {
    peakRss = process.memoryUsage().rss;
    maxStall = 0;
    last = performance.now();
    cpuAtReset = process.cpuUsage();
    process.send({ reset: true });
  } else if (message === 'report') {
    // CPU time does not depend on how busy the machine is, unlike the stall.
    const cpu = process.cpuUsage(cpuAtReset);
    process.send({ peakRssMB: Math.round(peakRss / 2 ** 20), maxStallMs: Math.round(maxStall), cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
  } else if (message === 'stop') {
    void server.close().then(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
process.send({ port: server.app.server.address().port, token: server.bootstrap?.token ?? '' });
