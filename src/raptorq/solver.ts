// Inactivation decoding of RFC 6330 section 5.4, done symbolically: the solver looks only at
// the constraint matrix and produces a SolvePlan, the exact sequence of row operations that
// turns the right-hand side D into the intermediate symbols C. The plan is replayed on symbol
// data by plan-executor.ts. Because the matrix for encoding depends only on K', an encoding plan
// is computed once per K' and reused for every block with that K'.
//
// Shape of the solution (A C = D, rows split into pivot rows p and other rows o, columns into
// pivot columns V and inactive columns U):
//   phase 1  chooses pivots greedily by the fewest remaining V entries (section 5.4.2.2); the
//            other V entries of a chosen row are inactivated. A_pv becomes lower triangular.
//   forward  Z = A_pv^-1 D_p by forward substitution (in place on the pivot rows).
//   others   D_o -= A_ov Z; the U part of each other row becomes A_ou - A_ov A_pv^-1 A_pu.
//            The HDPC rows (MT x GAMMA) are eliminated with one Horner pass over the columns
//            instead of H multiply-adds per column.
//   dense    the small system on U: binary rows first (XOR only), HDPC rows last (GF(256)).
//   back     C_V = A_pv^-1 (D_p - A_pu C_U): undo the forward pass, subtract the sparse
//            A_pu C_U, redo the forward pass. Three sparse passes are far cheaper than the
//            dense fill of A_pv^-1 A_pu.

import { gfAlphaPow, gfInv, MUL_TABLE } from './gf256.js';
import type { BlockParams } from './params.js';
import { buildConstraintRows } from './constraint-rows.js';
import { rand } from './tuple.js';

export const OP_XOR = 0;
export const OP_MUL_ADD = 1;
export const OP_SCALE = 2;

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

const NIBBLE_TO_BYTES = new Int32Array(16);
for (let n = 0; n < 16; n++) {
  let v = 0;
  for (let bit = 0; bit < 4; bit++) if ((n >>> bit) & 1) v |= 1 << (8 * bit);
  NIBBLE_TO_BYTES[n] = v;
}

