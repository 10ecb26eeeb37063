// Decoding state of one source block. Received symbols are kept in the object itself: a
// source symbol at its own place, a repair symbol at the place of a source symbol not
// received (a hole; K symbols suffice, so there are about as many holes as repair symbols),
// moved on if that source symbol turns up. Repair symbols without a hole wait in a
// RepairStore. A solve is planned symbolically first, so a block with too few (or dependent)
// symbols is left as it was.
//
// The solve runs in bands: every operation is byte-wise, so bytes [from, to) of all symbols
// form a system of their own with the same plan. Each band is gathered into one working
// buffer of at most BAND_BYTES and solved there, and the missing source symbols' bytes of
// that band are written to their places (over the repair symbols' bytes of the same band,
// already gathered). A block so costs the object and one band, instead of a second full copy
// of everything received.

import { allocInt32, transient } from './arena.js';
import type { BlockParams } from './params.js';
import { copySymbolPieces, wordView } from './partitioning.js';
import { runProgramPortable } from './plan-executor.js';
import { compileProgram } from './program.js';
import { planSolve, type SolvePlan } from './solver.js';
import { SymbolBuffer } from './symbol-buffer.js';

/** Where a block's source symbols live: the object being rebuilt. */
export interface BlockObject {
  /** The object, and a word view of it (null when unaligned). */
  readonly bytes: Uint8Array;
  readonly words: Int32Array | null;
  /** Source symbols 0..wholeSymbols-1 lie entirely inside the object (the last may be cut). */
  readonly wholeSymbols: number;
  /** Where bytes [from, to) of the symbols lie (ObjectLayout.rangePieces). */
  pieces(from: number, to: number): Float64Array;
}

/**
 * Working rows of one band at most this many bytes. A 64 MiB block (53,456 solve rows and
 * 10,486 rebuilt ones of 1280 bytes) is solved in ten bands of 128 bytes, a 16 MiB block in
 * three of 432; blocks up to about 5 MiB in one. Narrow bands also keep the kernel in cache:
 * at K = 52429 the program over ten 128-byte bands took 97 ms, over whole rows 179 ms. 16 MiB
 * bands measured the same speed with 7 MiB more peak memory.
 */
const BAND_BYTES = 8 << 20;
let bandBytes = BAND_BYTES;

/** Sets the band limit (tests use a small one to solve in many bands); no argument restores it. */
export function setBandBytes(bytes = BAND_BYTES): void {
  bandBytes = bytes;
}

/** Bytes of each symbol one band covers: all of it, or a multiple of 16 that fits BAND_BYTES. */
export function bandWidth(rows: number, symbolSize: number): number {
  const stride = ((symbolSize + 15) >>> 4) << 4;
  const bands = Math.ceil((rows * stride) / bandBytes);
  if (bands <= 1) return stride;
  return Math.max(16, Math.ceil(stride / bands / 16) * 16);
}

/** Symbols per slab of a RepairStore. */
const SLAB_SHIFT = 3;
const SLAB = 1 << SLAB_SHIFT;

/** Repair symbols in arrival order, in slabs, so growing never copies what is stored. */
class RepairStore {
  private readonly symbolSize: number;
  private slabs: Uint8Array[] = [];
  private count = 0;

  constructor(symbolSize: number) {
    this.symbolSize = symbolSize;
  }

  /** Stores a symbol; returns its index. */
  push(bytes: Uint8Array, offset: number): number {
    const t = this.symbolSize;
    const slot = this.count & (SLAB - 1);
    if (slot === 0) this.slabs.push(new Uint8Array(SLAB * t));
    this.slabs[this.count >>> SLAB_SHIFT]!.set(bytes.subarray(offset, offset + t), slot * t);
    return this.count++;
  }

  /** Copies bytes [from, to) of the index-th stored symbol into `dst` at `dstOffset`. */
  readRange(index: number, from: number, to: number, dst: Uint8Array, dstOffset: number): void {
    const at = (index & (SLAB - 1)) * this.symbolSize;
    dst.set(this.slabs[index >>> SLAB_SHIFT]!.subarray(at + from, at + to), dstOffset);
  }

  clear(): void {
    this.slabs = [];
    this.count = 0;
  }
}

