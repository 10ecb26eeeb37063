// Reusable shared-memory buffers for the store path's large per-chunk buffers.
//
// Each chunk stored needs a buffer for the chunk and one about twice its size for its envelopes.
// Fresh ones cost page faults, and V8 frees external memory only in full collections, which it
// starts every 64 MB of it allocated: a mark-compact every few chunks. Reused ones cost neither.
// They are SharedArrayBuffers, so the coding worker reads and writes them in place.
//
// A buffer goes back only from the code that knows nothing refers to it any more (a store that
// succeeded); anything that failed half-way is left to the collector.

/** Sizes are rounded up to this, so that chunks of nearby sizes can use each other's buffers. */
const GRAIN = 256 * 1024;

export class SharedBufferPool {
  private readonly free: SharedArrayBuffer[] = [];
  private freeBytes = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  /**
   * Keeps at most `maxFreeBytes` of buffers not in use, and none once nothing was given back
   * for `idleMs`: between stores the memory goes back (to the collector) for other work.
   */
  constructor(
    readonly maxFreeBytes: number,
    readonly idleMs = 1000,
  ) {}

  /** A view of `n` bytes (contents undefined) on a buffer not in use. */
  take(n: number): Uint8Array {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.byteLength;
      // Not much larger than asked: a small chunk must not hold a buffer a large one could use.
      if (size >= n && size <= 2 * n + GRAIN && (best < 0 || size < this.free[best]!.byteLength)) best = i;
    }
    if (best < 0) return new Uint8Array(new SharedArrayBuffer(Math.ceil(Math.max(1, n) / GRAIN) * GRAIN), 0, n);
    const [sab] = this.free.splice(best, 1);
    this.freeBytes -= sab!.byteLength;
    return new Uint8Array(sab!, 0, n);
  }

  /** Gives back a view's buffer (one from take) for reuse; nothing may use it afterwards. */
  give(view: Uint8Array): void {
    const sab = view.buffer;
    if (!(sab instanceof SharedArrayBuffer) || this.free.includes(sab)) return;
    if (this.freeBytes + sab.byteLength > this.maxFreeBytes) return;
    this.free.push(sab);
    this.freeBytes += sab.byteLength;
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => this.drain(), this.idleMs);
      this.idleTimer.unref();
    }
  }

  /** Drops every idle buffer. */
  drain(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.free.length = 0;
    this.freeBytes = 0;
  }

  get idleBytes(): number {
    return this.freeBytes;
  }
}
