// Typed arrays for data that lives only while one solve is planned and compiled. Inside
// transient(fn) the allocators below carve zeroed views out of one retained buffer instead of
// allocating a backing store each: a decode at K = 52 made some 25 typed arrays of more than
// 64 bytes (each a separate off-heap allocation of 0.3 to 0.7 us, tracked and swept by the
// GC) for a plan it drops right after compiling it. Outside transient() they allocate as
// `new Int32Array(n)` does, so plans that are kept (encoding plans, cached per K') or made by
// tests are unaffected.
//
// Views stay valid after the scope ends, but the next scope reuses the bytes: only data not
// referenced after fn returns may be allocated here. Scopes do not nest (an inner transient()
// just runs fn in the outer scope), and no await happens inside one.

import { idleDropper } from './idle-drop.js';

/** Bytes kept between scopes; a scope needing more allocates the rest fresh and keeps none of it. */
const KEEP_BYTES = 4 << 20;
/** A retained buffer is dropped after this long without use, so an idle process keeps nothing. */
const IDLE_MS = 2000;

let active = false;
let chunk: ArrayBuffer | null = null;
let used = 0;

const scheduleDrop = idleDropper(IDLE_MS, () => {
  chunk = null;
});

/** Runs fn with the allocators below serving from the retained buffer. */
export function transient<T>(fn: () => T): T {
  if (active) return fn();
  active = true;
  used = 0;
  try {
    return fn();
  } finally {
    active = false;
    // Clear what was handed out, so the next scope's views start zero with no fill per view.
    if (chunk) new Uint8Array(chunk, 0, Math.min(used, chunk.byteLength)).fill(0);
    used = 0;
    scheduleDrop();
  }
}

/** Byte offset of `bytes` zeroed bytes (8-byte aligned) in the current chunk, or -1 to allocate fresh. */
function carve(bytes: number): number {
  if (!active) return -1;
  const size = (bytes + 7) & ~7;
  if (!chunk || used + size > chunk.byteLength) {
    // Grow the retained buffer (views already handed out keep the old one alive).
    const want = Math.max(used + size, 2 * (chunk?.byteLength ?? 0), 64 << 10);
    if (want > KEEP_BYTES) return -1;
    // The old chunk's used part is abandoned with its views; the new one starts clean.
    chunk = new ArrayBuffer(want);
    used = 0;
  }
  const at = used;
  used += size;
  return at;
}

export function allocInt32(n: number): Int32Array {
  const at = carve(n * 4);
  return at < 0 ? new Int32Array(n) : new Int32Array(chunk!, at, n);
}

export function allocUint8(n: number): Uint8Array {
  const at = carve(n);
  return at < 0 ? new Uint8Array(n) : new Uint8Array(chunk!, at, n);
}

/** A copy of src[0..n) (n = src.length by default) from the allocator. */
export function copyInt32(src: Int32Array, n = src.length): Int32Array {
  const out = allocInt32(n);
  out.set(n === src.length ? src : src.subarray(0, n));
  return out;
}

type Packable = Int32Array | Uint8Array;

/**
 * Moves every typed array field of `record` into one fresh buffer (one backing store for a plan
 * that is kept), in place: the record keeps its shape, so code reading plans stays monomorphic.
 */
export function packArrays<T extends object>(record: T): T {
  const fields = record as Record<string, unknown>;
  let total = 0;
  for (const key in fields) {
    const v = fields[key];
    if (v instanceof Int32Array || v instanceof Uint8Array) total += (v.byteLength + 7) & ~7;
  }
  const buffer = new ArrayBuffer(total);
  let at = 0;
  for (const key in fields) {
    const v = fields[key];
    if (!(v instanceof Int32Array || v instanceof Uint8Array)) continue;
    const copy: Packable = v instanceof Int32Array ? new Int32Array(buffer, at, v.length) : new Uint8Array(buffer, at, v.length);
    copy.set(v as never);
    at += (v.byteLength + 7) & ~7;
    fields[key] = copy;
  }
  return record;
}
