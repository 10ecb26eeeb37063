// Typed arrays reused from one plan to the next. A plan at K = 52 allocates some forty small
// arrays, and at 64 KiB their allocation and collection cost about as much as the work done
// on them. Only for arrays no plan keeps; each use gets the array cleared to its fill value
// (scratchInt32Unset: left as it was, for lists that are written before they are read).
// Arrays above SCRATCH_LIMIT entries are allocated fresh, so a large block leaves nothing
// behind. Plans are made one at a time (no await inside), so a slot has one user at a time.

const SCRATCH_LIMIT = 1 << 15;
const int32Slots: Int32Array[] = [];
const uint8Slots: Uint8Array[] = [];
const float64Slots: Float64Array[] = [];

function slot<T extends Int32Array | Uint8Array | Float64Array>(slots: T[], id: number, n: number, make: (n: number) => T): T {
  if (n > SCRATCH_LIMIT) return make(n);
  let buffer = slots[id];
  if (!buffer || buffer.length < n) {
    buffer = make(Math.max(n, 64));
    slots[id] = buffer;
  }
  return buffer.subarray(0, n) as T;
}

/** Int32 scratch array `id` of n entries, every entry set to `fill`. */
export function scratchInt32(id: number, n: number, fill = 0): Int32Array {
  return slot(int32Slots, id, n, (m) => new Int32Array(m)).fill(fill);
}

/** Int32 scratch array `id` of n entries left as the last user left them: for lists written before read. */
export function scratchInt32Unset(id: number, n: number): Int32Array {
  return slot(int32Slots, id, n, (m) => new Int32Array(m));
}

export function scratchUint8(id: number, n: number): Uint8Array {
  return slot(uint8Slots, id, n, (m) => new Uint8Array(m)).fill(0);
}

export function scratchFloat64(id: number, n: number): Float64Array {
  return slot(float64Slots, id, n, (m) => new Float64Array(m)).fill(0);
}
