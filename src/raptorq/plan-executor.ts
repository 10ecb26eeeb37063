// Replays a SolvePlan on symbol data: afterwards row plan.columnRow[c] of the buffer holds
// intermediate symbol C[c]. The row order of the buffer must match the plan (S LDPC rows and
// H HDPC rows, all zero, then the LT rows' symbols). The plan runs as a flat Program, on the
// WebAssembly SIMD kernel when available, else on the TypeScript kernels below.

import { compileProgram, HORNER_ACCUMULATE, HORNER_WITH_Z, PROG_HORNER, PROG_MUL_ADD, PROG_XORN, programOf, type Program } from './program.js';
import type { SolvePlan } from './solver.js';
import { mulAddBytes, mulAlphaWords, scaleBytes, SymbolBuffer, xorWords } from './symbol-buffer.js';

export function runProgramPortable(program: Program, buffer: SymbolBuffer): void {
  const code = program.code;
  const words = buffer.words;
  const bytes = buffer.bytes;
  const sw = buffer.strideWords;
  const sb = buffer.strideBytes;
  for (let pc = 0, end = program.length; pc < end; ) {
    const header = code[pc]!;
    const kind = header & 0xff;
    const dst = code[pc + 1]!;
    if (kind === PROG_XORN) {
      const n = header >>> 8;
      for (let i = 0; i < n; i++) xorWords(words, dst * sw, code[pc + 2 + i]! * sw, sw);
      pc += 2 + n;
    } else if (kind === PROG_HORNER) {
      const g = dst * sw;
      mulAlphaWords(words, g, sw);
      if (header & (HORNER_WITH_Z << 8)) xorWords(words, g, code[pc + 2]! * sw, sw);
      if (header & (HORNER_ACCUMULATE << 8)) {
        xorWords(words, code[pc + 3]! * sw, g, sw);
        xorWords(words, code[pc + 4]! * sw, g, sw);
      }
      pc += 5;
    } else if (kind === PROG_MUL_ADD) {
      mulAddBytes(bytes, dst * sb, code[pc + 2]! * sb, sb, header >>> 8);
      pc += 3;
    } else {
      scaleBytes(bytes, dst * sb, sb, header >>> 8);
      pc += 2;
    }
  }
}

/**
 * Runs the plan in place on `buffer`; its row plan.rowCount is used as scratch. A plan run
 * `once` (a decode) has its program written straight into a kernel buffer's memory; other
 * plans (encoding plans, reused per K') keep theirs cached.
 */
export function executePlan(plan: SolvePlan, buffer: SymbolBuffer, once = false): void {
  const rows = plan.rowCount + 1;
  buffer.ensureRows(rows);
  buffer.bytes.fill(0, plan.rowCount * buffer.strideBytes, rows * buffer.strideBytes);
  const store = once ? buffer.programStore() : null;
  if (store) {
    buffer.runStored(compileProgram(plan, store));
    return;
  }
  const program = programOf(plan);
  if (!buffer.runOnKernel(program, true)) runProgramPortable(program, buffer);
}
