#!/usr/bin/env node
// Request bodies against the real server (dist/, one fresh server process per case): how long the
// request takes, the longest event-loop stall the server saw, the slowest concurrent GET /api/health,
// the server's CPU time over the case (its timer and the health probes included) and its peak RSS. The server runs in its own process so that the client never shares its
// event loop. `node bench/http-bodies.js [--sizes 1,20,45]` after `npm run build`.
//
// Cases: an anonymous multipart/related body to the public POST /api/session (Field findings I, item
// 1: it used to be validated as JSON byte by byte), the same as chunked JSON, and an anonymous STOW-RS
// body; "idle" measures the same probes with no request, the machine's noise floor.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1,20,45' } } });
const sizesMB = values.sizes.split(',').map(Number);
const SERVER = fileURLToPath(new URL('./lib/http-body-server.js', import.meta.url));

function startServer() {
  const child = fork(SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', (m) => resolve({ child, port: m.port, token: m.token })));
}
const ask = (child, what) =>
  new Promise((resolve) => {
    child.once('message', resolve);
    child.send(what);
  });

/** Sends `mb` MiB (with Content-Length, or chunked) and resolves with the answer or the socket's fate. */
function send(port, { url, contentType, mb, chunked }) {
  return new Promise((resolve) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const headers = { 'content-type': contentType, ...(chunked ? {} : { 'content-length': String(mb * 2 ** 20) }) };
    const request = http.request({ host: '127.0.0.1', port, path: url, method: 'POST', headers }, (response) => {
      let text = '';
      response.on('data', (d) => (text += d));
      response.on('end', () => resolve({ status: response.statusCode, ms: elapsed(), code: /"code":"([A-Z_]+)"/.exec(text)?.[1] }));
    });
    request.on('error', (error) => resolve({ status: `socket ${error.code}`, ms: elapsed() }));
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let left = mb * 16;
    const pump = () => {
      while (left > 0) {
        left--;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      request.end();
    };
    pump();
  });
}

function health(port) {
  return new Promise((resolve) => {
    const started = performance.now();
    http
      .get({ host: '127.0.0.1', port, path: '/api/health' }, (response) => {
        response.resume();
        response.on('end', () => resolve(performance.now() - started));
      })
      .on('error', () => resolve(Number.NaN));
  });
}

const CASES = [
  { label: 'idle (no request)', idle: true },
  { label: 'multipart/related → public POST /api/session', url: '/api/session', contentType: 'multipart/related; boundary=x' },
  { label: 'chunked application/json → public POST /api/session', url: '/api/session', contentType: 'application/json', chunked: true },
  { label: 'anonymous STOW-RS → POST /dicomweb/studies', url: '/dicomweb/studies', contentType: 'multipart/related; type="application/dicom"; boundary=x' },
];

for (const testCase of CASES) {
  for (const mb of testCase.idle ? [0] : sizesMB) {
    const { child, port } = await startServer();
    let exited = null;
    child.on('exit', (code, signal) => (exited = signal ?? code));
    await ask(child, 'reset');
    let slowestHealth = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        slowestHealth = Math.max(slowestHealth, await health(port));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const result = testCase.idle ? await new Promise((r) => setTimeout(() => r({}), 500)) : await send(port, { ...testCase, mb });
    await new Promise((r) => setTimeout(r, 200));
    probing = false;
    await probe;
    const report = exited === null ? await ask(child, 'report') : { exited };
    console.log(JSON.stringify({ case: testCase.label, mb, ...result, slowestHealthMs: Math.round(slowestHealth), ...report }));
    if (exited === null) child.send('stop');
    await new Promise((r) => (exited === null ? child.once('exit', r) : r()));
  }
}
