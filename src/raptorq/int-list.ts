// A growable list of int32 values backed by a typed array (no per-element boxing).

import { copyInt32 } from './arena.js';

export class IntList {
  data: Int32Array;
  length = 0;
  /** The first buffer was lent (a scratch array): toArray must copy out of it. */
  private borrowed: boolean;

  /**
   * `initial` lends the list a buffer to start in (scratch.ts: small plans then allocate only
   * their exact result); otherwise one of `capacity` entries is allocated.
   */
  constructor(capacity = 64, initial?: Int32Array) {
    this.borrowed = initial !== undefined && initial.length >= 4;
    this.data = this.borrowed ? initial! : new Int32Array(Math.max(4, capacity));
  }

  push(v: number): void {
    // Growing by half, not doubling: at K = 52429 lists reach megabytes, and the old buffer
    // stays allocated until the next GC.
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length + (this.data.length >>> 1) + 4);
      next.set(this.data);
      this.data = next;
      this.borrowed = false;
    }
    this.data[this.length++] = v;
  }

  /**
   * The values; a view of the list's own buffer unless it is lent or more than a fifth of it
   * is unused.
   */
  toArray(): Int32Array {
    if (!this.borrowed && this.data.length - this.length <= this.data.length / 5) return this.data.subarray(0, this.length);
    return copyInt32(this.data, this.length);
  }
}
