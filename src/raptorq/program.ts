// A SolvePlan flattened into one straight-line program of row operations, so a kernel (the
// WebAssembly SIMD one or the plain TypeScript one) can replay it without knowing the solver.
// Instructions are int32 words, a header (kind | argument << 8) then rows:
//   XORN      n << 8, dst, src1 .. srcn   dst ^= src1 ^ ... ^ srcn (consecutive XORs into one
//                                        row are merged, so the row is loaded and stored once)
//   HORNER    flags << 8, g, z, h1, h2    g = alpha * g (^ z if flag 1); then h1 ^= g, h2 ^= g
//                                        if flag 2 (one column of the HDPC Horner pass, fused)
//   MUL_ADD   beta << 8, dst, src         dst ^= beta * src
//   SCALE     beta << 8, dst              dst *= beta
// Row `plan.rowCount` is a scratch row (the Horner accumulator of the HDPC pass).

import { allocInt32 } from './arena.js';
import { gfAlphaPow } from './gf256.js';
import type { BlockParams } from './params.js';
import { OP_MUL_ADD, OP_SCALE, OP_XOR, type SolvePlan } from './solver.js';
import { ltColumns } from './tuple.js';

export const PROG_XORN = 0;
export const PROG_HORNER = 1;
export const HORNER_WITH_Z = 1;
export const HORNER_ACCUMULATE = 2;
export const PROG_MUL_ADD = 2;
export const PROG_SCALE = 3;

const MAX_XOR_SOURCES = 0xffffff;

export interface Program {
  /** Instruction words; may hold spare room past `length`. */
  readonly code: Int32Array;
  /** Words of code in use. */
  readonly length: number;
  /** Rows the program touches, including the scratch row. */
  readonly rows: number;
}

/**
 * Where a program is written: `grow(old, keep, words)` returns room for at least `words` words
 * whose first `keep` are those of `old` (the words written so far; empty at the start). The
 * default keeps the program in a JS array; a kernel-backed buffer writes it straight into its
 * WebAssembly memory, so a one-shot program is neither copied nor held twice.
 */
export interface ProgramStore {
  grow(old: Int32Array, keep: number, words: number): Int32Array;
}

const heapStore: ProgramStore = {
  grow(old: Int32Array, keep: number, words: number): Int32Array {
    const next = allocInt32(words);
    if (keep > 0) next.set(old.subarray(0, keep));
    return next;
  },
};

class Emitter {
  code: Int32Array;
  at = 0;
  /** Position of the header of the open XORN instruction, or -1. */
  private openXor = -1;
  private openDst = -1;
  private readonly store: ProgramStore;

  constructor(expectedWords: number, store: ProgramStore = heapStore) {
    this.store = store;
    this.code = store.grow(new Int32Array(0), 0, Math.max(64, expectedWords));
  }

  /** Room for n more words. */
  private reserve(n: number): void {
    if (this.code.length - this.at >= n) return;
    this.code = this.store.grow(this.code, this.at, Math.max(this.code.length * 2, this.at + n));
  }

  private word(v: number): void {
    if (this.at === this.code.length) this.reserve(1);
    this.code[this.at++] = v;
  }

  xor(dst: number, src: number): void {
    if (this.openXor >= 0 && this.openDst === dst && this.code[this.openXor]! >>> 8 < MAX_XOR_SOURCES) {
      this.code[this.openXor] = this.code[this.openXor]! + (1 << 8);
      this.word(src);
      return;
    }
    this.openXor = this.at;
    this.openDst = dst;
    this.word(PROG_XORN | (1 << 8));
    this.word(dst);
    this.word(src);
  }

  /**
   * dst ^= each src[e] (or rows[src[e]] when `rows` is given) for e in from..to-1: the same as
   * that many xor() calls, with one capacity check and one header update.
   */
  xorList(dst: number, src: Int32Array, from: number, to: number, rows?: Int32Array): void {
    const n = to - from;
    if (n <= 0) return;
    if (!(this.openXor >= 0 && this.openDst === dst && (this.code[this.openXor]! >>> 8) + n <= MAX_XOR_SOURCES)) {
      if (n > MAX_XOR_SOURCES) {
        for (let e = from; e < to; e++) this.xor(dst, rows ? rows[src[e]!]! : src[e]!);
        return;
      }
      this.word(PROG_XORN);
      this.openXor = this.at - 1;
      this.openDst = dst;
      this.word(dst);
    }
    this.reserve(n);
    const code = this.code;
    let at = this.at;
    if (rows) for (let e = from; e < to; e++) code[at++] = rows[src[e]!]!;
    else for (let e = from; e < to; e++) code[at++] = src[e]!;
    this.at = at;
    code[this.openXor] = code[this.openXor]! + (n << 8);
  }

  horner(flags: number, g: number, z: number, h1: number, h2: number): void {
    this.openXor = -1;
    this.word(PROG_HORNER | (flags << 8));
    this.word(g);
    this.word(z);
    this.word(h1);
    this.word(h2);
  }

  other(header: number, dst: number, src?: number): void {
    this.openXor = -1;
    this.word(header);
    this.word(dst);
    if (src !== undefined) this.word(src);
  }
}

const programs = new WeakMap<SolvePlan, Program>();

export function programOf(plan: SolvePlan): Program {
  let program = programs.get(plan);
  if (!program) {
    program = compileProgram(plan);
    programs.set(plan, program);
  }
  return program;
}

