// Phase 1 of inactivation decoding (RFC 6330 section 5.4.2.2): pivots are chosen greedily
// among the binary rows (LDPC and LT; HDPC rows never) by the fewest entries left in the
// not-yet-decided columns V; the other V entries of a chosen row are inactivated. The result
// makes the pivot rows lower triangular in the pivot columns.

import type { SparseRows } from './constraint-rows.js';
import { IntList } from './int-list.js';
import { scratchFloat64, scratchInt32, scratchInt32Unset, scratchUint8 } from './scratch.js';
import type { BlockParams } from './params.js';

// Scratch slots (scratch.ts) of phase 1's working arrays.
const S_COL_START = 0;
const S_COL_ROWS = 1;
const S_COL_FILL = 2;
const S_COL_INDEX = 3;
const S_REMAINING = 4;
const S_ROW_PIVOT = 5;
const S_COL_SUM = 6;
const S_HEAD = 7;
const S_MASK = 8;
const S_NEXT = 9;
const S_PREV = 10;
const S_PARENT = 11;
const S_SIZE = 12;
const S_EDGE_OF = 13;
const S_PIVOT_ROWS = 14;
const S_COL_STATE = 0;
const S_DEGREE_CLASS = 1;
const S_COL_SQUARES = 0;

export const COL_ACTIVE = 0;
export const COL_PIVOT = 1;
export const COL_INACTIVE = 2;

/** colState, colIndex and rowPivot are scratch arrays: valid until the next choosePivots. */
export interface PivotChoice {
  /** Per column: COL_PIVOT or COL_INACTIVE. */
  readonly colState: Uint8Array;
  /** Per column: its pivot index (pivot columns) or its inactive index (the others). */
  readonly colIndex: Int32Array;
  /** Row of each pivot, in pivot order. */
  readonly pivotRows: Int32Array;
  /** Per row: its pivot index, or -1 for rows left to the later phases. */
  readonly rowPivot: Int32Array;
  /** Inactive columns, the P permanently inactive ones first. */
  readonly inactiveCount: number;
}

/** Column -> rows adjacency of the V columns (0..W-1). */
function columnAdjacency(rows: SparseRows, w: number): { colStart: Int32Array; colRows: Int32Array } {
  const { rowCount, rowStart, cols } = rows;
  const colStart = scratchInt32(S_COL_START, w + 1);
  for (let e = 0; e < cols.length; e++) {
    const c = cols[e]!;
    if (c < w) colStart[c + 1]!++;
  }
  for (let c = 0; c < w; c++) colStart[c + 1]! += colStart[c]!;
  const colRows = scratchInt32Unset(S_COL_ROWS, colStart[w]!);
  const fill = scratchInt32(S_COL_FILL, w);
  fill.set(colStart.subarray(0, w));
  for (let r = 0; r < rowCount; r++) {
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) {
      const c = cols[e]!;
      if (c < w) colRows[fill[c]!++] = r;
    }
  }
  return { colStart, colRows };
}

/**
 * Original-degree classes of the tie-break, one bit each in a word per count: LT rows have at
 * most 33 entries (nearly always far fewer), LDPC rows more; degrees of 31 and up share one.
 */
const DEGREE_CLASSES = 32;

