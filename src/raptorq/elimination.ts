// After phase 1: the structure of the pivot rows (lower triangular part and inactive part),
// and the elimination of the pivot columns from the remaining binary rows and from the HDPC
// rows, all on the matrix only. U parts are kept as bit rows (binary rows) or byte rows (HDPC).
//
// fill[j] is row j of W = A_pv^-1 A_pu: pivot j's dependence on the inactive columns once the
// earlier pivots are substituted. It is never applied to symbols (that would be dense); it
// only tells the remaining rows what they become.

import { allocInt32, allocUint8 } from './arena.js';
import type { SparseRows } from './constraint-rows.js';
import { gfAlphaPow } from './gf256.js';
import type { BlockParams } from './params.js';
import { COL_PIVOT, type PivotChoice } from './pivoting.js';
import { rand } from './tuple.js';

export interface TriangularPart {
  readonly lowerStart: Int32Array;
  /** Rows of earlier pivots each pivot row XORs in (forward substitution). */
  readonly lowerRows: Int32Array;
  readonly upperStart: Int32Array;
  /** Inactive-column indices in each pivot row's original equation. */
  readonly upperCols: Int32Array;
  /** W = A_pv^-1 A_pu as bit rows of uWords words. */
  readonly fill: Int32Array;
}

export function triangularPart(rows: SparseRows, choice: PivotChoice, uWords: number): TriangularPart {
  const { rowStart, cols } = rows;
  const { colState, colIndex, pivotRows } = choice;
  const pivotCount = pivotRows.length;
  // Both lists sized exactly by a counting pass (at K = 52429 they hold 450,000 entries).
  const lowerStart = allocInt32(pivotCount + 1);
  const upperStart = allocInt32(pivotCount + 1);
  for (let j = 0, lowerCount = 0, upperCount = 0; j < pivotCount; j++) {
    const row = pivotRows[j]!;
    lowerStart[j] = lowerCount;
    upperStart[j] = upperCount;
    for (let e = rowStart[row]!; e < rowStart[row + 1]!; e++) {
      if (colState[cols[e]!] === COL_PIVOT) lowerCount++;
      else upperCount++;
    }
    lowerCount--; // the pivot's own column
    lowerStart[j + 1] = lowerCount;
    upperStart[j + 1] = upperCount;
  }
  const lowerRows = allocInt32(lowerStart[pivotCount]!);
  const upperCols = allocInt32(upperStart[pivotCount]!);
  const fill = allocInt32(pivotCount * uWords);
  for (let j = 0; j < pivotCount; j++) {
    const row = pivotRows[j]!;
    let lower = lowerStart[j]!;
    let upper = upperStart[j]!;
    const base = j * uWords;
    for (let e = rowStart[row]!; e < rowStart[row + 1]!; e++) {
      const c = cols[e]!;
      if (colState[c] === COL_PIVOT) {
        const k = colIndex[c]!;
        if (k === j) continue;
        lowerRows[lower++] = pivotRows[k]!;
        const kb = k * uWords;
        for (let q = 0; q < uWords; q++) fill[base + q] ^= fill[kb + q]!;
      } else {
        const q = colIndex[c]!;
        upperCols[upper++] = q;
        fill[base + (q >>> 5)] ^= 1 << (q & 31);
      }
    }
  }
  return { lowerStart, lowerRows, upperStart, upperCols, fill };
}

export interface OtherRowsPart {
  /** Binary rows that are not pivots. */
  readonly otherRows: Int32Array;
  readonly otherStart: Int32Array;
  /** Pivot rows each other row XORs in. */
  readonly otherPivotRows: Int32Array;
  /** Their U parts after elimination, bit rows of uWords words. */
  readonly otherBits: Int32Array;
}

export function otherRowsPart(params: BlockParams, rows: SparseRows, choice: PivotChoice, fill: Int32Array, uWords: number): OtherRowsPart {
  const { s, h } = params;
  const { rowCount, rowStart, cols } = rows;
  const { colState, colIndex, pivotRows, rowPivot } = choice;
  // Both lists sized exactly (no growing, no trimming copy): every binary row is a pivot or
  // an other row, and a counting pass finds the pivot entries.
  const otherCount = rowCount - h - pivotRows.length;
  const otherRows = allocInt32(otherCount);
  const otherStart = allocInt32(otherCount + 1);
  for (let r = 0, t = 0, n = 0; r < rowCount; r++) {
    if ((r >= s && r < s + h) || rowPivot[r]! >= 0) continue;
    otherRows[t] = r;
    otherStart[t++] = n;
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) if (colState[cols[e]!] === COL_PIVOT) n++;
    otherStart[t] = n;
  }
  const otherBits = allocInt32(otherCount * uWords);
  const otherPivotRows = allocInt32(otherStart[otherCount]!);
  for (let t = 0, n = 0; t < otherCount; t++) {
    const r = otherRows[t]!;
    const base = t * uWords;
    for (let e = rowStart[r]!; e < rowStart[r + 1]!; e++) {
      const c = cols[e]!;
      if (colState[c] === COL_PIVOT) {
        const k = colIndex[c]!;
        otherPivotRows[n++] = pivotRows[k]!;
        const kb = k * uWords;
        for (let q = 0; q < uWords; q++) otherBits[base + q] ^= fill[kb + q]!;
      } else {
        const q = colIndex[c]!;
        otherBits[base + (q >>> 5)] ^= 1 << (q & 31);
      }
    }
  }
  return { otherRows, otherStart, otherPivotRows, otherBits };
}

const MT_CACHE_LIMIT = 16;
const mtCache = new Map<number, { first: Uint8Array; second: Uint8Array }>();

