// The last phase: the small system on the inactive columns. Binary rows are eliminated by
// XOR first; columns no binary row covers are solved by the HDPC rows in GF(256)
// (Gauss-Jordan); then the binary pivots are back-substituted. Row operations are recorded
// as quadruples (op, dst, src, beta) for the symbol data.

import { allocInt32, allocUint8 } from './arena.js';
import { gfInv, MUL_TABLE } from './gf256.js';
import { IntList } from './int-list.js';
import { scratchInt32Unset } from './scratch.js';

/** Scratch slot (scratch.ts) the ops list starts in; pivoting.ts uses 0..14. */
const S_DENSE_OPS = 15;

export const OP_XOR = 0;
export const OP_MUL_ADD = 1;
export const OP_SCALE = 2;

export interface DenseInput {
  /** Buffer rows of the binary rows and their U parts as bit rows of uWords words. */
  readonly binaryRows: Int32Array;
  readonly binaryBits: Int32Array;
  readonly uWords: number;
  /** Buffer row of HDPC row 0 (the H rows follow it) and their U parts as byte rows. */
  readonly hdpcFirstRow: number;
  readonly hdpcCount: number;
  readonly hdBytes: Uint8Array;
  readonly hdStride: number;
  /** Number of inactive columns. */
  readonly u: number;
}

export interface DenseSolution {
  readonly ops: Int32Array;
  /** Buffer row holding the value of each inactive column at the end. */
  readonly inactiveRow: Int32Array;
}

/** Returns null when the inactive columns are not all determined (rank deficiency). */
export function solveDense(input: DenseInput): DenseSolution | null {
  const { binaryRows, binaryBits: bits, uWords, hdpcFirstRow, hdpcCount: h, hdBytes, hdStride, u } = input;
  const count = binaryRows.length;
  // About u^2/2 operations (eliminating u columns) plus H per binary pivot, four words each.
  const ops = new IntList(0, scratchInt32Unset(S_DENSE_OPS, 2 * u * u + 4 * u * (h + 4) + 64));
  const record = (op: number, dst: number, src: number, beta: number): void => {
    ops.push(op);
    ops.push(dst);
    ops.push(src);
    ops.push(beta);
  };
  const inactiveRow = allocInt32(u).fill(-1);
  const binaryPivot = allocInt32(u).fill(-1);
  const used = allocUint8(count);
  const deficient: number[] = [];

  // Forward elimination with binary pivots.
  for (let c = 0; c < u; c++) {
    const word = c >>> 5;
    const bit = 1 << (c & 31);
    let p = -1;
    for (let t = 0; t < count; t++) {
      if (!used[t] && bits[t * uWords + word]! & bit) {
        p = t;
        break;
      }
    }
    if (p < 0) {
      deficient.push(c);
      continue;
    }
    used[p] = 1;
    binaryPivot[c] = p;
    const pRow = binaryRows[p]!;
    const pb = p * uWords;
    for (let t = p + 1; t < count; t++) {
      const tb = t * uWords;
      if (used[t] || !(bits[tb + word]! & bit)) continue;
      for (let q = word; q < uWords; q++) bits[tb + q] ^= bits[pb + q]!;
      record(OP_XOR, binaryRows[t]!, pRow, 0);
    }
    for (let i = 0; i < h; i++) {
      const rb = i * hdStride;
      const beta = hdBytes[rb + c]!;
      if (beta === 0) continue;
      for (let q = word; q < uWords; q++) {
        let x = bits[pb + q]!;
        while (x !== 0) {
          const low = x & -x;
          hdBytes[rb + q * 32 + (31 - Math.clz32(low))] ^= beta;
          x ^= low;
        }
      }
      record(OP_MUL_ADD, hdpcFirstRow + i, pRow, beta);
    }
  }

  // Columns no binary row covers: Gauss-Jordan over GF(256) on the HDPC rows, which by now
  // are zero outside these columns.
  // Each pivot row is zero in the deficient columns before its own (earlier pivots cleared
  // them from every other row), so only the columns from its own on are updated.
  const hdpcUsed = new Uint8Array(h);
  const dCount = deficient.length;
  const dCols = allocInt32(dCount);
  for (let d = 0; d < dCount; d++) dCols[d] = deficient[d]!;
  for (let d = 0; d < dCount; d++) {
    const c = dCols[d]!;
    let pi = -1;
    for (let i = 0; i < h; i++) {
      if (!hdpcUsed[i] && hdBytes[i * hdStride + c] !== 0) {
        pi = i;
        break;
      }
    }
    if (pi < 0) return null;
    hdpcUsed[pi] = 1;
    const pb = pi * hdStride;
    const inv = gfInv(hdBytes[pb + c]!);
    if (inv !== 1) {
      for (let e = d; e < dCount; e++) {
        const q = dCols[e]!;
        hdBytes[pb + q] = MUL_TABLE[(inv << 8) | hdBytes[pb + q]!]!;
      }
      record(OP_SCALE, hdpcFirstRow + pi, 0, inv);
    }
    for (let i = 0; i < h; i++) {
      if (i === pi) continue;
      const rb = i * hdStride;
      const beta = hdBytes[rb + c]!;
      if (beta === 0) continue;
      const base = beta << 8;
      for (let e = d; e < dCount; e++) {
        const q = dCols[e]!;
        hdBytes[rb + q] ^= MUL_TABLE[base | hdBytes[pb + q]!]!;
      }
      record(OP_MUL_ADD, hdpcFirstRow + i, hdpcFirstRow + pi, beta);
    }
    inactiveRow[c] = hdpcFirstRow + pi;
  }

  // Back substitution of the binary pivots, last column first; a pivot row only has bits at
  // and above its own column.
  for (let c = u - 1; c >= 0; c--) {
    const p = binaryPivot[c]!;
    if (p < 0) continue;
    const pRow = binaryRows[p]!;
    inactiveRow[c] = pRow;
    const pb = p * uWords;
    for (let q = c >>> 5; q < uWords; q++) {
      let x = bits[pb + q]!;
      if (q === c >>> 5) {
        const sh = c & 31;
        x &= sh === 31 ? 0 : -1 << (sh + 1);
      }
      while (x !== 0) {
        const low = x & -x;
        record(OP_XOR, pRow, inactiveRow[q * 32 + (31 - Math.clz32(low))]!, 0);
        x ^= low;
      }
    }
  }
  return { ops: ops.toArray(), inactiveRow };
}
