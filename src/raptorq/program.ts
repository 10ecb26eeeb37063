// A SolvePlan flattened into one straight-line program of row operations, so a kernel (the
// WebAssembly SIMD one or the plain TypeScript one) can replay it without knowing the solver.
// Each instruction is three int32: (opcode | beta << 8, destination row, source row).
// Row `plan.rowCount` is a scratch row (the Horner accumulator of the HDPC pass).

import { gfAlphaPow } from './gf256.js';
import { OP_MUL_ADD, OP_SCALE, OP_XOR, type SolvePlan } from './solver.js';

export const PROG_XOR = 0;
export const PROG_MUL_ALPHA = 1;
export const PROG_MUL_ADD = 2;
export const PROG_SCALE = 3;

export interface Program {
  readonly code: Int32Array;
  /** Instructions; code may hold spare room past length * 3. */
  readonly length: number;
  /** Rows the program touches, including the scratch row. */
  readonly rows: number;
}

class Emitter {
  code: Int32Array;
  constructor(expected: number) {
    this.code = new Int32Array(Math.max(64, expected * 3));
  }
  at = 0;
  emit(op: number, dst: number, src: number): void {
    if (this.at + 3 > this.code.length) {
      const next = new Int32Array(this.code.length * 2);
      next.set(this.code);
      this.code = next;
    }
    this.code[this.at++] = op;
    this.code[this.at++] = dst;
    this.code[this.at++] = src;
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

function forward(plan: SolvePlan, out: Emitter, reverse: boolean): void {
  const { pivotRows, lowerStart, lowerRows } = plan;
  const n = pivotRows.length;
  for (let t = 0; t < n; t++) {
    const j = reverse ? n - 1 - t : t;
    const dst = pivotRows[j]!;
    for (let e = lowerStart[j]!; e < lowerStart[j + 1]!; e++) out.emit(PROG_XOR, dst, lowerRows[e]!);
  }
}

export function compileProgram(plan: SolvePlan): Program {
  const expected =
    2 * plan.lowerRows.length + plan.lowerRows.length + plan.otherPivotRows.length + plan.upperCols.length +
    plan.denseOps.length / 4 + 4 * plan.hdpcColumnRow.length + plan.params.h;
  const out = new Emitter(expected);
  const scratch = plan.rowCount;
  const { s, h } = plan.params;

  // Z = A_pv^-1 D_p.
  forward(plan, out, false);
  // Other binary rows: D_o -= A_ov Z.
  const { otherRows, otherStart, otherPivotRows } = plan;
  for (let t = 0; t < otherRows.length; t++) {
    for (let e = otherStart[t]!; e < otherStart[t + 1]!; e++) out.emit(PROG_XOR, otherRows[t]!, otherPivotRows[e]!);
  }
  // HDPC rows: Horner over the columns, g = alpha * g + Z_m, then MT adds g to its rows.
  const { hdpcColumnRow, hdpcFirst, hdpcSecond } = plan;
  const last = hdpcColumnRow.length - 1;
  let started = false;
  for (let m = 0; m <= last; m++) {
    if (started) out.emit(PROG_MUL_ALPHA, scratch, 0);
    const src = hdpcColumnRow[m]!;
    if (src >= 0) {
      out.emit(PROG_XOR, scratch, src);
      started = true;
    }
    if (!started) continue;
    if (m < last) {
      out.emit(PROG_XOR, s + hdpcFirst[m]!, scratch);
      out.emit(PROG_XOR, s + hdpcSecond[m]!, scratch);
    } else {
      for (let i = 0; i < h; i++) {
        const beta = gfAlphaPow(i);
        out.emit(beta === 1 ? PROG_XOR : PROG_MUL_ADD | (beta << 8), s + i, scratch);
      }
    }
  }
  // Dense phase on the inactive columns.
  const ops = plan.denseOps;
  for (let i = 0; i < ops.length; i += 4) {
    const op = ops[i]!;
    const beta = ops[i + 3]!;
    if (op === OP_XOR) out.emit(PROG_XOR, ops[i + 1]!, ops[i + 2]!);
    else if (op === OP_MUL_ADD) out.emit(beta === 1 ? PROG_XOR : PROG_MUL_ADD | (beta << 8), ops[i + 1]!, ops[i + 2]!);
    else if (op === OP_SCALE) out.emit(PROG_SCALE | (beta << 8), ops[i + 1]!, 0);
  }
  // C_V = A_pv^-1 (D_p - A_pu C_U): undo the forward pass, subtract, redo it.
  forward(plan, out, true);
  const { pivotRows, upperStart, upperCols, inactiveRow } = plan;
  for (let j = 0; j < pivotRows.length; j++) {
    for (let e = upperStart[j]!; e < upperStart[j + 1]!; e++) out.emit(PROG_XOR, pivotRows[j]!, inactiveRow[upperCols[e]!]!);
  }
  forward(plan, out, false);

  // Trim only when the slack is large: the copy would briefly double the program's memory.
  const code = out.code.length - out.at > out.at / 4 ? out.code.slice(0, out.at) : out.code;
  return { code, length: out.at / 3, rows: plan.rowCount + 1 };
}
