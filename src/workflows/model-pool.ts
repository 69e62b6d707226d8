import type { ModelIdentity } from '../domain/audit/audit-event.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import type { ModelSession } from '../ports/model-runner.js';
import { InferenceChain } from './inference-chain.js';

export interface PoolOptions {
  /**
   * Bound on the models kept open, in bytes of model file (an ONNX Runtime CPU session holds about
   * its model's size in weights, plus working memory that grows with the batch). Idle models are
   * closed, least recently used first, to stay under it; models in use are never closed.
   */
  readonly maxBytes: number;
  /** Loads, verifies and opens one model (audited by the caller's loader). */
  readonly open: (key: string) => Promise<{ readonly bundle: ModelBundle; readonly session: ModelSession }>;
}

export interface PooledModel {
  readonly chain: InferenceChain;
  /** Gives the model back to the pool; it may then be closed to make room. */
  release(): void;
}

export interface PoolStats {
  readonly maxBytes: number;
  readonly bytes: number;
  readonly models: readonly {
    readonly key: string;
    readonly model: ModelIdentity;
    readonly bytes: number;
    readonly inUse: number;
    readonly lastUsedMs: number;
  }[];
}

interface Entry {
  readonly key: string;
  readonly loading: Promise<{ readonly bundle: ModelBundle; readonly session: ModelSession; readonly chain: InferenceChain }>;
  loaded?: { readonly bundle: ModelBundle; readonly session: ModelSession; readonly chain: InferenceChain };
  inUse: number;
  lastUsedMs: number;
}

/**
 * The model versions a process holds open, so several (a production version, a shadow, a canary, an
 * evaluation's) can judge side by side without a restart, within a memory bound that is reported.
 * One session per key (a model folder or a registered version id); concurrent callers share it.
 */
export class ModelPool {
  readonly #options: PoolOptions;
  readonly #entries = new Map<string, Entry>();
  #clock = 0;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  async acquire(key: string): Promise<PooledModel> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const loading = this.#options.open(key).then(({ bundle, session }) => ({ bundle, session, chain: new InferenceChain(bundle, session) }));
      const created: Entry = { key, loading, inUse: 0, lastUsedMs: 0 };
      entry = created;
      this.#entries.set(key, created);
      // A model that fails to load is forgotten, so the next caller tries again (and gets the error itself).
      loading.then(
        (loaded) => {
          created.loaded = loaded;
        },
        () => {
          if (this.#entries.get(key) === created) this.#entries.delete(key);
        },
      );
    }
    entry.inUse++;
    entry.lastUsedMs = ++this.#clock;
    let loaded;
    try {
      loaded = await entry.loading;
    } catch (cause) {
      entry.inUse--;
      throw cause;
    }
    await this.#makeRoom();
    const held = entry;
    let released = false;
    return {
      chain: loaded.chain,
      release: () => {
        if (released) return;
        released = true;
        held.inUse--;
        held.lastUsedMs = ++this.#clock;
        void this.#makeRoom();
      },
    };
  }

  stats(): PoolStats {
    const models = [...this.#entries.values()].flatMap((e) =>
      e.loaded === undefined
        ? []
        : [{ key: e.key, model: e.loaded.bundle.identity, bytes: e.loaded.bundle.modelBytes.byteLength, inUse: e.inUse, lastUsedMs: e.lastUsedMs }],
    );
    return { maxBytes: this.#options.maxBytes, bytes: models.reduce((sum, m) => sum + m.bytes, 0), models };
  }

  /** Closes every idle model (all of them once nothing is in use). */
  async close(): Promise<void> {
    for (const entry of [...this.#entries.values()]) {
      this.#entries.delete(entry.key);
      await entry.loading.then((m) => m.session.close()).catch(() => undefined);
    }
  }

  async #makeRoom(): Promise<void> {
    let bytes = this.stats().bytes;
    const idle = [...this.#entries.values()].filter((e) => e.loaded !== undefined && e.inUse === 0).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    for (const entry of idle) {
      if (bytes <= this.#options.maxBytes) break;
      this.#entries.delete(entry.key);
      bytes -= entry.loaded!.bundle.modelBytes.byteLength;
      await entry.loaded!.session.close().catch(() => undefined);
    }
  }
}
