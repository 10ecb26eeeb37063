// Replays a SolvePlan on symbol data: afterwards row plan.columnRow[c] of the buffer holds
// intermediate symbol C[c]. The row order of the buffer must match the plan (S LDPC rows and
// H HDPC rows, all zero, then the LT rows' symbols). The plan runs as a flat Program, on the
// WebAssembly SIMD kernel when available, else on the TypeScript kernels below.

import { PROG_MUL_ADD, PROG_MUL_ALPHA, PROG_SCALE, PROG_XOR, programOf, type Program } from './program.js';
import { runProgramSimd } from './simd-kernel.js';
import type { SolvePlan } from './solver.js';
import { mulAddBytes, mulAlphaWords, scaleBytes, SymbolBuffer, xorWords } from './symbol-buffer.js';

export function runProgramPortable(program: Program, buffer: SymbolBuffer): void {
  const code = program.code;
  const words = buffer.words;
  const bytes = buffer.bytes;
  const sw = buffer.strideWords;
  const sb = buffer.strideBytes;
  for (let i = 0, end = program.length * 3; i < end; i += 3) {
    const op = code[i]!;
    const kind = op & 0xff;
    const dst = code[i + 1]!;
    if (kind === PROG_XOR) xorWords(words, dst * sw, code[i + 2]! * sw, sw);
    else if (kind === PROG_MUL_ALPHA) mulAlphaWords(words, dst * sw, sw);
    else if (kind === PROG_MUL_ADD) mulAddBytes(bytes, dst * sb, code[i + 2]! * sb, sb, op >>> 8);
    else if (kind === PROG_SCALE) scaleBytes(bytes, dst * sb, sb, op >>> 8);
  }
}

/** Runs the plan in place on `buffer`; its row plan.rowCount is used as scratch. */
export function executePlan(plan: SolvePlan, buffer: SymbolBuffer): void {
  const program = programOf(plan);
  buffer.ensureRows(program.rows);
  buffer.bytes.fill(0, plan.rowCount * buffer.strideBytes, program.rows * buffer.strideBytes);
  if (!runProgramSimd(program, buffer)) runProgramPortable(program, buffer);
}
