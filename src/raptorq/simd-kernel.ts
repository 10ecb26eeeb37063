// A WebAssembly SIMD kernel that runs a row-operation Program 16 bytes at a time. The module is
// tiny and assembled here from its instructions (no toolchain, no binary blob in the repo):
//
//   (func $xorn (param $d i32) (param $list i32) (param $n i32) (param $cw i32)
//               (param $srcBase i32) (param $stride i32))
//        d[0..cw) ^= the n source rows listed at $list; the destination is loaded and stored
//        once per 128 bytes however many sources there are (eight v128 accumulators)
//   (func $horner (param $g i32) (param $z i32) (param $h1 i32) (param $h2 i32) (param $n i32)
//                 (param $flags i32))
//        one column of the HDPC Horner pass: g = 2*g in GF(256), g ^= z if flags & 1,
//        then h1 ^= g and h2 ^= g if flags & 2
//   (func $mulAdd (param $d i32) (param $s i32) (param $n i32) (param $t i32))
//        d ^= beta * s, beta given by its two nibble tables at t
//   (func $scale (param $d i32) (param $n i32) (param $t i32))     d *= beta
//   (func $run (param $pc i32) (param $end i32) (param $base i32) (param $stride i32)
//              (param $c0 i32) (param $cw i32) (param $tables i32))
//        runs the instructions in [pc, end) on bytes [c0, c0+cw) of every row
//        (row r at base + r*stride)
//
// GF(256) products use the split-nibble method: beta*x = T_lo[x & 15] ^ T_hi[x >> 4], each
// table lookup one i8x16.swizzle. The memory is the symbol buffer itself (see KernelMemory).
// Where WebAssembly SIMD is missing the TypeScript kernels in plan-executor.ts run the Program.

import { MUL_TABLE } from './gf256.js';
import type { Program } from './program.js';
import { idleDropper } from './idle-drop.js';

// ---- a minimal assembler ----
const I32 = 0x7f;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  call: (f: number) => [0x10, ...uleb(f)],
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Load: (offset: number) => [0x28, 2, ...uleb(offset)],
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  v128Load: (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)],
  v128Store: [0xfd, 0x0b, 4, 0],
  v128StoreAt: (offset: number) => [0xfd, 0x0b, 4, ...uleb(offset)],
  i32GtU: [0x4b],
  swizzle: [0xfd, 0x0e],
  i8Splat: [0xfd, 0x0f],
  v128And: [0xfd, 0x4e],
  v128Xor: [0xfd, 0x51],
  i8Shl: [0xfd, 0x6b],
  i8ShrS: [0xfd, 0x6c],
  i8ShrU: [0xfd, 0x6d],
  i8Add: [0xfd, 0x6e],
  i8LtS: [0xfd, 0x25],
  i16ShrU: [0xfd, 0x8d, 0x01],
};

function body(locals: [number, number][], code: number[][]): number[] {
  const bytes = [...vec(locals.map(([count, type]) => [...uleb(count), type])), ...code.flat(), ...op.end];
  return [...uleb(bytes.length), ...bytes];
}

/** Loop skeleton: while (ptr < end) { step; ptr += 16; } */
function loop16(ptr: number, end: number, step: number[][], alsoAdvance: number[] = []): number[][] {
  return [
    op.block,
    op.loop,
    op.get(ptr),
    op.get(end),
    op.i32GeU,
    op.brIf(1),
    ...step,
    ...[ptr, ...alsoAdvance].flatMap((l) => [op.get(l), op.i32(16), op.i32Add, op.set(l)]),
    op.br(0),
    op.end,
    op.end,
  ];
}

