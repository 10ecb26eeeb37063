// Phase 1 of inactivation decoding (RFC 6330 section 5.4.2.2): pivots are chosen greedily
// among the binary rows (LDPC and LT; HDPC rows never) by the fewest entries left in the
// not-yet-decided columns V; the other V entries of a chosen row are inactivated. The result
// makes the pivot rows lower triangular in the pivot columns.

import type { SparseRows } from './constraint-rows.js';
import { IntList } from './int-list.js';
import type { BlockParams } from './params.js';

export const COL_ACTIVE = 0;
export const COL_PIVOT = 1;
export const COL_INACTIVE = 2;

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
  const colStart = new Int32Array(w + 1);
  for (let e = 0; e < cols.length; e++) {
    const c = cols[e]!;
    if (c < w) colStart[c + 1]!++;
  }
  for (let c = 0; c < w; c++) colStart[c + 1]! += colStart[c]!;
  const colRows = new Int32Array(colStart[w]!);
  const fill = colStart.slice(0, w);
  for (let r = 0; r < rowCount; r++) {
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) {
      const c = cols[e]!;
      if (c < w) colRows[fill[c]!++] = r;
    }
  }
  return { colStart, colRows };
}

/** Original-degree classes of the tie-break: LT rows have at most 33 entries, LDPC rows more. */
const DEGREE_CLASSES = 41;

