// At most `concurrency` holders at once, the next `maxQueued` wait in order, and the rest are
// refused at once with MESH_BUSY: heavy requests queue under load instead of piling up work.
import { MeshError } from './errors.js';

type Entry = { grant: (release: () => void) => void; reject: (e: Error) => void };

export class Gate {
  private active = 0;
  private readonly queue: Entry[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
    private readonly what: string,
  ) {}

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with a release function once admitted; `signal` aborting while queued rejects (MESH_CLOSED). */
  enter(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new MeshError('MESH_CLOSED', 'cancelled'));
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new MeshError('MESH_BUSY', `too many ${this.what} in flight on this device; try again shortly`));
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.queue.indexOf(entry);
        if (at >= 0) this.queue.splice(at, 1);
        reject(new MeshError('MESH_CLOSED', 'cancelled'));
      };
      const entry: Entry = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        reject,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.queue.shift();
      if (next) next.grant(this.releaser());
      else this.active--;
    };
  }
}
