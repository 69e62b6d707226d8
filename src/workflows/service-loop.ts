import { toPlatformError } from '../domain/errors.js';
import type { Logger } from '../ports/logger.js';
import { assembleStudies } from './assemble-studies.js';
import { ingestInstance, type IngestDependencies, type IngestOutcome, type IngestSender } from './ingest-instance.js';
import { runNextInferenceJob, type InferenceJobDependencies } from './run-inference-job.js';
import { runNextDeliveryJob, type DeliveryJobDependencies } from './deliver-results.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { StudyRegistry } from '../ports/study-registry.js';

export interface ServiceLoopOptions {
  /** A study is complete after this long without a new instance. */
  readonly studyQuietMs: number;
  /** How often quiet studies are looked for. */
  readonly assembleEveryMs: number;
  /** How long the worker sleeps when no job is due. */
  readonly idleSleepMs: number;
}

export interface ServiceLoopDependencies {
  readonly ingest: IngestDependencies;
  readonly inference: InferenceJobDependencies;
  /** Results back (SR, webhook); absent when no destination is configured. */
  readonly delivery?: DeliveryJobDependencies;
  readonly studies: StudyRegistry;
  readonly jobs: JobQueue;
  readonly logger: Logger;
}

/**
 * The server's background work, through the same workflows as the CLI: received instances are
 * ingested (by `receive`), quiet studies are queued, and one worker judges queued studies. Everything
 * it needs to resume is in the store, so a restart picks up where a crash left off.
 */
export class ServiceLoop {
  #running = false;
  /** Whether this process has restarted the quiet periods of the studies still receiving (once, at start). */
  #quietPeriodsRestarted = false;
  #assembling: ReturnType<typeof setInterval> | undefined;
  #worker: Promise<void> | undefined;
  #deliveryWorker: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #wakeDelivery: (() => void) | undefined;

  constructor(
    private readonly deps: ServiceLoopDependencies,
    private readonly options: ServiceLoopOptions,
  ) {}

  /** Ingests one received instance; resolve before acknowledging it to the sender. */
  receive(bytes: Uint8Array, sender: IngestSender = {}): Promise<IngestOutcome> {
    return ingestInstance(this.deps.ingest, bytes, sender);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#assembling = setInterval(() => void this.assembleNow(), this.options.assembleEveryMs);
    this.#worker = this.#loop(
      'infer',
      async () => {
        const outcome = await runNextInferenceJob(this.deps.inference);
        // A judged study may have queued deliveries.
        if (outcome === 'done') this.#wakeDelivery?.();
        return outcome;
      },
      (wake) => (this.#wake = wake),
    );
    // Deliveries have their own worker: a destination that is down (connect timeouts) must not hold up
    // judging, and a long study must not hold up results already decided.
    const delivery = this.deps.delivery;
    if (delivery !== undefined)
      this.#deliveryWorker = this.#loop(
        'deliver',
        () => runNextDeliveryJob(delivery),
        (wake) => (this.#wakeDelivery = wake),
      );
  }

  async #loop(stage: string, step: () => Promise<'idle' | 'done' | 'failed'>, setWake: (wake: (() => void) | undefined) => void): Promise<void> {
    while (this.#running) {
      let outcome: 'idle' | 'done' | 'failed';
      try {
        outcome = await step();
      } catch (cause) {
        // The queue itself failed (store unavailable): wait and try again rather than spin.
        this.deps.logger.error({ stage, code: toPlatformError(cause).code }, 'job queue unavailable');
        outcome = 'idle';
      }
      if (outcome === 'idle' && this.#running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.idleSleepMs);
          setWake(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        setWake(undefined);
      }
    }
  }

  /**
   * Queues every quiet study now (also run on a timer). The first time after `start`, it first restarts
   * the quiet period of every study still receiving: no sender could reach this server while it was down,
   * so a study a crash interrupted gets its whole quiet period again before it counts as complete (and
   * its sender time to resend). Kept in the store, so every server sharing it agrees; until it succeeds,
   * nothing is assembled.
   */
  async assembleNow(): Promise<number> {
    try {
      if (this.#running && !this.#quietPeriodsRestarted) {
        const restarted = await this.deps.studies.restartQuietPeriods();
        this.#quietPeriodsRestarted = true;
        if (restarted > 0) this.deps.logger.info({ stage: 'assemble', count: restarted }, 'quiet periods restarted for studies still receiving');
      }
      const queued = await assembleStudies(this.deps, this.options.studyQuietMs);
      if (queued > 0) this.#wake?.();
      return queued;
    } catch (cause) {
      this.deps.logger.error({ stage: 'assemble', code: toPlatformError(cause).code }, 'study assembly failed');
      return 0;
    }
  }

  /** Stops taking new work and waits for the job in hand to finish. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#assembling !== undefined) clearInterval(this.#assembling);
    this.#wake?.();
    this.#wakeDelivery?.();
    await this.#worker;
    await this.#deliveryWorker;
  }
}
