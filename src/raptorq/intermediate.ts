// Intermediate symbols of one source block and the encoding symbols derived from them.

import { allocInt32, packArrays, transient } from './arena.js';
import type { BlockParams } from './params.js';
import { executePlan } from './plan-executor.js';
import { compileEncodingProgram } from './program.js';
import { planSolve, type SolvePlan } from './solver.js';
import { SymbolBuffer, xorWords } from './symbol-buffer.js';
import { ltColumns } from './tuple.js';

const ENCODING_PLAN_CACHE_LIMIT = 16;
/** Encoding symbols computed per SIMD program run (bounds the extra rows). */
const ENCODE_BATCH = 1024;
const encodingPlans = new Map<number, SolvePlan>();

/**
 * Encoding plans up to this K' are planned on transient arrays (arena.ts) and then packed into
 * one buffer: at K' = 55 the twenty-odd arrays a plan keeps cost 7% of a cold encode to
 * allocate one by one. Larger plans are allocated as before (their allocations are a small
 * part of the work, and they would not fit the arena).
 */
const PACK_PLAN_MAX_K = 4096;

function sourceIsis(params: BlockParams): Int32Array {
  const isis = allocInt32(params.kPrime);
  for (let i = 0; i < isis.length; i++) isis[i] = i;
  return isis;
}

function packed(plan: SolvePlan | null): SolvePlan | null {
  return plan && packArrays(plan);
}

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
  const plan = params.kPrime <= PACK_PLAN_MAX_K ? transient(() => packed(planSolve(params, sourceIsis(params)))) : planSolve(params, sourceIsis(params));
  // RFC 6330 guarantees the systematic indices make this matrix invertible for every K'.
  if (!plan) throw new Error(`internal error: encoding matrix for K'=${params.kPrime} is singular`);
  encodingPlans.set(params.kPrime, plan);
  if (encodingPlans.size > ENCODING_PLAN_CACHE_LIMIT) {
    const oldest = encodingPlans.keys().next().value as number;
    encodingPlans.delete(oldest);
  }
  return plan;
}

/**
 * Solved intermediate symbols C[0..L-1] of a block: C[c] lives in row columnRow[c] of the
 * solve's rows, a kernel buffer when the block is large. An encoder of several blocks parks
 * all but the one it works on in plain memory (park()), so their kernel memories go back to
 * the pool: a fresh kernel memory costs a page fault per 4 KiB (about 0.7 ms per MiB here).
 */
export class IntermediateSymbols {
  readonly params: BlockParams;
  private buffer: SymbolBuffer | null;
  /** The solved rows while parked: solvedRows x strideBytes bytes. */
  private parked: Uint8Array | null = null;
  readonly columnRow: Int32Array;
  private readonly columns = new Int32Array(64);
  private readonly symbolSize: number;

  /** Rows the solve used (including its scratch row); rows after them are free. */
  private readonly solvedRows: number;

  constructor(params: BlockParams, buffer: SymbolBuffer, columnRow: Int32Array, solvedRows: number) {
    this.params = params;
    this.buffer = buffer;
    this.symbolSize = buffer.symbolSize;
    this.columnRow = columnRow;
    this.solvedRows = solvedRows;
  }

  /**
   * Solves the encoding system for a block. `loadSource(buffer, row, esi)` must write all
   * symbolSize bytes of source symbol `esi` into `row`.
   */
  static encode(params: BlockParams, symbolSize: number, loadSource: (buffer: SymbolBuffer, row: number, esi: number) => void): IntermediateSymbols {
    const plan = encodingPlan(params);
    const first = params.s + params.h;
    // LDPC and HDPC rows start zero; source rows are written whole; padding rows cleared below.
    const buffer = new SymbolBuffer(symbolSize, plan.rowCount + 1, first);
    for (let esi = 0; esi < params.k; esi++) loadSource(buffer, first + esi, esi);
    buffer.bytes.fill(0, (first + params.k) * buffer.strideBytes, (first + params.kPrime) * buffer.strideBytes);
    executePlan(plan, buffer);
    return new IntermediateSymbols(params, buffer, plan.columnRow, plan.rowCount + 1);
  }

  /**
   * Moves kernel-backed rows to plain memory and gives the kernel memory back (no-op for
   * plain buffers, which cost nothing to keep). The rows come back, into a pooled kernel
   * memory, on the next encodeMany, which keeps them there until the next park.
   */
  park(): void {
    const buffer = this.buffer;
    if (!buffer?.kernel) return;
    const length = this.solvedRows * buffer.strideBytes;
    // The rows never change after the solve, so an earlier parked copy is still exact.
    if (!this.parked) this.parked = buffer.bytes.slice(0, length);
    buffer.release();
    this.buffer = null;
  }

  /** Gives up the rows for good. */
  release(): void {
    this.buffer?.release();
    this.buffer = null;
    this.parked = null;
  }

  private rows(extra: number): SymbolBuffer {
    let buffer = this.buffer;
    if (!buffer) {
      // Only the solved rows are read before being written; the rest are zeroed by encodeMany.
      buffer = new SymbolBuffer(this.symbolSize, this.solvedRows + extra, 0);
      buffer.bytes.set(this.parked!);
      this.buffer = buffer;
    } else {
      buffer.ensureRows(this.solvedRows + extra);
    }
    return buffer;
  }

  /**
   * Computes the encoding symbols with internal symbol ids `isis` and hands each to `emit`
   * (as bytes at an offset, valid only during the call). On a kernel-backed buffer they are
   * computed in batches by one SIMD program each, in rows after the solved ones.
   */
  encodeMany(isis: ArrayLike<number>, emit: (index: number, bytes: Uint8Array, offset: number) => void): void {
    const first = this.solvedRows;
    const simd = isis.length >= 8 && (this.buffer ? this.buffer.kernel !== null : this.parked !== null);
    const buffer = this.rows(simd ? Math.min(isis.length, ENCODE_BATCH) : 1);
    const sb = buffer.strideBytes;
    if (simd) {
      for (let start = 0; start < isis.length; start += ENCODE_BATCH) {
        const batch = Array.prototype.slice.call(isis, start, start + ENCODE_BATCH) as number[];
        buffer.bytes.fill(0, first * sb, (first + batch.length) * sb);
        buffer.runOnKernel(compileEncodingProgram(this.params, this.columnRow, batch, first));
        for (let t = 0; t < batch.length; t++) emit(start + t, buffer.bytes, (first + t) * sb);
      }
      return;
    }
    const sw = buffer.strideWords;
    for (let t = 0; t < isis.length; t++) {
      buffer.words.fill(0, first * sw, first * sw + sw);
      this.symbolInto(buffer, isis[t]!, first * sw);
      emit(t, buffer.bytes, first * sb);
    }
  }

  /** XORs the encoding symbol with internal symbol id `isi` into the buffer's words at `at`. */
  private symbolInto(buffer: SymbolBuffer, isi: number, at: number): void {
    const n = ltColumns(this.params, isi, this.columns);
    const words = buffer.words;
    const sw = buffer.strideWords;
    const cols = this.columns;
    const rows = this.columnRow;
    for (let e = 0; e < n; e++) xorWords(words, at, rows[cols[e]!]! * sw, sw);
  }
}

/** Forgets every cached encoding plan (benchmarks use it to time a cold start). */
export function clearEncodingPlans(): void {
  encodingPlans.clear();
}
