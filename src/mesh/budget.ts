// A shared allowance of bytes (queued replies, buffered requests). Waiters are served in
// arrival order, so a large reservation is not starved by a stream of small ones.
import { MeshError } from './errors.js';

type Waiter = { n: number; resolve: () => void; reject: (e: Error) => void; signal: AbortSignal | undefined; onAbort: () => void };

export class ByteBudget {
  private used = 0;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** True while more may be taken without exceeding the limit. */
  get withinLimit(): boolean {
    return this.used <= this.limit;
  }

  /** n bytes fit when they stay under the limit, or when nothing is taken (one oversized item may pass). */
  private fits(n: number): boolean {
    return this.used === 0 || this.used + n <= this.limit;
  }

  /** Takes n bytes now if they fit and nobody is waiting. */
  tryTake(n: number): boolean {
    if (this.waiters.length > 0 || !this.fits(n)) return false;
    this.used += n;
    return true;
  }

  /** Takes n bytes regardless (bytes that already arrived); later takers wait until it is back under. */
  force(n: number): void {
    this.used += n;
  }

  /** Waits until n bytes fit, then takes them. Rejects with MESH_CLOSED when `signal` aborts first. */
  acquire(n: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(closedError());
    if (this.tryTake(n)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        n,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(w);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(closedError());
          this.wake();
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  release(n: number): void {
    this.used -= n;
    if (this.used < 0) this.used = 0;
    this.wake();
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.n)) {
      const w = this.waiters.shift()!;
      w.signal?.removeEventListener('abort', w.onAbort);
      this.used += w.n;
      w.resolve();
    }
  }
}

function closedError(): MeshError {
  return new MeshError('MESH_CLOSED', 'connection closed');
}
