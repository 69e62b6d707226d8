import type { Logger } from '../../ports/logger.js';
import type { WebhookSender } from '../../ports/result-destinations.js';
import type { MonitoringNotice, MonitorNotices } from '../../ports/monitor-notices.js';

export interface MonitorNotifierOptions {
  readonly sender: WebhookSender;
  readonly logger: Logger;
  /** Attempts per notice (the first included); default 4. */
  readonly attempts?: number;
  /** First retry delay, doubled per attempt; default 2 s. */
  readonly retryDelayMs?: number;
  /** Notices waiting at most; beyond it the oldest is dropped (and logged). Default 1,000. */
  readonly maxQueued?: number;
}

/**
 * Sends monitoring notices (alerts, incident changes) to the monitoring webhook, signed by the sender
 * (HMAC-SHA-256 over "<timestamp>.<body>"; http-webhook-sender.ts), one at a time, in the background:
 * `notify` returns at once, so judging never waits for a receiver. Each POST is bounded by the sender's
 * timeout and retried with a doubling delay; a notice that fails every attempt is logged and dropped
 * (the alert and the incident are in the store and the audit log either way). The body is the notice:
 * pseudonymous ids and numbers, never PHI.
 */
export class MonitorNotifier implements MonitorNotices {
  readonly #options: MonitorNotifierOptions;
  readonly #queue: { readonly body: string; readonly id: string }[] = [];
  #running: Promise<void> | undefined;
  #sequence = 0;
  #closed = false;

  constructor(options: MonitorNotifierOptions) {
    this.#options = options;
  }

  notify(notice: MonitoringNotice): void {
    if (this.#closed) return;
    const id = notice.kind === 'alert' ? `${notice.alertId}` : `${notice.incidentId}-${notice.action}-${this.#sequence++}`;
    this.#queue.push({ body: JSON.stringify({ type: `vigil.monitoring.${notice.kind}`, ...notice }), id });
    if (this.#queue.length > (this.#options.maxQueued ?? 1_000)) {
      this.#queue.shift();
      this.#options.logger.warn({ stage: 'monitor-webhook', status: 'dropped' }, 'monitoring notice dropped: the queue is full');
    }
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves when every queued notice was sent or given up (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Stops taking notices and waits for the queue to drain. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  async #drain(): Promise<void> {
    const attempts = this.#options.attempts ?? 4;
    const delay = this.#options.retryDelayMs ?? 2_000;
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          await this.#options.sender.post(next.body, next.id);
          break;
        } catch {
          if (attempt === attempts) {
            this.#options.logger.warn({ stage: 'monitor-webhook', status: 'failed', count: attempts }, 'monitoring notice not delivered');
          } else await new Promise((resolve) => setTimeout(resolve, delay * 2 ** (attempt - 1)));
        }
      }
    }
  }
}