export class BlockDecoder {
  readonly params: BlockParams;
  private readonly object: BlockObject;
  /** Repair symbols that found no hole. */
  private readonly overflow: RepairStore;
  private repairCount = 0;
  /** Per repair symbol (arrival order): the hole ESI holding it, or -1 - its overflow slot. */
  private repairAt: Int32Array;
  /** Per source ESI: the repair symbol its hole holds, or -1. */
  private readonly occupant: Int32Array;
  /** Holes above this ESI are all received or taken: free holes are searched downwards. */
  private nextHole: number;
  private evicted: Uint8Array | null = null;
  /** Where a whole symbol's bytes lie in the object. */
  private readonly symbolPieces: Float64Array;
  private readonly symbolSize: number;
  /** Rows before the received ones: S LDPC, H HDPC and K'-K padding rows, all zero. */
  private readonly reserved: number;
  /** ESI of each received symbol, in arrival order (the order of the plan's LT rows). */
  private esis: Int32Array;
  private count = 0;
  private readonly seenSource: Uint8Array;
  private readonly seenRepair = new Set<number>();
  private sourceCount = 0;
  private nextAttemptAt: number;
  /** Failed solve attempts (for statistics). */
  failedAttempts = 0;
  done = false;

  constructor(params: BlockParams, symbolSize: number, object: BlockObject) {
    this.params = params;
    this.object = object;
    this.reserved = params.s + params.h + (params.kPrime - params.k);
    this.symbolSize = symbolSize;
    this.symbolPieces = object.pieces(0, symbolSize);
    this.overflow = new RepairStore(symbolSize);
    this.repairAt = new Int32Array(0);
    this.occupant = new Int32Array(params.k).fill(-1);
    this.nextHole = Math.min(params.k, object.wholeSymbols) - 1;
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
      const q = this.occupant[esi]!;
      if (q >= 0) {
        // Its hole holds a repair symbol: move that on first.
        const held = (this.evicted ??= new Uint8Array(this.symbolSize));
        copySymbolPieces(this.object.bytes, null, this.symbolPieces, esi, held, null, 0, false);
        this.occupant[esi] = -1;
        this.write(esi, packet, offset);
        this.placeRepair(q, held, 0);
      } else {
        this.write(esi, packet, offset);
      }
    } else {
      if (this.seenRepair.has(esi)) return false;
      this.seenRepair.add(esi);
      if (this.repairCount === this.repairAt.length) {
        const grown = new Int32Array(Math.ceil(this.repairCount * 1.5) + 16);
        grown.set(this.repairAt);
        this.repairAt = grown;
      }
      this.placeRepair(this.repairCount++, packet, offset);
    }
    if (this.count === this.esis.length) {
      const esis = new Int32Array(this.count === 0 ? k + 4 : Math.ceil(this.count * 1.25) + 4);
      esis.set(this.esis);
      this.esis = esis;
    }
    this.esis[this.count++] = esi;
    return true;
  }

  /** Writes a whole symbol (bytes at offset) to the place of source symbol esi. */
  private write(esi: number, bytes: Uint8Array, offset: number): void {
    copySymbolPieces(this.object.bytes, null, this.symbolPieces, esi, bytes, null, offset, true);
  }

  /** Stores repair symbol q in the highest free hole, or in the overflow store. */
  private placeRepair(q: number, bytes: Uint8Array, offset: number): void {
    let h = this.nextHole;
    while (h >= 0 && (this.seenSource[h] || this.occupant[h]! >= 0)) h--;
    this.nextHole = h;
    if (h >= 0) {
      this.write(h, bytes, offset);
      this.occupant[h] = q;
      this.repairAt[q] = h;
    } else {
      this.repairAt[q] = -1 - this.overflow.push(bytes, offset);
    }
  }

  /** Tries to finish the block; on success every source symbol is in the object. */
  tryDecode(): boolean {
    if (this.done) return true;
    const k = this.params.k;
    if (this.sourceCount === k) {
      // Every source symbol is here, and already in place: no solve at all.
      this.finish();
      return true;
    }
    if (this.count < this.nextAttemptAt) return false;
    // Everything from the row order to the compiled program lives only for this attempt.
    const solved = transient(() => {
      const { isis, where } = this.rowOrder();
      const plan = planSolve(this.params, isis);
      if (!plan) return false;
      this.solveInBands(plan, where);
      return true;
    });
    if (!solved) {
      this.failedAttempts++;
      this.nextAttemptAt = this.count + 1;
      return false;
    }
    this.finish();
    return true;
  }

  /**
   * The plan's LT rows: the K'-K padding ISIs, then the received symbols in the order of
   * their places in the object (those in the overflow store last), with where each lies (a
   * place, or -1 - its overflow slot). Gathering in this order reads the object front to
   * back; in arrival order the repair symbols' places are scattered, and at 16 MiB a band
   * whose pieces lie in two sub-blocks took 4.5 ms to gather against 1.4 ms in order (TLB
   * misses). The row order changes the plan, never its solution or whether one exists.
   */
  private rowOrder(): { isis: Int32Array; where: Int32Array } {
    const { k, kPrime } = this.params;
    const pad = kPrime - k;
    const isis = allocInt32(pad + this.count);
    const where = allocInt32(this.count);
    for (let i = 0; i < pad; i++) isis[i] = k + i;
    // ESI of the symbol held at each place, or -1.
    const held = allocInt32(k).fill(-1);
    for (let r = 0, repair = 0; r < this.count; r++) {
      const esi = this.esis[r]!;
      const at = esi < k ? esi : this.repairAt[repair++]!;
      if (at >= 0) held[at] = esi;
    }
    let n = 0;
    for (let place = 0; place < k; place++) {
      const esi = held[place]!;
      if (esi < 0) continue;
      isis[pad + n] = esi < k ? esi : esi + pad;
      where[n++] = place;
    }
    for (let r = 0, repair = 0; r < this.count; r++) {
      const esi = this.esis[r]!;
      if (esi < k) continue;
      const at = this.repairAt[repair++]!;
      if (at >= 0) continue;
      isis[pad + n] = esi + pad;
      where[n++] = at;
    }
    return { isis, where };
  }

  /**
   * Runs the plan band by band. One program does the solve and then rebuilds the missing
   * source symbols (encoding symbols with ISI = ESI) into the rows after the scratch row.
   */
  private solveInBands(plan: SolvePlan, where: Int32Array): void {
    const k = this.params.k;
    const missing = allocInt32(k - this.sourceCount);
    for (let esi = 0, n = 0; esi < k; esi++) if (!this.seenSource[esi]) missing[n++] = esi;
    const solved = plan.rowCount + 1;
    const rows = solved + missing.length;
    const t = this.symbolSize;
    const width = bandWidth(rows, t);
    const buffer = new SymbolBuffer(width, rows, 0);
    const store = buffer.programStore();
    const program = compileProgram(plan, store ?? undefined, { isis: missing, firstRow: solved });
    for (let from = 0; from < t; from += width) {
      const to = Math.min(t, from + width);
      this.gather(buffer, where, from, to);
      if (store) buffer.runStored(program);
      else runProgramPortable(program, buffer);
      const pieces = this.object.pieces(from, to);
      const rowWords = wordView(buffer.bytes);
      const sb = buffer.strideBytes;
      for (let i = 0; i < missing.length; i++) {
        copySymbolPieces(this.object.bytes, this.object.words, pieces, missing[i]!, buffer.bytes, rowWords, (solved + i) * sb, true);
      }
    }
    buffer.release();
  }

  /**
   * Loads bytes [from, to) of every received symbol into its row (row order: rowOrder); the
   * other rows start zero.
   */
  private gather(buffer: SymbolBuffer, where: Int32Array, from: number, to: number): void {
    const { bytes, strideBytes: sb } = buffer;
    const pieces = this.object.pieces(from, to);
    const words = wordView(bytes);
    bytes.fill(0, 0, this.reserved * sb);
    bytes.fill(0, (this.reserved + this.count) * sb);
    for (let r = 0; r < this.count; r++) {
      const at = (this.reserved + r) * sb;
      const place = where[r]!;
      if (place >= 0) copySymbolPieces(this.object.bytes, this.object.words, pieces, place, bytes, words, at, false);
      else this.overflow.readRange(-1 - place, from, to, bytes, at);
    }
  }

  private finish(): void {
    this.done = true;
    this.esis = new Int32Array(0);
    this.seenRepair.clear();
    this.overflow.clear();
    this.repairAt = new Int32Array(0);
    this.evicted = null;
  }
}
