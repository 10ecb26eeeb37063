// Intermediate symbols of one source block and the encoding symbols derived from them.

import type { BlockParams } from './params.js';
import { executePlan } from './plan-executor.js';
import { compileEncodingProgram } from './program.js';
import { planSolve, type SolvePlan } from './solver.js';
import { SymbolBuffer, xorWords, xorWordsFrom } from './symbol-buffer.js';
import { ltColumns } from './tuple.js';

const ENCODING_PLAN_CACHE_LIMIT = 16;
/** Encoding symbols computed per SIMD program run (bounds the extra rows). */
const ENCODE_BATCH = 1024;
const encodingPlans = new Map<number, SolvePlan>();

/**
 * The plan that solves the encoding system for K' (ISIs 0..K'-1). The constraint matrix depends
 * only on K', so one plan serves every block of that size; kept in a small LRU cache.
 */
export function encodingPlan(params: BlockParams): SolvePlan {
  const hit = encodingPlans.get(params.kPrime);
  if (hit) {
    encodingPlans.delete(params.kPrime);
    encodingPlans.set(params.kPrime, hit);
    return hit;
  }
  const isis = new Int32Array(params.kPrime);
  for (let i = 0; i < isis.length; i++) isis[i] = i;
  const plan = planSolve(params, isis);
  // RFC 6330 guarantees the systematic indices make this matrix invertible for every K'.
  if (!plan) throw new Error(`internal error: encoding matrix for K'=${params.kPrime} is singular`);
  encodingPlans.set(params.kPrime, plan);
  if (encodingPlans.size > ENCODING_PLAN_CACHE_LIMIT) {
    const oldest = encodingPlans.keys().next().value as number;
    encodingPlans.delete(oldest);
  }
  return plan;
}

/** Solved intermediate symbols C[0..L-1] of a block: C[c] lives in buffer row columnRow[c]. */
export class IntermediateSymbols {
  readonly params: BlockParams;
  readonly buffer: SymbolBuffer;
  readonly columnRow: Int32Array;
  private readonly columns = new Int32Array(64);

  /** Rows the solve used (including its scratch row); rows after them are free. */
  private readonly solvedRows: number;

  constructor(params: BlockParams, buffer: SymbolBuffer, columnRow: Int32Array, solvedRows: number) {
    this.params = params;
    this.buffer = buffer;
    this.columnRow = columnRow;
    this.solvedRows = solvedRows;
  }

  /**
   * Solves the encoding system for a block. `loadSource(buffer, row, esi)` must write source
   * symbol `esi` into `row`; rows of padding symbols are left zero.
   */
  static encode(params: BlockParams, symbolSize: number, loadSource: (buffer: SymbolBuffer, row: number, esi: number) => void): IntermediateSymbols {
    const plan = encodingPlan(params);
    const buffer = new SymbolBuffer(symbolSize, plan.rowCount + 1);
    const first = params.s + params.h;
    for (let esi = 0; esi < params.k; esi++) loadSource(buffer, first + esi, esi);
    executePlan(plan, buffer);
    return new IntermediateSymbols(params, buffer, plan.columnRow, plan.rowCount + 1);
  }

  /**
   * Computes the encoding symbols with internal symbol ids `isis` and hands each to `emit`
   * (as bytes at an offset, valid only during the call). On a kernel-backed buffer they are
   * computed in batches by one SIMD program each, in rows after the solved ones.
   */
  encodeMany(isis: ArrayLike<number>, emit: (index: number, bytes: Uint8Array, offset: number) => void): void {
    const buffer = this.buffer;
    const sb = buffer.strideBytes;
    const first = this.solvedRows;
    if (buffer.kernel && isis.length >= 8) {
      for (let start = 0; start < isis.length; start += ENCODE_BATCH) {
        const batch = Array.prototype.slice.call(isis, start, start + ENCODE_BATCH) as number[];
        buffer.ensureRows(first + batch.length);
        buffer.bytes.fill(0, first * sb, (first + batch.length) * sb);
        buffer.runOnKernel(compileEncodingProgram(this.params, this.columnRow, batch, first));
        for (let t = 0; t < batch.length; t++) emit(start + t, buffer.bytes, (first + t) * sb);
      }
      return;
    }
    buffer.ensureRows(first + 1);
    const sw = buffer.strideWords;
    for (let t = 0; t < isis.length; t++) {
      buffer.words.fill(0, first * sw, first * sw + sw);
      this.symbolInto(isis[t]!, buffer.words, first * sw);
      emit(t, buffer.bytes, first * sb);
    }
  }

  /** XORs the encoding symbol with internal symbol id `isi` into `out` (strideWords words at `at`). */
  symbolInto(isi: number, out: Int32Array, at: number): void {
    const n = ltColumns(this.params, isi, this.columns);
    const words = this.buffer.words;
    const sw = this.buffer.strideWords;
    const cols = this.columns;
    const rows = this.columnRow;
    for (let e = 0; e < n; e++) {
      const src = rows[cols[e]!]! * sw;
      if (out === words) xorWords(words, at, src, sw);
      else xorWordsFrom(out, at, words, src, sw);
    }
  }
}

/** Forgets every cached encoding plan (benchmarks use it to time a cold start). */
export function clearEncodingPlans(): void {
  encodingPlans.clear();
}