function forward(plan: SolvePlan, out: Emitter): void {
  const { pivotRows, lowerStart, lowerRows } = plan;
  const n = pivotRows.length;
  for (let j = 0; j < n; j++) {
    out.xorList(pivotRows[j]!, lowerRows, lowerStart[j]!, lowerStart[j + 1]!);
  }
}

/** Encoding symbols to compute after a solve: LT row of isis[t] into row firstRow + t (zero). */
export interface EncodeAfter {
  readonly isis: ArrayLike<number>;
  readonly firstRow: number;
}

export function compileProgram(plan: SolvePlan, store?: ProgramStore, encode?: EncodeAfter): Program {
  const expected =
    3 * (plan.lowerRows.length + 2 * plan.pivotRows.length) + plan.otherPivotRows.length + plan.upperCols.length +
    plan.denseOps.length + 10 * plan.hdpcColumnRow.length + 3 * plan.params.h + 12 * (encode?.isis.length ?? 0);
  const out = new Emitter(expected, store);
  const scratch = plan.rowCount;
  const { s, h } = plan.params;

  // Z = A_pv^-1 D_p.
  forward(plan, out);
  // Other binary rows: D_o -= A_ov Z.
  const { otherRows, otherStart, otherPivotRows } = plan;
  for (let t = 0; t < otherRows.length; t++) {
    out.xorList(otherRows[t]!, otherPivotRows, otherStart[t]!, otherStart[t + 1]!);
  }
  // HDPC rows: Horner over the columns, g = alpha * g + Z_m, then MT adds g to its rows.
  const { hdpcColumnRow, hdpcFirst, hdpcSecond } = plan;
  const last = hdpcColumnRow.length - 1;
  let started = false;
  for (let m = 0; m <= last; m++) {
    const src = hdpcColumnRow[m]!;
    if (!started && src < 0) continue; // g is still zero
    started = true;
    const flags = (src >= 0 ? HORNER_WITH_Z : 0) | (m < last ? HORNER_ACCUMULATE : 0);
    if (m < last) out.horner(flags, scratch, src >= 0 ? src : scratch, s + hdpcFirst[m]!, s + hdpcSecond[m]!);
    else out.horner(flags, scratch, src >= 0 ? src : scratch, scratch, scratch);
  }
  if (started) {
    // Last column of MT: alpha^i into HDPC row i.
    for (let i = 0; i < h; i++) {
      const beta = gfAlphaPow(i);
      if (beta === 1) out.xor(s + i, scratch);
      else out.other(PROG_MUL_ADD | (beta << 8), s + i, scratch);
    }
  }
  // Dense phase on the inactive columns.
  const ops = plan.denseOps;
  for (let i = 0; i < ops.length; i += 4) {
    const op = ops[i]!;
    const beta = ops[i + 3]!;
    if (op === OP_XOR || (op === OP_MUL_ADD && beta === 1)) out.xor(ops[i + 1]!, ops[i + 2]!);
    else if (op === OP_MUL_ADD) out.other(PROG_MUL_ADD | (beta << 8), ops[i + 1]!, ops[i + 2]!);
    else if (op === OP_SCALE) out.other(PROG_SCALE | (beta << 8), ops[i + 1]!);
  }
  // C_V = A_pv^-1 (D_p - A_pu C_U). Undo the forward step of every undo/redo pivot, last
  // first (each needs its lower rows still holding Z); then, first pivot first, either redo
  // the step with the inactive part subtracted or add the fill row times C_U directly.
  const { pivotRows, lowerStart, lowerRows, upperStart, upperCols, inactiveRow, direct, directStart, directCols } = plan;
  const n = pivotRows.length;
  for (let j = n - 1; j >= 0; j--) {
    if (!direct[j]) out.xorList(pivotRows[j]!, lowerRows, lowerStart[j]!, lowerStart[j + 1]!);
  }
  for (let j = 0; j < n; j++) {
    const dst = pivotRows[j]!;
    if (direct[j]) {
      out.xorList(dst, directCols, directStart[j]!, directStart[j + 1]!, inactiveRow);
      continue;
    }
    out.xorList(dst, upperCols, upperStart[j]!, upperStart[j + 1]!, inactiveRow);
    out.xorList(dst, lowerRows, lowerStart[j]!, lowerStart[j + 1]!);
  }

  let rows = plan.rowCount + 1;
  if (encode) {
    emitEncodings(out, plan.params, plan.columnRow, encode.isis, encode.firstRow);
    rows = Math.max(rows, encode.firstRow + encode.isis.length);
  }
  // Trim only when the slack is large: the copy would briefly double the program's memory.
  const code = !store && out.code.length - out.at > out.at / 4 ? out.code.slice(0, out.at) : out.code;
  return { code, length: out.at, rows };
}

function emitEncodings(out: Emitter, params: BlockParams, columnRow: Int32Array, isis: ArrayLike<number>, firstRow: number): void {
  const cols = allocInt32(64);
  for (let t = 0; t < isis.length; t++) {
    const n = ltColumns(params, isis[t]!, cols);
    out.xorList(firstRow + t, cols, 0, n, columnRow);
  }
}

/**
 * A program that writes into rows firstRow, firstRow+1, ... the encoding symbols with the
 * internal symbol ids `isis`, from intermediate symbols found at rows columnRow[c].
 * The target rows must be zero.
 */
export function compileEncodingProgram(params: BlockParams, columnRow: Int32Array, isis: ArrayLike<number>, firstRow: number): Program {
  const out = new Emitter(isis.length * 40);
  emitEncodings(out, params, columnRow, isis, firstRow);
  return { code: out.code, length: out.at, rows: firstRow + isis.length };
}
