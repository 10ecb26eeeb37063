// A block of equally sized symbols stored row by row in one ArrayBuffer, plus the row kernels
// the solver replays on it. Rows are padded to a multiple of 16 bytes so XOR runs word by word
// (or lane by lane in the SIMD kernel); padding bytes stay zero through every operation.

import { MUL_TABLE } from './gf256.js';
import type { Program, ProgramStore } from './program.js';
import { KERNEL_DATA_OFFSET, KernelMemory } from './simd-kernel.js';

export class SymbolBuffer {
  readonly symbolSize: number;
  readonly strideWords: number;
  readonly strideBytes: number;
  /** Row capacity. */
  rows: number;
  /** Views of the rows; replaced when the buffer grows, so never keep them across calls. */
  bytes: Uint8Array;
  words: Int32Array;
  /** Set when the rows live in a WebAssembly memory the SIMD kernel works on in place. */
  readonly kernel: KernelMemory | null;

  /**
   * Rows 0..zeroRows-1 start zero. Rows past them may hold old bytes of a reused kernel memory:
   * only pass a smaller zeroRows when every such row is written (setRow, or zeroed) before a
   * program reads it. Padding bytes past symbolSize never reach a symbol (every operation is
   * byte-wise), so old bytes there are harmless.
   */
  constructor(symbolSize: number, rows: number, zeroRows = rows) {
    this.symbolSize = symbolSize;
    // 16-byte rows: whole SIMD lanes for the WebAssembly kernel.
    this.strideWords = ((symbolSize + 15) >>> 4) << 2;
    this.strideBytes = this.strideWords * 4;
    this.rows = rows;
    this.kernel = KernelMemory.create(rows * this.strideBytes, zeroRows * this.strideBytes);
    if (this.kernel) {
      this.bytes = new Uint8Array(this.kernel.buffer, KERNEL_DATA_OFFSET, rows * this.strideBytes);
    } else {
      this.bytes = new Uint8Array(rows * this.strideBytes);
    }
    this.words = new Int32Array(this.bytes.buffer, this.bytes.byteOffset, rows * this.strideWords);
  }

  /** Grows the capacity to at least `rows`, keeping the contents. */
  ensureRows(rows: number): void {
    if (rows <= this.rows) return;
    if (this.kernel) {
      this.kernel.ensure(KERNEL_DATA_OFFSET + rows * this.strideBytes);
      this.bytes = new Uint8Array(this.kernel.buffer, KERNEL_DATA_OFFSET, rows * this.strideBytes);
      // A reused memory may hold old bytes past the previous capacity; callers expect zeros.
      this.bytes.fill(0, this.rows * this.strideBytes);
    } else {
      const bytes = new Uint8Array(rows * this.strideBytes);
      bytes.set(this.bytes);
      this.bytes = bytes;
    }
    this.words = new Int32Array(this.bytes.buffer, this.bytes.byteOffset, rows * this.strideWords);
    this.rows = rows;
  }

  /**
   * Runs a program with the SIMD kernel in place; false when this buffer is not kernel-backed.
   * The program is placed after the rows, growing the memory if needed.
   */
  runOnKernel(program: Program, compact = false): boolean {
    if (!this.kernel) return false;
    const scratchAt = KERNEL_DATA_OFFSET + this.rows * this.strideBytes;
    if (this.kernel.ensure(scratchAt + program.length * 4)) this.refreshViews();
    if (this.kernel.execute(program, this.strideBytes, scratchAt, compact)) this.refreshViews();
    return true;
  }

  /**
   * A ProgramStore writing straight into the kernel memory after the rows (null when this
   * buffer is not kernel-backed); run what it holds with runStored. The rows must not grow
   * in between.
   */
  programStore(): ProgramStore | null {
    const kernel = this.kernel;
    if (!kernel) return null;
    const at = KERNEL_DATA_OFFSET + this.rows * this.strideBytes;
    return {
      // The memory grows in place: words written so far stay where they are.
      grow: (_old: Int32Array, _keep: number, words: number): Int32Array => {
        if (kernel.ensure(at + words * 4)) this.refreshViews();
        return new Int32Array(kernel.buffer, at, words);
      },
    };
  }

  /** Runs a program written by programStore(). */
  runStored(program: Program): void {
    if (this.kernel!.executeAt(KERNEL_DATA_OFFSET + this.rows * this.strideBytes, program.length, program.rows, this.strideBytes, true)) this.refreshViews();
  }

  private refreshViews(): void {
    this.bytes = new Uint8Array(this.kernel!.buffer, KERNEL_DATA_OFFSET, this.rows * this.strideBytes);
    this.words = new Int32Array(this.bytes.buffer, this.bytes.byteOffset, this.rows * this.strideWords);
  }

  /** Gives up the rows (their memory may serve another buffer); the buffer is unusable after. */
  release(): void {
    this.kernel?.release();
    this.bytes = new Uint8Array(0);
    this.words = new Int32Array(0);
    this.rows = 0;
  }

  setRow(r: number, src: Uint8Array, srcOffset: number): void {
    this.bytes.set(src.subarray(srcOffset, srcOffset + this.symbolSize), r * this.strideBytes);
  }
}

/** words[dst..] ^= words[src..] over n words. */
export function xorWords(words: Int32Array, dst: number, src: number, n: number): void {
  let i = 0;
  const n4 = n & ~3;
  for (; i < n4; i += 4) {
    words[dst + i] ^= words[src + i]!;
    words[dst + i + 1] ^= words[src + i + 1]!;
    words[dst + i + 2] ^= words[src + i + 2]!;
    words[dst + i + 3] ^= words[src + i + 3]!;
  }
  for (; i < n; i++) words[dst + i] ^= words[src + i]!;
}

/** Every byte of words[at..at+n) multiplied by alpha (= 2) in GF(256), four bytes per step. */
export function mulAlphaWords(words: Int32Array, at: number, n: number): void {
  for (let i = at, end = at + n; i < end; i++) {
    const x = words[i]!;
    const high = (x >>> 7) & 0x01010101;
    words[i] = ((x & 0x7f7f7f7f) << 1) ^ Math.imul(high, 0x1d);
  }
}

/** bytes[dst..] ^= beta * bytes[src..] over n bytes. */
export function mulAddBytes(bytes: Uint8Array, dst: number, src: number, n: number, beta: number): void {
  if (beta === 0) return;
  const base = beta << 8;
  for (let i = 0; i < n; i++) bytes[dst + i] ^= MUL_TABLE[base | bytes[src + i]!]!;
}

/** bytes[at..] *= beta over n bytes. */
export function scaleBytes(bytes: Uint8Array, at: number, n: number, beta: number): void {
  if (beta === 1) return;
  const base = beta << 8;
  for (let i = at, end = at + n; i < end; i++) bytes[i] = MUL_TABLE[base | bytes[i]!]!;
}