/** The two rows MT marks in each column but the last (section 5.3.3.3); depends only on K'. */
function mtRows(params: BlockParams): { first: Uint8Array; second: Uint8Array } {
  const hit = mtCache.get(params.kPrime);
  if (hit) return hit;
  const { kPrime, s, h } = params;
  const columns = kPrime + s;
  const first = new Uint8Array(columns);
  const second = new Uint8Array(columns);
  for (let m = 0; m < columns - 1; m++) {
    const h1 = rand(m + 1, 6, h);
    first[m] = h1;
    second[m] = (h1 + rand(m + 1, 7, h - 1) + 1) % h;
  }
  if (mtCache.size >= MT_CACHE_LIMIT) mtCache.delete(mtCache.keys().next().value as number);
  mtCache.set(kPrime, { first, second });
  return { first, second };
}

export interface HdpcPart {
  /** For column m < K'+S: the pivot row solving it, or -1. */
  readonly hdpcColumnRow: Int32Array;
  /** The two HDPC rows (0..H-1) that MT marks in column m, for m < K'+S-1. */
  readonly hdpcFirst: Uint8Array;
  readonly hdpcSecond: Uint8Array;
  /** The HDPC rows' U parts after elimination: H byte rows of `stride` bytes. */
  readonly hdBytes: Uint8Array;
  readonly stride: number;
}

/**
 * Eliminates the pivot columns from the HDPC rows. G_HDPC = MT x GAMMA, and GAMMA is a Horner
 * recurrence, so column m of HDPC row i is the scalar c_i(m) = alpha c_i(m+1) + [MT marks row
 * i in column m], run backwards from c_i(last) = alpha^i. Eliminating pivot j adds c(j) times
 * its fill row W_j, and W_j = (its inactive entries) + the sum of W_k over its lower pivots k.
 * So instead of adding H multiples of every fill row, the H coefficients are pushed down the
 * triangle once (last pivot first: c(k) += c(j) for each lower pivot k of j) and land only on
 * the pivots' own inactive entries: H bytes per nonzero of A_pv and A_pu, whatever U is.
 */
export function hdpcPart(params: BlockParams, choice: PivotChoice, triangle: TriangularPart): HdpcPart {
  const { kPrime, s, h } = params;
  const { colState, colIndex, pivotRows, rowPivot, inactiveCount: u } = choice;
  const { lowerStart, lowerRows, upperStart, upperCols } = triangle;
  const hdpcCols = kPrime + s;
  const uBytes = (u + 7) >>> 3;
  const strideWords = Math.max((u + 3) >>> 2, 2 * uBytes);
  const stride = strideWords * 4;
  const hdBytes = allocUint8(h * stride);
  const hdpcColumnRow = allocInt32(hdpcCols);
  const { first: hdpcFirst, second: hdpcSecond } = mtRows(params);
  // The H coefficients of a pivot or an inactive column, packed in hw words.
  const hw = (h + 3) >>> 2;
  const n = pivotRows.length;
  const coef = allocInt32(n * hw);
  const inactive = allocInt32(u * hw);
  const inactiveBytes = new Uint8Array(inactive.buffer, inactive.byteOffset, inactive.byteLength);
  // The H coefficients of the current column, four to a word, so alpha multiplies a word at
  // a time (as mulAlphaWords does for symbols); bytes past H stay zero.
  const cw = new Int32Array(hw);
  const c = new Uint8Array(cw.buffer);
  for (let i = 0; i < h; i++) c[i] = gfAlphaPow(i);
  for (let m = hdpcCols - 1; m >= 0; m--) {
    if (m < hdpcCols - 1) {
      for (let q = 0; q < hw; q++) {
        const x = cw[q]!;
        cw[q] = ((x & 0x7f7f7f7f) << 1) ^ Math.imul((x >>> 7) & 0x01010101, 0x1d);
      }
      c[hdpcFirst[m]!]! ^= 1;
      c[hdpcSecond[m]!]! ^= 1;
    }
    if (colState[m] === COL_PIVOT) {
      const j = colIndex[m]!;
      hdpcColumnRow[m] = pivotRows[j]!;
      const jb = j * hw;
      for (let q = 0; q < hw; q++) coef[jb + q] = cw[q]!;
    } else {
      hdpcColumnRow[m] = -1;
      const qb = colIndex[m]! * hw;
      for (let q = 0; q < hw; q++) inactive[qb + q] ^= cw[q]!;
    }
  }
  for (let j = n - 1; j >= 0; j--) {
    const jb = j * hw;
    for (let e = lowerStart[j]!; e < lowerStart[j + 1]!; e++) {
      const kb = rowPivot[lowerRows[e]!]! * hw;
      for (let q = 0; q < hw; q++) coef[kb + q] ^= coef[jb + q]!;
    }
    for (let e = upperStart[j]!; e < upperStart[j + 1]!; e++) {
      const qb = upperCols[e]! * hw;
      for (let q = 0; q < hw; q++) inactive[qb + q] ^= coef[jb + q]!;
    }
  }
  for (let q = 0; q < u; q++) {
    const qb = q * hw * 4;
    for (let i = 0; i < h; i++) hdBytes[i * stride + q] = inactiveBytes[qb + i]!;
  }
  // The identity block of the HDPC rows (columns K'+S .. L-1, all permanently inactive).
  for (let i = 0; i < h; i++) hdBytes[i * stride + colIndex[hdpcCols + i]!] ^= 1;
  return { hdpcColumnRow, hdpcFirst, hdpcSecond, hdBytes, stride };
}