export function choosePivots(params: BlockParams, rows: SparseRows): PivotChoice {
  const { s, h, w, l } = params;
  const { rowCount, rowStart, cols } = rows;
  const { colStart, colRows } = columnAdjacency(rows, w);
  const isHdpc = (r: number): boolean => r >= s && r < s + h;

  const colState = new Uint8Array(l);
  const colIndex = new Int32Array(l).fill(-1);
  let inactiveCount = 0;
  for (let c = w; c < l; c++) {
    colState[c] = COL_INACTIVE;
    colIndex[c] = inactiveCount++;
  }

  const remaining = new Int32Array(rowCount);
  const degreeClass = new Uint8Array(rowCount);
  const rowPivot = new Int32Array(rowCount).fill(-1);
  let maxR = 0;
  for (let r = 0; r < rowCount; r++) {
    if (isHdpc(r)) continue;
    let count = 0;
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) if (cols[e]! < w) count++;
    remaining[r] = count;
    degreeClass[r] = Math.min(rowStart[r + 1]! - rowStart[r]!, DEGREE_CLASSES - 1);
    if (count > maxR) maxR = count;
  }

  // Rows bucketed by (remaining V entries, original degree class), as doubly linked lists in
  // typed arrays: a count only ever drops by one, so moving a row is O(1).
  const buckets = new RowBuckets(rowCount, maxR);
  const components = new ComponentFinder(w, rowCount);
  /** A row now has two V entries left: it becomes an edge between those two columns. */
  const becomesEdge = (r: number): void => {
    let a = -1;
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) {
      const c = cols[e]!;
      if (c >= w || colState[c] !== COL_ACTIVE) continue;
      if (a < 0) a = c;
      else {
        components.addEdge(r, a, c);
        return;
      }
    }
  };
  for (let r = rowCount - 1; r >= 0; r--) {
    if (isHdpc(r) || remaining[r]! === 0) continue;
    buckets.link(r, remaining[r]!, degreeClass[r]!);
    if (remaining[r] === 2) becomesEdge(r);
  }

  const dropColumn = (c: number): void => {
    for (let e = colStart[c]!; e < colStart[c + 1]!; e++) {
      const r = colRows[e]!;
      if (rowPivot[r]! >= 0) continue;
      const b = remaining[r]!;
      buckets.unlink(r, b, degreeClass[r]!);
      remaining[r] = b - 1;
      if (b > 1) buckets.link(r, b - 1, degreeClass[r]!);
      if (b === 3) becomesEdge(r);
    }
  };

  const pivotRows = new IntList(l);
  for (;;) {
    const r = buckets.lowestCount();
    if (r < 0) break;
    // RFC 6330 section 5.4.2.2: with two V entries left, a row in the largest component of the
    // graph whose edges are such rows (nodes are V columns), so the chain of single-entry rows
    // that follows resolves as many columns as possible; otherwise the lowest original degree.
    const row = r === 2 ? components.largestRow(buckets) : buckets.first(r);
    buckets.unlink(row, r, degreeClass[row]!);
    const j = pivotRows.length;
    rowPivot[row] = j;
    let pivotCol = -1;
    for (let e = rowStart[row]!; e < rowStart[row + 1]!; e++) {
      const c = cols[e]!;
      if (c >= w || colState[c] !== COL_ACTIVE) continue;
      if (pivotCol < 0) {
        pivotCol = c;
        continue;
      }
      colState[c] = COL_INACTIVE;
      colIndex[c] = inactiveCount++;
      dropColumn(c);
    }
    colState[pivotCol] = COL_PIVOT;
    colIndex[pivotCol] = j;
    dropColumn(pivotCol);
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

/** Rows by (count, degree class); per count a tally so empty counts are skipped at once. */
export class RowBuckets {
  private readonly head: Int32Array;
  private readonly tally: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly maxCount: number;
  private minCount = 1;

  constructor(rowCount: number, maxCount: number) {
    this.maxCount = maxCount;
    this.head = new Int32Array((maxCount + 1) * DEGREE_CLASSES).fill(-1);
    this.tally = new Int32Array(maxCount + 1);
    this.next = new Int32Array(rowCount);
    this.prev = new Int32Array(rowCount);
  }

  link(r: number, count: number, cls: number): void {
    const at = count * DEGREE_CLASSES + cls;
    const first = this.head[at]!;
    this.next[r] = first;
    this.prev[r] = -1;
    if (first >= 0) this.prev[first] = r;
    this.head[at] = r;
    this.tally[count]!++;
    if (count < this.minCount) this.minCount = count;
  }

  unlink(r: number, count: number, cls: number): void {
    const p = this.prev[r]!;
    const n = this.next[r]!;
    if (p >= 0) this.next[p] = n;
    else this.head[count * DEGREE_CLASSES + cls] = n;
    if (n >= 0) this.prev[n] = p;
    this.tally[count]!--;
  }

  /** The smallest count any row has, or -1 when no row is left. */
  lowestCount(): number {
    while (this.minCount <= this.maxCount && this.tally[this.minCount] === 0) this.minCount++;
    return this.minCount <= this.maxCount ? this.minCount : -1;
  }

  /** A row of `count` entries with the lowest degree class (count must be non-empty). */
  first(count: number): number {
    const base = count * DEGREE_CLASSES;
    for (let cls = 0; ; cls++) if (this.head[base + cls]! >= 0) return this.head[base + cls]!;
  }

  /** Head of the list of rows with `count` entries in degree class `cls` (-1 when empty). */
  headOf(count: number, cls: number): number {
    return this.head[count * DEGREE_CLASSES + cls]!;
  }

  /** The row after `r` in its list, or -1. */
  nextOf(r: number): number {
    return this.next[r]!;
  }
}

/**
 * Union-find over the V columns, the edges being the rows with two V entries left. Edges are
 * only ever added: a component loses an edge only when one of its columns is decided, and then
 * the single-entry rows that follow decide every column of it, so the live components are
 * always exactly those of the current graph.
 */
export class ComponentFinder {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;
  private readonly edgeEnd: Int32Array;

  constructor(columns: number, rows: number) {
    this.parent = new Int32Array(columns).fill(-1);
    this.size = new Int32Array(columns);
    this.edgeEnd = new Int32Array(rows);
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
    this.edgeEnd[row] = a;
    let ra = this.root(a);
    let rb = this.root(b);
    if (ra === rb) return;
    if (this.size[ra]! < this.size[rb]!) [ra, rb] = [rb, ra];
    this.parent[rb] = ra;
    this.size[ra]! += this.size[rb]!;
  }

  /** A row with two V entries left whose component has the most columns. */
  largestRow(buckets: RowBuckets): number {
    let best = -1;
    let bestSize = -1;
    for (let cls = 0; cls < DEGREE_CLASSES; cls++) {
      for (let r = buckets.headOf(2, cls); r >= 0; r = buckets.nextOf(r)) {
        const size = this.size[this.root(this.edgeEnd[r]!)]!;
        if (size > bestSize) {
          bestSize = size;
          best = r;
        }
      }
    }
    return best;
  }
}
