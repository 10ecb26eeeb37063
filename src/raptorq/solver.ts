// Inactivation decoding of RFC 6330 section 5.4, done symbolically: the solver looks only at
// the constraint matrix and produces a SolvePlan, the exact sequence of row operations that
// turns the right-hand side D into the intermediate symbols C. program.ts flattens a plan into
// row operations for the kernels. Because the matrix for encoding depends only on K', an
// encoding plan is computed once per K' and reused for every block with that K'.
//
// Shape of the solution (A C = D, rows split into pivot rows p and other rows o, columns into
// pivot columns V and inactive columns U):
//   phase 1  chooses pivots greedily by the fewest remaining V entries; the other V entries of
//            a chosen row are inactivated. A_pv becomes lower triangular (pivoting.ts).
//   forward  Z = A_pv^-1 D_p by forward substitution (in place on the pivot rows).
//   others   D_o -= A_ov Z; the U part of each other row becomes A_ou - A_ov A_pv^-1 A_pu.
//            The HDPC rows (MT x GAMMA) get their coefficients from a backward scalar Horner
//            recurrence, pushed down the triangle instead of multiplying fill rows
//            (elimination.ts).
//   dense    the small system on U: binary rows first (XOR only), HDPC rows last (GF(256))
//            (dense-solve.ts).
//   back     C_V = A_pv^-1 (D_p - A_pu C_U), per pivot row the cheaper of two ways: undo its
//            forward step, subtract its sparse part of A_pu C_U and redo the step (2 x lower +
//            upper row operations), or add its row of the fill A_pv^-1 A_pu times C_U directly
//            (one operation per set bit), whichever needs fewer.

import { allocInt32, allocUint8 } from './arena.js';
import { buildConstraintRows } from './constraint-rows.js';
import { solveDense } from './dense-solve.js';
import { hdpcPart, otherRowsPart, triangularPart } from './elimination.js';
import type { BlockParams } from './params.js';
import { choosePivots, COL_PIVOT } from './pivoting.js';

export { OP_MUL_ADD, OP_SCALE, OP_XOR } from './dense-solve.js';

export interface SolvePlan {
  readonly params: BlockParams;
  /** Rows of the working buffer: S LDPC rows, H HDPC rows, then the LT rows. */
  readonly rowCount: number;
  /** Pivot rows in pivot order. */
  readonly pivotRows: Int32Array;
  /** For pivot j: rows of earlier pivots to XOR in, lowerRows[lowerStart[j] .. lowerStart[j+1]). */
  readonly lowerStart: Int32Array;
  readonly lowerRows: Int32Array;
  /** For pivot j: inactive-column indices of its original row. */
  readonly upperStart: Int32Array;
  readonly upperCols: Int32Array;
  /**
   * Back substitution: when direct[j] is set, pivot j adds the inactive columns
   * directCols[directStart[j] .. directStart[j+1]) (its fill row); otherwise its forward step
   * is undone and redone.
   */
  readonly direct: Uint8Array;
  readonly directStart: Int32Array;
  readonly directCols: Int32Array;
  /** Non-pivot binary rows and the pivot rows each must XOR in. */
  readonly otherRows: Int32Array;
  readonly otherStart: Int32Array;
  readonly otherPivotRows: Int32Array;
  /** For column m < K'+S: the pivot row solving it, or -1. */
  readonly hdpcColumnRow: Int32Array;
  /** The two HDPC rows (0..H-1) that MT marks in column m, for m < K'+S-1. */
  readonly hdpcFirst: Uint8Array;
  readonly hdpcSecond: Uint8Array;
  /** Dense phase: quadruples (op, dst, src, beta). */
  readonly denseOps: Int32Array;
  /** Row that holds C[u-index] after the dense phase. */
  readonly inactiveRow: Int32Array;
  /** Row that holds intermediate symbol C[c] at the end. */
  readonly columnRow: Int32Array;
  /** Statistics: inactivated columns (including the P permanent ones). */
  readonly inactiveCount: number;
}

/**
 * Plans the solution of the system whose LT rows are the internal symbol ids `isis`
 * (row S+H+t encodes isis[t]). Returns null when the matrix does not have full rank L,
 * which means more symbols are needed.
 */
export function planSolve(params: BlockParams, isis: ArrayLike<number>): SolvePlan | null {
  const rows = buildConstraintRows(params, isis);
  const choice = choosePivots(params, rows);
  const u = choice.inactiveCount;
  // More unknowns than equations left to pin them down: give up before any dense work.
  if (rows.rowCount - choice.pivotRows.length < u) return null;
  const uWords = (u + 31) >>> 5;

  const triangle = triangularPart(rows, choice, uWords);
  const others = otherRowsPart(params, rows, choice, triangle.fill, uWords);
  const hdpc = hdpcPart(params, choice, triangle);
  const dense = solveDense({
    binaryRows: others.otherRows,
    binaryBits: others.otherBits,
    uWords,
    hdpcFirstRow: params.s,
    hdpcCount: params.h,
    hdBytes: hdpc.hdBytes,
    hdStride: hdpc.stride,
    u,
  });
  if (!dense) return null;

  const back = backSubstitution(triangle.lowerStart, triangle.upperStart, triangle.fill, uWords);
  const { colState, colIndex, pivotRows } = choice;
  const columnRow = allocInt32(params.l);
  for (let c = 0; c < params.l; c++) {
    columnRow[c] = colState[c] === COL_PIVOT ? pivotRows[colIndex[c]!]! : dense.inactiveRow[colIndex[c]!]!;
  }

  return {
    params,
    rowCount: rows.rowCount,
    pivotRows,
    lowerStart: triangle.lowerStart,
    lowerRows: triangle.lowerRows,
    upperStart: triangle.upperStart,
    upperCols: triangle.upperCols,
    direct: back.direct,
    directStart: back.directStart,
    directCols: back.directCols,
    otherRows: others.otherRows,
    otherStart: others.otherStart,
    otherPivotRows: others.otherPivotRows,
    hdpcColumnRow: hdpc.hdpcColumnRow,
    hdpcFirst: hdpc.hdpcFirst,
    hdpcSecond: hdpc.hdpcSecond,
    denseOps: dense.ops,
    inactiveRow: dense.inactiveRow,
    columnRow,
    inactiveCount: u,
  };
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Chooses per pivot the cheaper back-substitution (see the header) and lists its columns. */
function backSubstitution(
  lowerStart: Int32Array,
  upperStart: Int32Array,
  fill: Int32Array,
  uWords: number,
): { direct: Uint8Array; directStart: Int32Array; directCols: Int32Array } {
  const n = lowerStart.length - 1;
  const direct = allocUint8(n);
  const directStart = allocInt32(n + 1);
  let total = 0;
  for (let j = 0; j < n; j++) {
    let bits = 0;
    for (let q = j * uWords, end = q + uWords; q < end; q++) bits += popcount(fill[q]!);
    const redo = 2 * (lowerStart[j + 1]! - lowerStart[j]!) + (upperStart[j + 1]! - upperStart[j]!);
    directStart[j] = total;
    if (bits < redo) {
      direct[j] = 1;
      total += bits;
    }
  }
  directStart[n] = total;
  const directCols = allocInt32(total);
  for (let j = 0, at = 0; j < n; j++) {
    if (!direct[j]) continue;
    for (let q = 0; q < uWords; q++) {
      let x = fill[j * uWords + q]!;
      while (x !== 0) {
        const low = x & -x;
        directCols[at++] = q * 32 + (31 - Math.clz32(low));
        x ^= low;
      }
    }
  }
  return { direct, directStart, directCols };
}
