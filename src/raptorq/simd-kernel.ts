// A WebAssembly SIMD kernel that runs a row-operation Program 16 bytes at a time. The module is
// tiny and assembled here from its instructions (no toolchain, no binary blob in the repo):
//
//   (func $xor (param $d i32) (param $s i32) (param $n i32))        d[0..n) ^= s[0..n)
//   (func $mulAlpha (param $p i32) (param $n i32))                  p[0..n) *= 2 in GF(256)
//   (func $mulAdd (param $d i32) (param $s i32) (param $n i32) (param $t i32))
//                                        d ^= beta * s, beta given by its two nibble tables at t
//   (func $scale (param $d i32) (param $n i32) (param $t i32))     d *= beta
//   (func $run (param $prog i32) (param $count i32) (param $base i32) (param $stride i32)
//              (param $c0 i32) (param $cw i32) (param $tables i32))
//        runs `count` instructions on bytes [c0, c0+cw) of every row (rows at base + r*stride)
//
// GF(256) products use the split-nibble method: beta*x = T_lo[x & 15] ^ T_hi[x >> 4], each
// table lookup one i8x16.swizzle. Where WebAssembly SIMD is missing, `simdKernel()` is null
// and the TypeScript kernels in symbol-buffer.ts run the same Program.

import { MUL_TABLE } from './gf256.js';
import type { Program } from './program.js';
import type { SymbolBuffer } from './symbol-buffer.js';

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
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  v128Load: (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)],
  v128Store: [0xfd, 0x0b, 4, 0],
  swizzle: [0xfd, 0x0e],
  i8Splat: [0xfd, 0x0f],
  v128And: [0xfd, 0x4e],
  v128Xor: [0xfd, 0x51],
  i8Shl: [0xfd, 0x6b],
  i8ShrS: [0xfd, 0x6c],
  i8ShrU: [0xfd, 0x6d],
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
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])], // 0: (i32 i32 i32)
    [0x60, ...vec([[I32], [I32]]), ...vec([])], // 1: (i32 i32)
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])], // 2: (i32 i32 i32 i32)
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])], // 3: run
  ]);
  const functions = vec([[0], [1], [2], [0], [3]]);
  const memory = vec([[0x00, ...uleb(1)]]);
  const exports = vec([
    [...name('memory'), 0x02, 0],
    [...name('run'), 0x00, 4],
  ]);

  // xor(d=0, s=1, n=2; end=3)
  const xor = body(
    [[1, I32]],
    [
      op.get(0), op.get(2), op.i32Add, op.set(3),
      ...loop16(0, 3, [op.get(0), op.get(0), op.v128Load(0), op.get(1), op.v128Load(0), op.v128Xor, op.v128Store], [1]),
    ],
  );
  // mulAlpha(p=0, n=1; end=2, c=3, x=4)
  const mulAlpha = body(
    [[1, I32], [2, V128]],
    [
      op.get(0), op.get(1), op.i32Add, op.set(2),
      op.i32(0x1d), op.i8Splat, op.set(3),
      ...loop16(0, 2, [
        op.get(0), op.v128Load(0), op.set(4),
        op.get(0),
        op.get(4), op.i32(1), op.i8Shl,
        op.get(4), op.i32(7), op.i8ShrS, op.get(3), op.v128And,
        op.v128Xor,
        op.v128Store,
      ]),
    ],
  );
  // mulAdd(d=0, s=1, n=2, t=3; end=4, lo=5, hi=6, mask=7, x=8)
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
        op.get(6), op.get(8), op.i32(4), op.i8ShrU, op.swizzle,
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
        op.get(5), op.get(7), op.i32(4), op.i8ShrU, op.swizzle,
        op.v128Xor,
        op.v128Store,
      ]),
    ],
  );
  // run(prog=0, count=1, base=2, stride=3, c0=4, cw=5, tables=6; end=7, code=8, dst=9, kind=10)
  const rowAddress = (offset: number): number[][] => [op.get(0), op.i32Load(offset), op.get(3), op.i32Mul, op.get(2), op.i32Add, op.get(4), op.i32Add];
  const table: number[][] = [op.get(8), op.i32(8), op.i32ShrU, op.i32(5), op.i32Shl, op.get(6), op.i32Add];
  const run = body(
    [[4, I32]],
    [
      op.get(0), op.get(1), op.i32(12), op.i32Mul, op.i32Add, op.set(7),
      op.block,
      op.loop,
      op.get(0), op.get(7), op.i32GeU, op.brIf(1),
      op.get(0), op.i32Load(0), op.set(8),
      ...rowAddress(4), op.set(9),
      op.get(8), op.i32(255), op.i32And, op.set(10),
      op.get(10), op.i32Eqz,
      op.if,
      op.get(9), ...rowAddress(8), op.get(5), op.call(0),
      op.else,
      op.get(10), op.i32(1), op.i32Eq,
      op.if,
      op.get(9), op.get(5), op.call(1),
      op.else,
      op.get(10), op.i32(2), op.i32Eq,
      op.if,
      op.get(9), ...rowAddress(8), op.get(5), ...table, op.call(2),
      op.else,
      op.get(9), op.get(5), ...table, op.call(3),
      op.end,
      op.end,
      op.end,
      op.get(0), op.i32(12), op.i32Add, op.set(0),
      op.br(0),
      op.end,
      op.end,
    ],
  );
  const code = vec([xor, mulAlpha, mulAdd, scale, run].map((b) => b));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(3, functions),
    ...section(5, memory),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