function assemble(): Uint8Array {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])], // 0: xorn, horner
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])], // 1: mulAdd
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])], // 2: scale
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])], // 3: run
  ]);
  const functions = vec([[0], [0], [1], [2], [3], [0]]);
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]]);
  const exports = vec([[...name('run'), 0x00, 4], [...name('slice'), 0x00, 5]]);

  // xorn(d=0, list=1, n=2, cw=3, srcBase=4, stride=5; o=6, p=7, end=8, s=9, a0..a7=10..17)
  // 128 bytes at a time in eight accumulators (then 64, then 16): the destination is loaded
  // and stored once per group, and each source address is computed once per 128 bytes.
  const srcAddress: number[][] = [op.get(7), op.i32Load(0), op.get(5), op.i32Mul, op.get(4), op.i32Add, op.get(6), op.i32Add, op.set(9)];
  const dstAddress: number[][] = [op.get(0), op.get(6), op.i32Add];
  const accumulate = (width: number): number[][] => {
    const acc = (i: number): number => 10 + i;
    const lanes = width / 16;
    const out: number[][] = [
      op.block, op.loop,
      op.get(6), op.i32(width), op.i32Add, op.get(3), op.i32GtU, op.brIf(1),
    ];
    for (let i = 0; i < lanes; i++) out.push(...dstAddress, op.v128Load(16 * i), op.set(acc(i)));
    out.push(op.get(1), op.set(7), op.block, op.loop, op.get(7), op.get(8), op.i32GeU, op.brIf(1), ...srcAddress);
    for (let i = 0; i < lanes; i++) out.push(op.get(acc(i)), op.get(9), op.v128Load(16 * i), op.v128Xor, op.set(acc(i)));
    out.push(op.get(7), op.i32(4), op.i32Add, op.set(7), op.br(0), op.end, op.end);
    for (let i = 0; i < lanes; i++) out.push(...dstAddress, op.get(acc(i)), op.v128StoreAt(16 * i));
    out.push(op.get(6), op.i32(width), op.i32Add, op.set(6), op.br(0), op.end, op.end);
    return out;
  };
  const xorn = body(
    [[4, I32], [8, V128]],
    [
      op.get(1), op.get(2), op.i32(4), op.i32Mul, op.i32Add, op.set(8),
      op.i32(0), op.set(6),
      ...accumulate(128),
      ...accumulate(64),
      ...accumulate(16),
    ],
  );
  // horner(g=0, z=1, h1=2, h2=3, n=4, flags=5; end=6, c=7, x=8, zero=9)
  //   g = alpha * g, g ^= z if flags & 1, then h1 ^= g and h2 ^= g if flags & 2
  // alpha * x = (x + x) ^ (0x1d where x < 0 as a signed byte): i8x16.add and i8x16.lt_s are
  // single x64 instructions, where i8x16.shl and i8x16.shr_s by a constant are emulated in
  // several (there is no 8-bit shift). $zero is never written (locals start zero).
  const horner = body(
    [[1, I32], [3, V128]],
    [
      op.get(0), op.get(4), op.i32Add, op.set(6),
      op.i32(0x1d), op.i8Splat, op.set(7),
      ...loop16(0, 6, [
        op.get(0), op.v128Load(0), op.set(8),
        op.get(8), op.get(8), op.i8Add,
        op.get(8), op.get(9), op.i8LtS, op.get(7), op.v128And,
        op.v128Xor, op.set(8),
        op.get(5), op.i32(1), op.i32And,
        op.if,
        op.get(8), op.get(1), op.v128Load(0), op.v128Xor, op.set(8),
        op.end,
        op.get(0), op.get(8), op.v128StoreAt(0),
        op.get(5), op.i32(2), op.i32And,
        op.if,
        op.get(2), op.get(2), op.v128Load(0), op.get(8), op.v128Xor, op.v128StoreAt(0),
        op.get(3), op.get(3), op.v128Load(0), op.get(8), op.v128Xor, op.v128StoreAt(0),
        op.end,
      ], [1, 2, 3]),
    ],
  );
  // mulAdd(d=0, s=1, n=2, t=3; end=4, lo=5, hi=6, mask=7, x=8)
  //   high nibbles by i16x8.shr_u and the low-nibble mask (one x64 shift and an and; i8x16.shr_u
  //   is emulated), low nibbles by the mask alone
  const mulAdd = body(
    [[1, I32], [4, V128]],
    [
      op.get(0), op.get(2), op.i32Add, op.set(4),
      op.get(3), op.v128Load(0), op.set(5),
      op.get(3), op.v128Load(16), op.set(6),
      op.i32(15), op.i8Splat, op.set(7),
      ...loop16(0, 4, [
        op.get(1), op.v128Load(0), op.set(8),
        op.get(0),
        op.get(0), op.v128Load(0),
        op.get(5), op.get(8), op.get(7), op.v128And, op.swizzle,
        op.v128Xor,
        op.get(6), op.get(8), op.i32(4), op.i16ShrU, op.get(7), op.v128And, op.swizzle,
        op.v128Xor,
        op.v128Store,
      ], [1]),
    ],
  );
  // scale(d=0, n=1, t=2; end=3, lo=4, hi=5, mask=6, x=7)
  const scale = body(
    [[1, I32], [4, V128]],
    [
      op.get(0), op.get(1), op.i32Add, op.set(3),
      op.get(2), op.v128Load(0), op.set(4),
      op.get(2), op.v128Load(16), op.set(5),
      op.i32(15), op.i8Splat, op.set(6),
      ...loop16(0, 3, [
        op.get(0), op.v128Load(0), op.set(7),
        op.get(0),
        op.get(4), op.get(7), op.get(6), op.v128And, op.swizzle,
        op.get(5), op.get(7), op.i32(4), op.i16ShrU, op.get(6), op.v128And, op.swizzle,
        op.v128Xor,
        op.v128Store,
      ]),
    ],
  );
  // run(pc=0, end=1, base=2, stride=3, c0=4, cw=5, tables=6; hdr=7, kind=8, d=9, n=10)
  const rowAddress = (offset: number): number[][] => [op.get(0), op.i32Load(offset), op.get(3), op.i32Mul, op.get(2), op.i32Add, op.get(4), op.i32Add];
  const table: number[][] = [op.get(7), op.i32(8), op.i32ShrU, op.i32(5), op.i32Shl, op.get(6), op.i32Add];
  const run = body(
    [[4, I32]],
    [
      op.block,
      op.loop,
      op.get(0), op.get(1), op.i32GeU, op.brIf(1),
      op.get(0), op.i32Load(0), op.set(7),
      ...rowAddress(4), op.set(9),
      op.get(7), op.i32(255), op.i32And, op.set(8),
      op.get(8), op.i32Eqz,
      op.if,
      // XORN: header, dst, n source rows.
      op.get(7), op.i32(8), op.i32ShrU, op.set(10),
      op.get(9), op.get(0), op.i32(8), op.i32Add, op.get(10), op.get(5), op.get(2), op.get(4), op.i32Add, op.get(3), op.call(0),
      op.get(0), op.get(10), op.i32(2), op.i32Add, op.i32(4), op.i32Mul, op.i32Add, op.set(0),
      op.else,
      op.get(8), op.i32(1), op.i32Eq,
      op.if,
      op.get(9), ...rowAddress(8), ...rowAddress(12), ...rowAddress(16), op.get(5), op.get(7), op.i32(8), op.i32ShrU, op.call(1),
      op.get(0), op.i32(20), op.i32Add, op.set(0),
      op.else,
      op.get(8), op.i32(2), op.i32Eq,
      op.if,
      op.get(9), ...rowAddress(8), op.get(5), ...table, op.call(2),
      op.get(0), op.i32(12), op.i32Add, op.set(0),
      op.else,
      op.get(9), op.get(5), ...table, op.call(3),
      op.get(0), op.i32(8), op.i32Add, op.set(0),
      op.end,
      op.end,
      op.end,
      op.br(0),
      op.end,
      op.end,
    ],
  );
  // slice(src=0, srcStride=1, dst=2, dstStride=3, rows=4, width=5; o=6, end=7)
  //   copies `width` bytes (a multiple of 16) of each of `rows` rows between two row layouts
  const slice = body(
    [[2, I32]],
    [
      op.block,
      op.loop,
      op.get(4), op.i32Eqz, op.brIf(1),
      op.get(2), op.get(5), op.i32Add, op.set(7),
      op.get(2), op.set(6),
      ...loop16(6, 7, [op.get(6), op.get(0), op.v128Load(0), op.v128Store], [0]),
      op.get(0), op.get(5), op.i32Sub, op.get(1), op.i32Add, op.set(0),
      op.get(2), op.get(3), op.i32Add, op.set(2),
      op.get(4), op.i32(1), op.i32Sub, op.set(4),
      op.br(0),
      op.end,
      op.end,
    ],
  );
  const code = vec([xorn, horner, mulAdd, scale, run, slice]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

// ---- the kernel ----

/** Bytes at the start of every kernel memory holding the 256 pairs of nibble tables. */
export const KERNEL_DATA_OFFSET = 256 * 32;
const PAGE = 65536;
/**
 * A program runs in passes over column slices of every row, so that the bytes one pass
 * touches (rows x slice width) stay in cache: at K = 13108 (16 MiB, 17 MB of rows) five passes
 * of 256 bytes run the program in 13.6 ms against 22 ms for whole rows. A pass re-reads the
 * whole program, so slices narrower than MIN_PASS_WIDTH lose again (K = 52429: 128-byte passes
 * 174 ms, whole rows 162 ms); then whole rows are used.
 */
const PASS_BYTES = 4 << 20;
const MIN_PASS_WIDTH = 256;
/** Below this much row data the plain TypeScript kernels are as fast. */
const MIN_SIMD_BYTES = 16 << 10;
/**
 * Released memories kept for reuse: at most this many, this many bytes in all. A fresh memory
 * costs a page fault per 4 KiB on first touch (on this VM about 0.7 ms per MiB, as much as
 * encoding that MiB), so the limit covers the rows of the largest block (56403 symbols of
 * 1280 bytes, about 70 MiB) twice. Spares are dropped after SPARE_IDLE_MS without pool use, so
 * an idle process does not keep them.
 */
const SPARE_COUNT = 4;
const SPARE_LIMIT = 160 << 20;
const SPARE_IDLE_MS = 2000;
const spare: KernelMemory[] = [];
const scheduleSpareDrop = idleDropper(SPARE_IDLE_MS, () => {
  spare.length = 0;
});

// The project compiles without DOM typings, so the few WebAssembly shapes used are declared here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

type RunFunction = (pc: number, end: number, base: number, stride: number, c0: number, cw: number, tables: number) => void;
type SliceFunction = (src: number, srcStride: number, dst: number, dstStride: number, rows: number, width: number) => void;

let compiled: object | null | undefined;

function module(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = assemble();
      compiled = wasmApi && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * A WebAssembly memory that holds a SymbolBuffer's rows (after the nibble tables) and, while a
 * program runs, the program after the rows. Rows never leave it, so there is no copying.
 */
export class KernelMemory {
  private readonly memory: WasmMemory;
  private readonly run: RunFunction;
  private readonly slice: SliceFunction;

  private constructor(memory: WasmMemory, run: RunFunction, slice: SliceFunction) {
    this.memory = memory;
    this.run = run;
    this.slice = slice;
  }

  /**
   * A memory with room for `dataBytes` of rows, or null when SIMD is unavailable. The first
   * `zeroBytes` of the rows are zero; past them a reused memory may hold old bytes (a fresh
   * one is all zero), so callers clear only what they will not overwrite anyway.
   */
  static create(dataBytes: number, zeroBytes = dataBytes): KernelMemory | null {
    const mod = module();
    if (!mod || disabled) return null;
    if (!forced && dataBytes < MIN_SIMD_BYTES) return null;
    const need = KERNEL_DATA_OFFSET + dataBytes;
    // The smallest spare that fits, so a large one stays for a large block.
    let pooled = -1;
    for (let i = 0; i < spare.length; i++) {
      const size = spare[i]!.buffer.byteLength;
      if (size >= need && (pooled < 0 || size < spare[pooled]!.buffer.byteLength)) pooled = i;
    }
    if (pooled >= 0) {
      const memory = spare.splice(pooled, 1)[0]!;
      scheduleSpareDrop();
      new Uint8Array(memory.buffer, KERNEL_DATA_OFFSET, Math.min(zeroBytes, dataBytes)).fill(0);
      return memory;
    }
    try {
      const memory = new wasmApi!.Memory({ initial: Math.ceil((KERNEL_DATA_OFFSET + dataBytes) / PAGE) });
      const inst = new wasmApi!.Instance(mod, { env: { memory } });
      const tables = new Uint8Array(memory.buffer, 0, KERNEL_DATA_OFFSET);
      for (let beta = 0; beta < 256; beta++) {
        for (let i = 0; i < 16; i++) {
          tables[beta * 32 + i] = MUL_TABLE[(beta << 8) | i]!;
          tables[beta * 32 + 16 + i] = MUL_TABLE[(beta << 8) | (i << 4)]!;
        }
      }
      return new KernelMemory(memory, inst.exports['run'] as RunFunction, inst.exports['slice'] as SliceFunction);
    } catch {
      return null;
    }
  }

  /**
   * Hands the memory back for reuse by the next buffer (fresh memories cost page faults and
   * zeroing). The caller must not touch views of it afterwards.
   */
  release(): void {
    const size = this.memory.buffer.byteLength;
    if (size > SPARE_LIMIT || spare.includes(this)) return;
    spare.push(this);
    let total = spare.reduce((sum, m) => sum + m.buffer.byteLength, 0);
    while (spare.length > SPARE_COUNT || total > SPARE_LIMIT) total -= spare.shift()!.buffer.byteLength;
    scheduleSpareDrop();
  }

  /** The current backing buffer (replaced whenever the memory grows). */
  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  /** Grows to at least `totalBytes`; returns true when the backing buffer changed. */
  ensure(totalBytes: number): boolean {
    const have = this.memory.buffer.byteLength;
    if (have >= totalBytes) return false;
    this.memory.grow(Math.ceil((totalBytes - have) / PAGE));
    return true;
  }

  /**
   * Runs `program` on `rows` rows of `stride` bytes at KERNEL_DATA_OFFSET; `scratchAt` is free
   * space. True when the memory grew (views of it must be made again).
   */
  execute(program: Program, stride: number, scratchAt: number, compact = false): boolean {
    new Int32Array(this.memory.buffer, scratchAt, program.length).set(program.code.subarray(0, program.length));
    return this.executeAt(scratchAt, program.length, program.rows, stride, compact);
  }

  /**
   * Runs the program of `length` words already in this memory at byte `at`. With `compact`
   * (a program reading and writing every row, such as a solve) rows too large for the cache
   * are worked on in compact copies of column bands, after the program; true when that grew
   * the memory.
   */
  executeAt(at: number, length: number, rows: number, stride: number, compact = false): boolean {
    const end = at + length * 4;
    const width = compact ? compactWidth(rows, stride) : 0;
    if (width > 0) return this.executeCompact(at, end, rows, stride, width);
    const cw = passWidth(rows, stride);
    for (let c0 = 0; c0 < stride; c0 += cw) {
      this.run(at, end, KERNEL_DATA_OFFSET, stride, c0, Math.min(cw, stride - c0), 0);
    }
    return false;
  }

  /**
   * Column passes over whole rows stride through memory a row apart, so at K = 52429 they are
   * no faster than whole rows (67 MB); the same program over a compact copy of each 128-byte
   * band (8 MB) ran in 97 ms against 166 ms, the copies in and out included.
   */
  private executeCompact(at: number, end: number, rows: number, stride: number, width: number): boolean {
    const band = (end + 15) & ~15;
    const grew = this.ensure(band + rows * width);
    for (let c0 = 0; c0 < stride; c0 += width) {
      const w = Math.min(width, stride - c0);
      this.slice(KERNEL_DATA_OFFSET + c0, stride, band, w, rows, w);
      this.run(at, end, band, w, 0, w, 0);
      this.slice(band, w, KERNEL_DATA_OFFSET + c0, stride, rows, w);
    }
    return grew;
  }
}

/** Rows above this many bytes are solved in compact bands of at most compactBandBytes. */
const COMPACT_ABOVE = 32 << 20;
const COMPACT_BAND_BYTES = 8 << 20;
let compactAbove = COMPACT_ABOVE;
let compactBandBytes = COMPACT_BAND_BYTES;

/** Tests use small limits to run compact bands on small blocks; no arguments restore them. */
export function setCompactLimits(above = COMPACT_ABOVE, bandBytes = COMPACT_BAND_BYTES): void {
  compactAbove = above;
  compactBandBytes = bandBytes;
}

/** Band width (a multiple of 16) of a compact run, or 0 to run in place. */
export function compactWidth(rows: number, stride: number): number {
  if (rows * stride <= compactAbove) return 0;
  const bands = Math.ceil((rows * stride) / compactBandBytes);
  const width = Math.ceil(stride / bands / 16) * 16;
  return width < stride ? width : 0;
}

/** Bytes of each row one pass covers (a multiple of 16; see PASS_BYTES). */
export function passWidth(rows: number, stride: number): number {
  // Whole 128-byte groups of the XOR loop per pass.
  const fit = Math.floor(PASS_BYTES / rows / 128) * 128;
  if (fit < MIN_PASS_WIDTH || fit >= stride) return stride;
  const passes = Math.ceil(stride / fit);
  return Math.ceil(stride / passes / 16) * 16;
}

/** True when the SIMD kernel can run here. */
export function simdAvailable(): boolean {
  return module() !== null;
}

let disabled = false;
let forced = false;
/**
 * Chooses the kernel for buffers created from now on: 'auto' (SIMD for large blocks),
 * 'portable' (TypeScript only) or 'simd' (SIMD whenever available, even for tiny blocks).
 * Tests use it to compare both paths.
 */
export function setKernelMode(mode: 'auto' | 'portable' | 'simd'): void {
  disabled = mode === 'portable';
  forced = mode === 'simd';
}
