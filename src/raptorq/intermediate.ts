// Intermediate symbols of one source block and the encoding symbols derived from them.

import type { BlockParams } from './params.js';
import { executePlan } from './plan-executor.js';
import { planSolve, type SolvePlan } from './solver.js';
import { SymbolBuffer, xorWords } from './symbol-buffer.js';
import { ltColumns } from './tuple.js';

const ENCODING_PLAN_CACHE_LIMIT = 16;
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

  constructor(params: BlockParams, buffer: SymbolBuffer, columnRow: Int32Array) {
    this.params = params;
    this.buffer = buffer;
    this.columnRow = columnRow;
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
    return new IntermediateSymbols(params, buffer, plan.columnRow);
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
      else for (let i = 0; i < sw; i++) out[at + i] ^= words[src + i]!;
    }
  }
}

/** Forgets every cached encoding plan (benchmarks use it to time a cold start). */
export function clearEncodingPlans(): void {
  encodingPlans.clear();
}
