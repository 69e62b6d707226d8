/**
 * Result webhook over Node's fetch. Each POST is signed as Stripe and GitHub sign theirs, so receivers
 * can reuse what they know: `X-Vigil-Timestamp: <unix seconds>` and
 * `X-Vigil-Signature: sha256=<hex HMAC-SHA-256(secret, "<timestamp>.<body>")>`. The timestamp is inside
 * the MAC, so a receiver that refuses old timestamps (say, older than 5 minutes) also refuses replays.
 * docs/api.md shows how to verify. The URL and the secret never appear in a log or an error.
 */
import { createHmac } from 'node:crypto';
import { PlatformError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { WebhookSender } from '../../ports/result-destinations.js';

export interface HttpWebhookSenderOptions {
  readonly url: string;
  readonly secret: Uint8Array;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** The body's media type (default `application/fhir+json`, the result webhook's). */
  readonly contentType?: string;
}

/** The signature a receiver recomputes: hex HMAC-SHA-256 over "<timestamp>.<body>". */
export function signWebhookBody(secret: Uint8Array, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly options: HttpWebhookSenderOptions) {}

  async post(body: string, deliveryId: string): Promise<void> {
    const timestamp = String(Math.floor(this.options.clock.now().getTime() / 1000));
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': this.options.contentType ?? 'application/fhir+json',
          'x-vigil-timestamp': timestamp,
          'x-vigil-signature': `sha256=${signWebhookBody(this.options.secret, timestamp, body)}`,
          'x-vigil-delivery': deliveryId,
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (cause) {
      throw new PlatformError('RESULT_DELIVERY_FAILED', 'The result webhook could not be reached', {}, { cause });
    }
    // Drain the body so the connection can be reused; its content is the receiver's, not ours to log.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new PlatformError('RESULT_DELIVERY_FAILED', 'The result webhook did not accept the result', { httpStatus: response.status });
  }
}
