// Looking after this device's store: a store found damaged (at start, by the out-of-process
// check, or by any read that meets STORE_CORRUPT) is moved aside and replaced by an empty one,
// the user is told where the damaged files went, and repair refills it from the other devices.
import type { Logger } from 'pino';
import type { SymbolStore } from '../store/index.js';

export class StoreCare {
  private restarting: Promise<void> | null = null;
  /** The store as the mesh uses it: any STORE_CORRUPT it raises starts the fresh start. */
  readonly store: SymbolStore;

  constructor(
    private readonly raw: SymbolStore,
    private readonly log: Logger,
    private readonly refill: () => void,
  ) {
    this.store = watched(raw, (err) => this.observe(err));
  }

  /** Reports a fresh start made at open, and checks the files out of process in the background. */
  start(): void {
    const fresh = this.raw.health().startedFresh;
    if (fresh) this.log.error({ store: fresh }, fresh.message);
    void this.raw
      .verify()
      .then((r) => {
        if (!r.ok && r.damaged) void this.freshStart(r.reason);
      })
      .catch(() => undefined);
  }

  private observe(err: unknown): void {
    const e = err as { code?: string; message?: string };
    if (e?.code === 'STORE_CORRUPT') void this.freshStart(e.message ?? 'damaged');
  }

  private freshStart(reason: string): Promise<void> {
    this.restarting ??= (async () => {
      try {
        const f = await this.raw.startFresh(reason);
        this.log.error({ store: f }, f.message);
        this.refill();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'the damaged store could not be replaced; stop fcpd and move it aside by hand');
      } finally {
        this.restarting = null;
      }
    })();
    return this.restarting;
  }
}

/** The same store, with every failure (thrown or rejected) shown to `onError` first. */
function watched(store: SymbolStore, onError: (err: unknown) => void): SymbolStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        try {
          const out = (v as (...a: unknown[]) => unknown).apply(target, args);
          if (out instanceof Promise) return out.catch((err: unknown) => (onError(err), Promise.reject(err)));
          return out;
        } catch (err) {
          onError(err);
          throw err;
        }
      };
    },
  });
}