export function choosePivots(params: BlockParams, rows: SparseRows): PivotChoice {
  const { s, h, w, l } = params;
  const { rowCount, rowStart, cols } = rows;
  const { colStart, colRows } = columnAdjacency(rows, w);
  const isHdpc = (r: number): boolean => r >= s && r < s + h;

  const colState = scratchUint8(S_COL_STATE, l);
  const colIndex = scratchInt32(S_COL_INDEX, l, -1);
  let inactiveCount = 0;
  for (let c = w; c < l; c++) {
    colState[c] = COL_INACTIVE;
    colIndex[c] = inactiveCount++;
  }

  const remaining = scratchInt32(S_REMAINING, rowCount);
  const degreeClass = scratchUint8(S_DEGREE_CLASS, rowCount);
  const rowPivot = scratchInt32(S_ROW_PIVOT, rowCount, -1);
  // Sum and sum of squares of each row's undecided V columns: once two are left they follow
  // from these (a + b and a^2 + b^2) without rescanning the row.
  const colSum = scratchInt32(S_COL_SUM, rowCount);
  const colSquares = scratchFloat64(S_COL_SQUARES, rowCount);
  let maxR = 0;
  for (let r = 0; r < rowCount; r++) {
    if (isHdpc(r)) continue;
    let count = 0;
    let sum = 0;
    let squares = 0;
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) {
      const c = cols[e]!;
      if (c >= w) continue;
      count++;
      sum += c;
      squares += c * c;
    }
    remaining[r] = count;
    colSum[r] = sum;
    colSquares[r] = squares;
    degreeClass[r] = Math.min(rowStart[r + 1]! - rowStart[r]!, DEGREE_CLASSES - 1);
    if (count > maxR) maxR = count;
  }

  // Rows bucketed by (remaining V entries, original degree class), as doubly linked lists in
  // typed arrays: a count only ever drops by one, so moving a row is O(1).
  const buckets = new RowBuckets(rowCount, maxR);
  const components = new ComponentFinder(w);
  /** A row now has two V entries left: it becomes an edge between those two columns. */
  const becomesEdge = (r: number): void => {
    const sum = colSum[r]!;
    const gap = Math.round(Math.sqrt(2 * colSquares[r]! - sum * sum)); // |a - b|, exact
    components.addEdge(r, (sum - gap) / 2, (sum + gap) / 2);
  };
  for (let r = rowCount - 1; r >= 0; r--) {
    if (isHdpc(r) || remaining[r]! === 0) continue;
    buckets.link(r, remaining[r]!, degreeClass[r]!);
    if (remaining[r] === 2) becomesEdge(r);
  }

  const pivotRows = new IntList(l, scratchInt32Unset(S_PIVOT_ROWS, l));
  const { next: bucketNext, prev: bucketPrev, head: bucketHead, mask: bucketMask } = buckets;
  for (;;) {
    const r = buckets.lowestCount();
    if (r < 0) break;
    // RFC 6330 section 5.4.2.2: with two V entries left, a row in the largest component of the
    // graph whose edges are such rows (nodes are V columns), so the chain of single-entry rows
    // that follows resolves as many columns as possible; otherwise the lowest original degree.
    let row = r === 2 ? components.largestRow(colState) : -1;
    if (row < 0) row = buckets.first(r);
    buckets.unlink(row, r, degreeClass[row]!);
    const j = pivotRows.length;
    rowPivot[row] = j;
    // The row's first active V column becomes the pivot, the others inactive; then every
    // column it decided leaves the rows still counting it (the pivot column last).
    let pivotCol = -1;
    for (let e = rowStart[row]!, end = rowStart[row + 1]!; e <= end; e++) {
      let c: number;
      if (e < end) {
        c = cols[e]!;
        if (c >= w || colState[c] !== COL_ACTIVE) continue;
        if (pivotCol < 0) {
          pivotCol = c;
          continue;
        }
        colState[c] = COL_INACTIVE;
        colIndex[c] = inactiveCount++;
      } else {
        c = pivotCol;
        colState[c] = COL_PIVOT;
        colIndex[c] = j;
      }
      // Inlined bucket moves (RowBuckets.unlink/link): this loop is the hot spot of phase 1.
      const cc = c * c;
      for (let f = colStart[c]!, fEnd = colStart[c + 1]!; f < fEnd; f++) {
        const q = colRows[f]!;
        if (rowPivot[q]! >= 0) continue;
        const b = remaining[q]!;
        const cls = degreeClass[q]!;
        const p = bucketPrev[q]!;
        const n = bucketNext[q]!;
        if (p >= 0) bucketNext[p] = n;
        else {
          bucketHead[b * DEGREE_CLASSES + cls] = n;
          if (n < 0) bucketMask[b]! &= ~(1 << cls);
        }
        if (n >= 0) bucketPrev[n] = p;
        remaining[q] = b - 1;
        colSum[q] -= c;
        colSquares[q] -= cc;
        if (b > 1) buckets.link(q, b - 1, cls);
        if (b === 3) becomesEdge(q);
      }
    }
    pivotRows.push(row);
  }
  // V columns no binary row could take become inactive too.
  for (let c = 0; c < w; c++) {
    if (colState[c] === COL_ACTIVE) {
      colState[c] = COL_INACTIVE;
      colIndex[c] = inactiveCount++;
    }
  }
  return { colState, colIndex, pivotRows: pivotRows.toArray(), rowPivot, inactiveCount };
}

