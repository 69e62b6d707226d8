import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpWebhookSender } from './http-webhook-sender.js';
import { MonitorNotifier } from './monitor-notifier.js';

const secret = new TextEncoder().encode('a monitoring webhook secret of 32+ characters');
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A receiver as a hospital would write it: recompute the HMAC over "<timestamp>.<body>", refuse stale timestamps. */
async function receiver(answer: (attempt: number) => number) {
  const received: { body: string; verified: boolean; delivery: string; type: string }[] = [];
  let attempts = 0;
  server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(request.headers['x-vigil-timestamp']);
      const given = Buffer.from(String(request.headers['x-vigil-signature']).replace(/^sha256=/, ''), 'hex');
      const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest();
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      received.push({
        body,
        verified: fresh && given.length === expected.length && timingSafeEqual(given, expected),
        delivery: String(request.headers['x-vigil-delivery']),
        type: String(request.headers['content-type']),
      });
      response.statusCode = answer(++attempts);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

describe('MonitorNotifier', () => {
  it('posts each notice signed (HMAC-SHA-256 over timestamp and body), retries a refusal, and never blocks the caller', async () => {
    const { url, received } = await receiver((attempt) => (attempt === 1 ? 503 : 204));
    const notifier = new MonitorNotifier({
      sender: new HttpWebhookSender({ url, secret, timeoutMs: 2_000, clock: { now: () => new Date() }, contentType: 'application/json' }),
      logger: silent,
      retryDelayMs: 10,
    });
    const started = performance.now();
    notifier.notify({
      kind: 'alert',
      alertId: 'al-1',
      site: 'north',
      versionId: 'a'.repeat(64),
      detector: 'noise:up',
      label: 'noise',
      statistic: 9.5,
      threshold: 9.1,
      incidentId: 'inc-1',
      at: '2026-12-07T12:00:00.000Z',
    });
    notifier.notify({
      kind: 'incident',
      incidentId: 'inc-1',
      site: 'north',
      versionId: 'a'.repeat(64),
      action: 'opened',
      state: 'open',
      severity: 'medium',
      at: '2026-12-07T12:00:00.000Z',
    });
    expect(performance.now() - started).toBeLessThan(50);
    await notifier.idle();
    // The first attempt was refused (503) and sent again with the same delivery id; then the incident.
    expect(received.map((r) => [r.delivery, r.verified, r.type])).toEqual([
      ['al-1', true, 'application/json'],
      ['al-1', true, 'application/json'],
      [expect.stringMatching(/^inc-1-opened-/), true, 'application/json'],
    ]);
    expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'vigil.monitoring.alert', alertId: 'al-1', detector: 'noise:up' });
    // Pseudonymous: no case, study or patient field in a notice.
    expect(received.map((r) => r.body).join('')).not.toMatch(/case|study|patient/i);
  });

  it('gives a notice up after its attempts (each signed), and closes', async () => {
    const { url, received } = await receiver(() => 500);
    const notifier = new MonitorNotifier({
      sender: new HttpWebhookSender({ url, secret, timeoutMs: 2_000, clock: { now: () => new Date() } }),
      logger: silent,
      attempts: 2,
      retryDelayMs: 5,
    });
    notifier.notify({
      kind: 'incident',
      incidentId: 'inc-2',
      site: 'north',
      versionId: 'b'.repeat(64),
      action: 'pause',
      state: 'open',
      severity: 'high',
      at: 'x',
    });
    await notifier.close();
    expect(received).toHaveLength(2);
    expect(received.every((r) => r.verified)).toBe(true);
  });
});
