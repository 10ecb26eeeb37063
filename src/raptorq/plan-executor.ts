// Replays a SolvePlan on symbol data: afterwards row plan.columnRow[c] of the buffer holds
// intermediate symbol C[c]. The row order of the buffer must match the plan (S LDPC rows and
// H HDPC rows, all zero, then the LT rows' symbols).

import { gfAlphaPow, MUL_TABLE } from './gf256.js';
import { OP_MUL_ADD, OP_SCALE, OP_XOR, type SolvePlan } from './solver.js';
import { mulAddBytes, mulAlphaWords, scaleBytes, SymbolBuffer, xorWords, xorWordsFrom } from './symbol-buffer.js';

function forwardPass(plan: SolvePlan, words: Int32Array, sw: number): void {
  const { pivotRows, lowerStart, lowerRows } = plan;
  for (let j = 0; j < pivotRows.length; j++) {
    const dst = pivotRows[j]! * sw;
    for (let e = lowerStart[j]!; e < lowerStart[j + 1]!; e++) xorWords(words, dst, lowerRows[e]! * sw, sw);
  }
}

function undoForwardPass(plan: SolvePlan, words: Int32Array, sw: number): void {
  const { pivotRows, lowerStart, lowerRows } = plan;
  for (let j = pivotRows.length - 1; j >= 0; j--) {
    const dst = pivotRows[j]! * sw;
    for (let e = lowerStart[j]!; e < lowerStart[j + 1]!; e++) xorWords(words, dst, lowerRows[e]! * sw, sw);
  }
}

function hdpcPass(plan: SolvePlan, buffer: SymbolBuffer): void {
  const { hdpcColumnRow, hdpcFirst, hdpcSecond } = plan;
  const { s, h } = plan.params;
  const words = buffer.words;
  const sw = buffer.strideWords;
  const g = new Int32Array(sw);
  const gBytes = new Uint8Array(g.buffer);
  const last = hdpcColumnRow.length - 1;
  let started = false;
  for (let m = 0; m <= last; m++) {
    if (started) mulAlphaWords(g, 0, sw);
    const src = hdpcColumnRow[m]!;
    if (src >= 0) {
      xorWordsFrom(g, 0, words, src * sw, sw);
      started = true;
    }
    if (!started) continue;
    if (m < last) {
      xorWordsFrom(words, (s + hdpcFirst[m]!) * sw, g, 0, sw);
      xorWordsFrom(words, (s + hdpcSecond[m]!) * sw, g, 0, sw);
    } else {
      const bytes = buffer.bytes;
      for (let i = 0; i < h; i++) {
        const base = (s + i) * buffer.strideBytes;
        const beta = gfAlphaPow(i);
        const tableBase = beta << 8;
        for (let q = 0; q < buffer.symbolSize; q++) bytes[base + q] ^= MUL_TABLE[tableBase | gBytes[q]!]!;
      }
    }
  }
}

function denseOps(plan: SolvePlan, buffer: SymbolBuffer): void {
  const ops = plan.denseOps;
  const words = buffer.words;
  const bytes = buffer.bytes;
  const sw = buffer.strideWords;
  const sb = buffer.strideBytes;
  const t = buffer.symbolSize;
  for (let i = 0; i < ops.length; i += 4) {
    const op = ops[i]!;
    const dst = ops[i + 1]!;
    if (op === OP_XOR) xorWords(words, dst * sw, ops[i + 2]! * sw, sw);
    else if (op === OP_MUL_ADD) mulAddBytes(bytes, dst * sb, ops[i + 2]! * sb, t, ops[i + 3]!);
    else if (op === OP_SCALE) scaleBytes(bytes, dst * sb, t, ops[i + 3]!);
  }
}

/** Runs the plan in place on `buffer` (which must have at least plan.rowCount rows). */
export function executePlan(plan: SolvePlan, buffer: SymbolBuffer): void {
  const words = buffer.words;
  const sw = buffer.strideWords;
  forwardPass(plan, words, sw);
  const { otherRows, otherStart, otherPivotRows } = plan;
  for (let t = 0; t < otherRows.length; t++) {
    const dst = otherRows[t]! * sw;
    for (let e = otherStart[t]!; e < otherStart[t + 1]!; e++) xorWords(words, dst, otherPivotRows[e]! * sw, sw);
  }
  hdpcPass(plan, buffer);
  denseOps(plan, buffer);
  undoForwardPass(plan, words, sw);
  const { pivotRows, upperStart, upperCols, inactiveRow } = plan;
  for (let j = 0; j < pivotRows.length; j++) {
    const dst = pivotRows[j]! * sw;
    for (let e = upperStart[j]!; e < upperStart[j + 1]!; e++) xorWords(words, dst, inactiveRow[upperCols[e]!]! * sw, sw);
  }
  forwardPass(plan, words, sw);
}