// ---- the kernel ----

const TABLES_BYTES = 256 * 32;
const PAGE = 65536;
/** Bytes of every row a chunk covers: small enough that all rows of a chunk stay in cache. */
const CACHE_TARGET = 1 << 20;
/** Below this much row data the copy in and out costs more than SIMD saves. */
const MIN_SIMD_BYTES = 128 << 10;
/** Above this much memory the instance is dropped after use so the memory can be collected. */
const KEEP_LIMIT = 64 << 20;

// The project compiles without DOM typings, so the few WebAssembly shapes used are declared here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface Instance {
  memory: WasmMemory;
  run: (prog: number, count: number, base: number, stride: number, c0: number, cw: number, tables: number) => void;
}

let compiled: object | null | undefined;
let current: Instance | null = null;

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

function instance(): Instance | null {
  if (current) return current;
  const mod = module();
  if (!mod) return null;
  const inst = new wasmApi!.Instance(mod, {});
  const memory = inst.exports['memory'] as WasmMemory;
  const run = inst.exports['run'] as Instance['run'];
  const tables = new Uint8Array(memory.buffer, 0, TABLES_BYTES);
  for (let beta = 0; beta < 256; beta++) {
    for (let i = 0; i < 16; i++) {
      tables[beta * 32 + i] = MUL_TABLE[(beta << 8) | i]!;
      tables[beta * 32 + 16 + i] = MUL_TABLE[(beta << 8) | (i << 4)]!;
    }
  }
  current = { memory, run };
  return current;
}

/** True when the SIMD kernel can run here. */
export function simdAvailable(): boolean {
  return module() !== null;
}

let disabled = false;
let forced = false;
/**
 * Chooses the kernel: 'auto' (SIMD for large blocks), 'portable' (TypeScript only) or 'simd'
 * (SIMD whenever available, even for tiny blocks). Tests use it to compare both paths.
 */
export function setKernelMode(mode: 'auto' | 'portable' | 'simd'): void {
  disabled = mode === 'portable';
  forced = mode === 'simd';
}

/**
 * Runs `program` on `buffer` with the SIMD kernel. Returns false (having done nothing) when the
 * kernel is unavailable or the buffer's rows are not 16-byte multiples.
 *
 * Row operations act on every byte position alike, so the program runs on one column chunk at
 * a time: the chunk of every row is copied into the kernel's memory, processed, copied back.
 * The kernel's memory thus holds only rows x chunk bytes (about 1 MiB, cache-sized), not a
 * second copy of the block.
 */
export function runProgramSimd(program: Program, buffer: SymbolBuffer): boolean {
  if (disabled || buffer.strideBytes % 16 !== 0) return false;
  if (!forced && program.rows * buffer.strideBytes < MIN_SIMD_BYTES) return false;
  const inst = instance();
  if (!inst) return false;
  const rows = program.rows;
  const strideWords = buffer.strideWords;
  // Chunk width in 32-bit words: a multiple of 4 (16 bytes) with rows x width near the target.
  let cw = Math.floor(CACHE_TARGET / rows / 16) * 4;
  cw = Math.max(16, Math.min(strideWords, cw));
  const progBytes = program.length * 12;
  const base = TABLES_BYTES + progBytes;
  const need = base + rows * cw * 4;
  const have = inst.memory.buffer.byteLength;
  if (have < need) inst.memory.grow(Math.ceil((need - have) / PAGE));
  const mem = inst.memory.buffer;
  new Int32Array(mem, TABLES_BYTES, program.length * 3).set(program.code.subarray(0, program.length * 3));
  const chunk = new Int32Array(mem, base, rows * cw);
  const words = buffer.words;
  const available = Math.min(rows, Math.floor(words.length / strideWords));
  for (let c0 = 0; c0 < strideWords; c0 += cw) {
    const width = Math.min(cw, strideWords - c0);
    for (let r = 0; r < rows; r++) {
      const to = r * width;
      if (r < available) {
        const from = r * strideWords + c0;
        for (let i = 0; i < width; i++) chunk[to + i] = words[from + i]!;
      } else {
        chunk.fill(0, to, to + width);
      }
    }
    inst.run(TABLES_BYTES, program.length, base, width * 4, 0, width * 4, 0);
    for (let r = 0; r < available; r++) {
      const from = r * width;
      const to = r * strideWords + c0;
      for (let i = 0; i < width; i++) words[to + i] = chunk[from + i]!;
    }
  }
  if (mem.byteLength > KEEP_LIMIT) current = null;
  return true;
}