/** Growable Int32 list. */
class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity = 64) {
    this.data = new Int32Array(Math.max(4, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * Plans the solution of the system whose LT rows are the internal symbol ids `isis`
 * (row S+H+t encodes isis[t]). Returns null when the matrix does not have full rank L,
 * which means more symbols are needed.
 */
export function planSolve(params: BlockParams, isis: ArrayLike<number>): SolvePlan | null {
  const { kPrime, s, h, w, l } = params;
  const rows = buildConstraintRows(params, isis);
  const rowCount = rows.rowCount;
  const { rowStart, cols } = rows;
  const hdpcBegin = s;
  const hdpcEnd = s + h;

  // Column -> rows adjacency for the V columns (0..W-1) over binary rows.
  const colStart = new Int32Array(w + 1);
  for (let e = 0; e < cols.length; e++) {
    const c = cols[e]!;
    if (c < w) colStart[c + 1]!++;
  }
  for (let c = 0; c < w; c++) colStart[c + 1]! += colStart[c]!;
  const colRows = new Int32Array(colStart[w]!);
  {
    const fill = colStart.slice(0, w);
    for (let r = 0; r < rowCount; r++) {
      for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) {
        const c = cols[e]!;
        if (c < w) colRows[fill[c]!++] = r;
      }
    }
  }

  // ---- phase 1: greedy pivot choice with inactivation ----
  const COL_ACTIVE = 0;
  const COL_PIVOT = 1;
  const COL_INACTIVE = 2;
  const colState = new Uint8Array(l);
  const colIndex = new Int32Array(l).fill(-1);
  let inactiveCount = 0;
  for (let c = w; c < l; c++) {
    colState[c] = COL_INACTIVE;
    colIndex[c] = inactiveCount++;
  }
  const remaining = new Int32Array(rowCount);
  const chosen = new Int32Array(rowCount).fill(-1);
  let maxR = 0;
  for (let r = 0; r < rowCount; r++) {
    if (r >= hdpcBegin && r < hdpcEnd) continue;
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
    if (r >= hdpcBegin && r < hdpcEnd) continue;
    if (remaining[r]! > 0) link(r, remaining[r]!);
  }
  let minR = 1;
  const pivotRowsList = new IntList(l);

  const dropColumn = (c: number): void => {
    for (let e = colStart[c]!; e < colStart[c + 1]!; e++) {
      const r = colRows[e]!;
      if (chosen[r]! >= 0) continue;
      const b = remaining[r]!;
      unlink(r, b);
      remaining[r] = b - 1;
      if (b > 1) {
        link(r, b - 1);
        if (b - 1 < minR) minR = b - 1;
      }
    }
  };

  for (;;) {
    while (minR <= maxR && head[minR]! < 0) minR++;
    if (minR > maxR) break;
    const row = head[minR]!;
    unlink(row, minR);
    const j = pivotRowsList.length;
    chosen[row] = j;
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
    pivotRowsList.push(row);
  }
  // V columns no binary row could take become inactive too.
  for (let c = 0; c < w; c++) {
    if (colState[c] === COL_ACTIVE) {
      colState[c] = COL_INACTIVE;
      colIndex[c] = inactiveCount++;
    }
  }
  const pivotCount = pivotRowsList.length;
  const pivotRows = pivotRowsList.toArray();
  const u = inactiveCount;
  // More unknowns than equations can ever pin down: give up before any dense work.
  if (rowCount - pivotCount < u) return null;
  const uWords = (u + 31) >>> 5;

  // ---- lower/upper lists of the pivot rows and the W = A_pv^-1 A_pu bit rows ----
  const lowerStart = new Int32Array(pivotCount + 1);
  const upperStart = new Int32Array(pivotCount + 1);
  const lowerList = new IntList(pivotCount * 4);
  const upperList = new IntList(pivotCount * 3);
  const fill = new Int32Array(pivotCount * uWords);
  for (let j = 0; j < pivotCount; j++) {
    const row = pivotRows[j]!;
    lowerStart[j] = lowerList.length;
    upperStart[j] = upperList.length;
    const base = j * uWords;
    for (let e = rowStart[row]!; e < rowStart[row + 1]!; e++) {
      const c = cols[e]!;
      if (colState[c] === COL_PIVOT) {
        const k = colIndex[c]!;
        if (k === j) continue;
        lowerList.push(pivotRows[k]!);
        const kb = k * uWords;
        for (let q = 0; q < uWords; q++) fill[base + q] ^= fill[kb + q]!;
      } else {
        const q = colIndex[c]!;
        upperList.push(q);
        fill[base + (q >>> 5)] ^= 1 << (q & 31);
      }
    }
  }
  lowerStart[pivotCount] = lowerList.length;
  upperStart[pivotCount] = upperList.length;

  // ---- other binary rows: eliminate pivot columns, keep their U part as bits ----
  const otherRowsList = new IntList(u + 16);
  const otherStartList = new IntList(u + 16);
  const otherPivots = new IntList(u * 8 + 16);
  for (let r = 0; r < rowCount; r++) {
    if ((r >= hdpcBegin && r < hdpcEnd) || chosen[r]! >= 0) continue;
    otherRowsList.push(r);
    otherStartList.push(otherPivots.length);
  }
  otherStartList.push(otherPivots.length);
  const otherCount = otherRowsList.length;
  const otherRows = otherRowsList.toArray();
  const otherBits = new Int32Array(otherCount * uWords);
  const otherStart = new Int32Array(otherCount + 1);
  for (let t = 0; t < otherCount; t++) {
    const r = otherRows[t]!;
    otherStart[t] = otherPivots.length;
    const base = t * uWords;
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) {
      const c = cols[e]!;
      if (colState[c] === COL_PIVOT) {
        const k = colIndex[c]!;
        otherPivots.push(pivotRows[k]!);
        const kb = k * uWords;
        for (let q = 0; q < uWords; q++) otherBits[base + q] ^= fill[kb + q]!;
      } else {
        const q = colIndex[c]!;
        otherBits[base + (q >>> 5)] ^= 1 << (q & 31);
      }
    }
  }
  otherStart[otherCount] = otherPivots.length;

  // ---- HDPC rows: Horner pass over columns 0..K'+S-1 (G_HDPC = MT x GAMMA) ----
  const hdpcCols = kPrime + s;
  const uPadWords = (u + 3) >>> 2;
  const uPad = uPadWords * 4;
  const g = new Int32Array(uPadWords);
  const gBytes = new Uint8Array(g.buffer);
  const hd = new Int32Array(h * uPadWords);
  const hdBytes = new Uint8Array(hd.buffer);
  const hdpcColumnRow = new Int32Array(hdpcCols);
  const hdpcFirst = new Uint8Array(hdpcCols);
  const hdpcSecond = new Uint8Array(hdpcCols);
  for (let m = 0; m < hdpcCols; m++) {
    for (let q = 0; q < uPadWords; q++) {
      const x = g[q]!;
      g[q] = ((x & 0x7f7f7f7f) << 1) ^ Math.imul((x >>> 7) & 0x01010101, 0x1d);
    }
    if (colState[m] === COL_PIVOT) {
      const k = colIndex[m]!;
      hdpcColumnRow[m] = pivotRows[k]!;
      const kb = k * uWords;
      for (let q = 0; q < uWords; q++) {
        let x = fill[kb + q]!;
        let at = q * 8;
        while (x !== 0) {
          if (x & 15) g[at] ^= NIBBLE_TO_BYTES[x & 15]!;
          x >>>= 4;
          at++;
        }
      }
    } else {
      hdpcColumnRow[m] = -1;
      gBytes[colIndex[m]!] ^= 1;
    }
    if (m < hdpcCols - 1) {
      const h1 = rand(m + 1, 6, h);
      const h2 = (h1 + rand(m + 1, 7, h - 1) + 1) % h;
      hdpcFirst[m] = h1;
      hdpcSecond[m] = h2;
      const b1 = h1 * uPadWords;
      const b2 = h2 * uPadWords;
      for (let q = 0; q < uPadWords; q++) {
        const x = g[q]!;
        hd[b1 + q] ^= x;
        hd[b2 + q] ^= x;
      }
    } else {
      for (let i = 0; i < h; i++) {
        const base = (gfAlphaPow(i) << 8);
        const rb = i * uPad;
        for (let q = 0; q < u; q++) hdBytes[rb + q] ^= MUL_TABLE[base | gBytes[q]!]!;
      }
    }
  }
  for (let i = 0; i < h; i++) hdBytes[i * uPad + colIndex[hdpcCols + i]!] ^= 1;

  // ---- dense phase on the U columns ----
  const ops = new IntList(u * 16);
  const inactiveRow = new Int32Array(u).fill(-1);
  const binPivotOf = new Int32Array(u).fill(-1); // index into otherRows
  const used = new Uint8Array(otherCount);
  const deficient: number[] = [];
  for (let c = 0; c < u; c++) {
    const word = c >>> 5;
    const bit = 1 << (c & 31);
    let p = -1;
    for (let t = 0; t < otherCount; t++) {
      if (!used[t] && otherBits[t * uWords + word]! & bit) {
        p = t;
        break;
      }
    }
    if (p < 0) {
      deficient.push(c);
      continue;
    }
    used[p] = 1;
    binPivotOf[c] = p;
    const pRow = otherRows[p]!;
    const pb = p * uWords;
    for (let t = p + 1; t < otherCount; t++) {
      const tb = t * uWords;
      if (used[t] || !(otherBits[tb + word]! & bit)) continue;
      for (let q = word; q < uWords; q++) otherBits[tb + q] ^= otherBits[pb + q]!;
      ops.push(OP_XOR);
      ops.push(otherRows[t]!);
      ops.push(pRow);
      ops.push(0);
    }
    for (let i = 0; i < h; i++) {
      const rb = i * uPad;
      const beta = hdBytes[rb + c]!;
      if (beta === 0) continue;
      for (let q = word; q < uWords; q++) {
        let x = otherBits[pb + q]!;
        while (x !== 0) {
          const low = x & -x;
          hdBytes[rb + q * 32 + (31 - Math.clz32(low))] ^= beta;
          x ^= low;
        }
      }
      ops.push(OP_MUL_ADD);
      ops.push(hdpcBegin + i);
      ops.push(pRow);
      ops.push(beta);
    }
  }
  // Columns no binary row covers are solved by the HDPC rows (Gauss-Jordan over GF(256)).
  const hdpcUsed = new Uint8Array(h);
  for (const c of deficient) {
    let pi = -1;
    for (let i = 0; i < h; i++) {
      if (!hdpcUsed[i] && hdBytes[i * uPad + c] !== 0) {
        pi = i;
        break;
      }
    }
    if (pi < 0) return null;
    hdpcUsed[pi] = 1;
    const pb = pi * uPad;
    const inv = gfInv(hdBytes[pb + c]!);
    if (inv !== 1) {
      for (const q of deficient) hdBytes[pb + q] = MUL_TABLE[(inv << 8) | hdBytes[pb + q]!]!;
      ops.push(OP_SCALE);
      ops.push(hdpcBegin + pi);
      ops.push(0);
      ops.push(inv);
    }
    for (let i = 0; i < h; i++) {
      if (i === pi) continue;
      const rb = i * uPad;
      const beta = hdBytes[rb + c]!;
      if (beta === 0) continue;
      for (const q of deficient) hdBytes[rb + q] ^= MUL_TABLE[(beta << 8) | hdBytes[pb + q]!]!;
      ops.push(OP_MUL_ADD);
      ops.push(hdpcBegin + i);
      ops.push(hdpcBegin + pi);
      ops.push(beta);
    }
    inactiveRow[c] = hdpcBegin + pi;
  }
  // Back substitution of the binary pivots, last column first.
  for (let c = u - 1; c >= 0; c--) {
    const p = binPivotOf[c]!;
    if (p < 0) continue;
    const pRow = otherRows[p]!;
    inactiveRow[c] = pRow;
    const pb = p * uWords;
    // Bits above c only: clear c itself and below before walking.
    for (let q = c >>> 5; q < uWords; q++) {
      let x = otherBits[pb + q]!;
      if (q === c >>> 5) {
        const sh = c & 31;
        x &= sh === 31 ? 0 : -1 << (sh + 1);
      }
      while (x !== 0) {
        const low = x & -x;
        const col = q * 32 + (31 - Math.clz32(low));
        ops.push(OP_XOR);
        ops.push(pRow);
        ops.push(inactiveRow[col]!);
        ops.push(0);
        x ^= low;
      }
    }
  }

  const columnRow = new Int32Array(l);
  for (let c = 0; c < l; c++) {
    columnRow[c] = colState[c] === COL_PIVOT ? pivotRows[colIndex[c]!]! : inactiveRow[colIndex[c]!]!;
  }

  return {
    params,
    rowCount,
    pivotRows,
    lowerStart,
    lowerRows: lowerList.toArray(),
    upperStart,
    upperCols: upperList.toArray(),
    otherRows,
    otherStart,
    otherPivotRows: otherPivots.toArray(),
    hdpcColumnRow,
    hdpcFirst,
    hdpcSecond,
    denseOps: ops.toArray(),
    inactiveRow,
    columnRow,
    inactiveCount: u,
  };
}
