// Decoding state of one source block: received symbols are stored straight into the rows the
// solver will work on, so a solve needs no extra copy. The solve is planned symbolically first,
// so a block with too few (or dependent) symbols keeps every received symbol untouched.

import { IntermediateSymbols } from './intermediate.js';
import type { BlockParams } from './params.js';
import { executePlan } from './plan-executor.js';
import { planSolve } from './solver.js';
import { SymbolBuffer } from './symbol-buffer.js';

/** Writes source symbol `esi` (bytes at `offset` of `bytes`) to the object. */
export type SymbolSink = (esi: number, bytes: Uint8Array, offset: number) => void;

export class BlockDecoder {
  readonly params: BlockParams;
  private buffer: SymbolBuffer | null = null;
  private readonly symbolSize: number;
  /** Rows before the received ones: S LDPC, H HDPC and K'-K padding rows, all zero. */
  private readonly reserved: number;
  private esis: Int32Array;
  private count = 0;
  private readonly seenSource: Uint8Array;
  private readonly seenRepair = new Set<number>();
  private sourceCount = 0;
  private nextAttemptAt: number;
  /** Failed solve attempts (for statistics). */
  failedAttempts = 0;
  done = false;

  constructor(params: BlockParams, symbolSize: number) {
    this.params = params;
    this.reserved = params.s + params.h + (params.kPrime - params.k);
    this.symbolSize = symbolSize;
    this.esis = new Int32Array(0);
    this.seenSource = new Uint8Array(params.k);
    this.nextAttemptAt = params.k;
  }

  get receivedCount(): number {
    return this.count;
  }

  /** Stores one symbol; false when it is a duplicate (or the block is already decoded). */
  add(esi: number, packet: Uint8Array, offset: number): boolean {
    if (this.done) return false;
    const k = this.params.k;
    if (esi < k) {
      if (this.seenSource[esi]) return false;
      this.seenSource[esi] = 1;
      this.sourceCount++;
    } else {
      if (this.seenRepair.has(esi)) return false;
      this.seenRepair.add(esi);
    }
    if (this.count === this.esis.length) {
      const capacity = this.count === 0 ? k + 4 : Math.ceil(this.count * 1.25) + 4;
      const esis = new Int32Array(capacity);
      esis.set(this.esis);
      this.esis = esis;
      // One row more than the symbols: the solver's scratch row. Only the reserved rows must
      // start zero: symbol rows are written whole before use, the scratch row is cleared.
      if (this.buffer) this.buffer.ensureRows(this.reserved + capacity + 1);
      else this.buffer = new SymbolBuffer(this.symbolSize, this.reserved + capacity + 1, this.reserved);
    }
    const buffer = this.buffer!;
    this.esis[this.count] = esi;
    buffer.setRow(this.reserved + this.count, packet, offset);
    this.count++;
    return true;
  }

  /** Tries to finish the block; on success every source symbol has gone to `sink`. */
  tryDecode(sink: SymbolSink): boolean {
    if (this.done) return true;
    const { k, kPrime } = this.params;
    const buffer = this.buffer!;
    if (this.sourceCount === k) {
      // Every source symbol is here: the block is the data itself, no solve at all.
      for (let r = 0; r < this.count; r++) {
        const esi = this.esis[r]!;
        if (esi < k) sink(esi, buffer.bytes, (this.reserved + r) * buffer.strideBytes);
      }
      this.finish();
      return true;
    }
    if (this.count < this.nextAttemptAt) return false;
    const isis = new Int32Array(kPrime - k + this.count);
    let n = 0;
    for (let i = k; i < kPrime; i++) isis[n++] = i;
    for (let r = 0; r < this.count; r++) {
      const esi = this.esis[r]!;
      isis[n++] = esi < k ? esi : esi + kPrime - k;
    }
    const plan = planSolve(this.params, isis);
    if (!plan) {
      this.failedAttempts++;
      this.nextAttemptAt = this.count + 1;
      return false;
    }
    // Received source symbols go out before the in-place solve overwrites their rows.
    for (let r = 0; r < this.count; r++) {
      const esi = this.esis[r]!;
      if (esi < k) sink(esi, buffer.bytes, (this.reserved + r) * buffer.strideBytes);
    }
    executePlan(plan, buffer, true);
    const missing: number[] = [];
    for (let esi = 0; esi < k; esi++) if (!this.seenSource[esi]) missing.push(esi);
    // Missing source symbols: encoding symbols with ISI = ESI, rebuilt from C.
    const symbols = new IntermediateSymbols(this.params, buffer, plan.columnRow, plan.rowCount + 1);
    symbols.encodeMany(missing, (t, bytes, offset) => sink(missing[t]!, bytes, offset));
    this.finish();
    return true;
  }

  private finish(): void {
    this.done = true;
    this.buffer?.release();
    this.buffer = null;
    this.esis = new Int32Array(0);
    this.seenRepair.clear();
  }
}