/** Rows by (count, degree class); per count a bit mask of the classes that hold rows. */
export class RowBuckets {
  // Public so choosePivots can inline unlink in its hot loop.
  readonly head: Int32Array;
  readonly mask: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  private readonly maxCount: number;
  private minCount = 1;

  constructor(rowCount: number, maxCount: number) {
    this.maxCount = maxCount;
    this.head = scratchInt32(S_HEAD, (maxCount + 1) * DEGREE_CLASSES, -1);
    this.mask = scratchInt32(S_MASK, maxCount + 1);
    this.next = scratchInt32(S_NEXT, rowCount);
    this.prev = scratchInt32(S_PREV, rowCount);
  }

  link(r: number, count: number, cls: number): void {
    const at = count * DEGREE_CLASSES + cls;
    const first = this.head[at]!;
    this.next[r] = first;
    this.prev[r] = -1;
    if (first >= 0) this.prev[first] = r;
    else this.mask[count]! |= 1 << cls;
    this.head[at] = r;
    if (count < this.minCount) this.minCount = count;
  }

  unlink(r: number, count: number, cls: number): void {
    const p = this.prev[r]!;
    const n = this.next[r]!;
    if (p >= 0) this.next[p] = n;
    else {
      this.head[count * DEGREE_CLASSES + cls] = n;
      if (n < 0) this.mask[count]! &= ~(1 << cls);
    }
    if (n >= 0) this.prev[n] = p;
  }

  /** The smallest count any row has, or -1 when no row is left. */
  lowestCount(): number {
    while (this.minCount <= this.maxCount && this.mask[this.minCount] === 0) this.minCount++;
    return this.minCount <= this.maxCount ? this.minCount : -1;
  }

  /** A row of `count` entries with the lowest degree class (count must be non-empty). */
  first(count: number): number {
    const m = this.mask[count]!;
    return this.head[count * DEGREE_CLASSES + (31 - Math.clz32(m & -m))]!;
  }
}

/**
 * Union-find over the V columns, the edges being the rows with two V entries left. Edges are
 * only ever added: a component loses an edge only when one of its columns is decided, and then
 * the single-entry rows that follow decide every column of it before the next two-entry pick.
 * So a component whose root column is still undecided is exactly a component of the current
 * graph, all its edges still have two entries, and any of them can stand for it. The largest
 * one comes from a max-heap of (size, root) entries, stale ones dropped when they surface.
 */
export class ComponentFinder {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;
  private readonly edgeOf: Int32Array;
  private readonly heap: number[] = [];

  constructor(columns: number) {
    this.parent = scratchInt32(S_PARENT, columns, -1);
    this.size = scratchInt32(S_SIZE, columns);
    this.edgeOf = scratchInt32(S_EDGE_OF, columns);
  }

  private root(x: number): number {
    const parent = this.parent;
    if (parent[x]! < 0) {
      parent[x] = x;
      this.size[x] = 1;
      return x;
    }
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  }

  addEdge(row: number, a: number, b: number): void {
    let ra = this.root(a);
    let rb = this.root(b);
    if (ra === rb) return;
    if (this.size[ra]! < this.size[rb]!) [ra, rb] = [rb, ra];
    if (this.size[ra] === 1) this.edgeOf[ra] = row; // two single columns: a new component
    this.parent[rb] = ra;
    this.size[ra]! += this.size[rb]!;
    this.push(this.size[ra]! * COMPONENT_KEY + ra);
  }

  /** A row with two V entries left whose component has the most columns (-1: none known). */
  largestRow(colState: Uint8Array): number {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) return -1;
      const root = top % COMPONENT_KEY;
      const size = (top - root) / COMPONENT_KEY;
      if (this.parent[root] === root && this.size[root] === size && colState[root] === COL_ACTIVE) return this.edgeOf[root]!;
      this.pop();
    }
  }

  private push(v: number): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(v);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (heap[up]! >= v) break;
      heap[i] = heap[up]!;
      i = up;
    }
    heap[i] = v;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]! > heap[child]!) child++;
      if (heap[child]! <= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

/** Heap keys are size * COMPONENT_KEY + root (exact in a double: both are below 2^17). */
const COMPONENT_KEY = 1 << 17;
