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
  const rowPivot = new Int32Array(rowCount).fill(-1);
  let maxR = 0;
  for (let r = 0; r < rowCount; r++) {
    if (isHdpc(r)) continue;
    let count = 0;
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) if (cols[e]! < w) count++;
    remaining[r] = count;
    if (count > maxR) maxR = count;
  }

  // Rows bucketed by their count of remaining V entries, as doubly linked lists in typed arrays
  // (a count only ever drops by one, so moving a row between buckets is O(1)).
  const head = new Int32Array(maxR + 1).fill(-1);
  const next = new Int32Array(rowCount);
  const prev = new Int32Array(rowCount);
  const link = (r: number, b: number): void => {
    const first = head[b]!;
    next[r] = first;
    prev[r] = -1;
    if (first >= 0) prev[first] = r;
    head[b] = r;
  };
  const unlink = (r: number, b: number): void => {
    const p = prev[r]!;
    const n = next[r]!;
    if (p >= 0) next[p] = n;
    else head[b] = n;
    if (n >= 0) prev[n] = p;
  };
  for (let r = rowCount - 1; r >= 0; r--) {
    if (!isHdpc(r) && remaining[r]! > 0) link(r, remaining[r]!);
  }

  let minR = 1;
  const dropColumn = (c: number): void => {
    for (let e = colStart[c]!; e < colStart[c + 1]!; e++) {
      const r = colRows[e]!;
      if (rowPivot[r]! >= 0) continue;
      const b = remaining[r]!;
      unlink(r, b);
      remaining[r] = b - 1;
      if (b > 1) {
        link(r, b - 1);
        if (b - 1 < minR) minR = b - 1;
      }
    }
  };

  const pivotRows = new IntList(l);
  for (;;) {
    while (minR <= maxR && head[minR]! < 0) minR++;
    if (minR > maxR) break;
    const row = head[minR]!;
    unlink(row, minR);
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
