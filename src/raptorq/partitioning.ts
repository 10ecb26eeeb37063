// Partitioning of an object into source blocks and sub-blocks (RFC 6330 section 4.4.1.2) and the
// derivation of Z and N from a maximum sub-block size (section 4.3).

import { BadParametersError } from './errors.js';
import { largestKPrimeAtMost, MAX_SOURCE_SYMBOLS } from './params.js';
import { MAX_TRANSFER_LENGTH, type Oti } from './oti.js';

export interface Partition {
  /** Size of the first (larger) parts. */
  readonly large: number;
  /** Size of the remaining (smaller) parts. */
  readonly small: number;
  /** How many parts have the large size. */
  readonly largeCount: number;
  /** How many parts have the small size. */
  readonly smallCount: number;
}

/** Partition[I, J]: split I into J parts as equal as possible, larger parts first. */
export function partition(i: number, j: number): Partition {
  const large = Math.ceil(i / j);
  const small = Math.floor(i / j);
  const largeCount = i - small * j;
  return { large, small, largeCount, smallCount: j - largeCount };
}

export interface DeriveOptions {
  /** T, bytes per symbol. */
  readonly symbolSize: number;
  /** Al, bytes; T must be a multiple of it. */
  readonly alignment: number;
  /** WS, the largest sub-block a decoder must hold in memory, in bytes. */
  readonly maxSubBlockSize: number;
  /** SS * Al, the smallest sub-symbol worth splitting a symbol into, in bytes. */
  readonly minSubSymbolSize: number;
}

/** Z and N for an object of `transferLength` bytes (section 4.3). */
export function deriveOti(transferLength: number, options: DeriveOptions): Oti {
  const { symbolSize: t, alignment: al, maxSubBlockSize: ws, minSubSymbolSize } = options;
  if (!Number.isSafeInteger(transferLength) || transferLength < 1 || transferLength > MAX_TRANSFER_LENGTH) {
    throw new BadParametersError(`object size must be 1..${MAX_TRANSFER_LENGTH} bytes, got ${transferLength}`);
  }
  if (!Number.isInteger(al) || al < 1 || al > 255) throw new BadParametersError(`alignment must be 1..255, got ${al}`);
  if (!Number.isInteger(t) || t < al || t > 65535 || t % al !== 0) {
    throw new BadParametersError(`symbol size must be 1..65535 and a multiple of the alignment ${al}, got ${t}`);
  }
  if (!Number.isInteger(ws) || ws < 1) throw new BadParametersError(`maxSubBlockSize must be a positive integer, got ${ws}`);
  if (!Number.isInteger(minSubSymbolSize) || minSubSymbolSize < 1) {
    throw new BadParametersError(`minSubSymbolSize must be a positive integer, got ${minSubSymbolSize}`);
  }
  const kt = Math.ceil(transferLength / t);
  const nMax = Math.max(1, Math.min(t / al, Math.floor(t / minSubSymbolSize)));
  const kl = (n: number): number => largestKPrimeAtMost(Math.floor(ws / (al * Math.ceil(t / (al * n)))));
  const klMax = kl(nMax);
  if (klMax === 0) {
    throw new BadParametersError(
      `maxSubBlockSize ${ws} is too small for symbol size ${t}: a sub-block must hold at least 10 sub-symbols`,
    );
  }
  const z = Math.ceil(kt / Math.min(klMax, MAX_SOURCE_SYMBOLS));
  if (z > 255) {
    throw new BadParametersError(
      `the object needs ${z} source blocks but the OTI allows 255; raise maxSubBlockSize or the symbol size`,
    );
  }
  let n = nMax;
  for (let candidate = 1; candidate <= nMax; candidate++) {
    if (Math.ceil(kt / z) <= kl(candidate)) {
      n = candidate;
      break;
    }
  }
  return { transferLength, symbolSize: t, sourceBlocks: z, subBlocks: n, alignment: al };
}

/** Where every source symbol of every block lies in the object bytes. */
export class ObjectLayout {
  readonly oti: Oti;
  /** Kt: source symbols of the whole object. */
  readonly totalSymbols: number;
  private readonly blockPartition: Partition;
  /** Sub-symbol size and offset inside the symbol, per sub-block. */
  private readonly subSizes: Int32Array;
  private readonly subOffsets: Int32Array;

  constructor(oti: Oti) {
    this.oti = oti;
    this.totalSymbols = Math.ceil(oti.transferLength / oti.symbolSize);
    this.blockPartition = partition(this.totalSymbols, oti.sourceBlocks);
    const sub = partition(oti.symbolSize / oti.alignment, oti.subBlocks);
    this.subSizes = new Int32Array(oti.subBlocks);
    this.subOffsets = new Int32Array(oti.subBlocks);
    let offset = 0;
    for (let j = 0; j < oti.subBlocks; j++) {
      const size = (j < sub.largeCount ? sub.large : sub.small) * oti.alignment;
      this.subSizes[j] = size;
      this.subOffsets[j] = offset;
      offset += size;
    }
  }

  get blockCount(): number {
    return this.oti.sourceBlocks;
  }

  /** K of source block `sbn`. */
  sourceSymbolCount(sbn: number): number {
    const p = this.blockPartition;
    return sbn < p.largeCount ? p.large : p.small;
  }

  /** Byte offset of source block `sbn` in the (zero padded) object. */
  blockOffset(sbn: number): number {
    const p = this.blockPartition;
    const t = this.oti.symbolSize;
    if (sbn < p.largeCount) return sbn * p.large * t;
    return (p.largeCount * p.large + (sbn - p.largeCount) * p.small) * t;
  }

  /** How many source symbols of block `sbn`, from ESI 0, lie entirely inside the object. */
  wholeSymbols(sbn: number): number {
    const k = this.sourceSymbolCount(sbn);
    const last = this.subSizes.length - 1;
    // A symbol's piece in the last sub-block ends furthest into the object.
    const lastStart = this.blockOffset(sbn) + k * this.subOffsets[last]!;
    return Math.max(0, Math.min(k, Math.floor((this.oti.transferLength - lastStart) / this.subSizes[last]!)));
  }

  /**
   * Where bytes [from, to) of block sbn's source symbols lie in the object: four numbers per
   * piece (one piece per sub-block the range meets): the offset of ESI 0's bytes, the step per
   * ESI, the length and the piece's offset inside the range.
   */
  rangePieces(sbn: number, from: number, to: number): Float64Array {
    const k = this.sourceSymbolCount(sbn);
    const base = this.blockOffset(sbn);
    const out: number[] = [];
    for (let j = 0, n = this.subSizes.length; j < n; j++) {
      const size = this.subSizes[j]!;
      const sub = this.subOffsets[j]!;
      const lo = Math.max(from, sub);
      const hi = Math.min(to, sub + size);
      if (lo < hi) out.push(base + k * sub + (lo - sub), size, hi - lo, lo - from);
    }
    return Float64Array.from(out);
  }

  /** Copies source symbol `esi` of block `sbn` from `data` into `dst` at `dstOffset`, zero past the end. */
  readSymbol(data: Uint8Array, sbn: number, esi: number, dst: Uint8Array, dstOffset: number): void {
    this.readRange(data, sbn, esi, 0, this.oti.symbolSize, dst, dstOffset);
  }

  /** Writes source symbol `esi` of block `sbn` from `src` at `srcOffset` into the object `out`. */
  writeSymbol(out: Uint8Array, sbn: number, esi: number, src: Uint8Array, srcOffset: number): void {
    this.writeRange(out, sbn, esi, 0, this.oti.symbolSize, src, srcOffset);
  }

  /**
   * Copies bytes [from, to) of source symbol `esi` of block `sbn` from the object `data` into
   * `dst` at `dstOffset`, zeros past the object's end. A symbol is its sub-symbols end to end,
   * so the range may span several sub-blocks.
   */
  readRange(data: Uint8Array, sbn: number, esi: number, from: number, to: number, dst: Uint8Array, dstOffset: number): void {
    const k = this.sourceSymbolCount(sbn);
    const base = this.blockOffset(sbn);
    const f = this.oti.transferLength;
    for (let j = 0, n = this.subSizes.length; j < n; j++) {
      const size = this.subSizes[j]!;
      const sub = this.subOffsets[j]!;
      const lo = Math.max(from, sub);
      const hi = Math.min(to, sub + size);
      if (lo >= hi) continue;
      const at = base + k * sub + esi * size + (lo - sub);
      const out = dstOffset + (lo - from);
      const avail = Math.min(hi - lo, Math.max(0, f - at));
      if (avail > 0) dst.set(data.subarray(at, at + avail), out);
      if (avail < hi - lo) dst.fill(0, out + avail, out + hi - lo);
    }
  }

  /** Writes bytes [from, to) of source symbol `esi` of block `sbn` (from `src` at `srcOffset`) into the object `out`. */
  writeRange(out: Uint8Array, sbn: number, esi: number, from: number, to: number, src: Uint8Array, srcOffset: number): void {
    const k = this.sourceSymbolCount(sbn);
    const base = this.blockOffset(sbn);
    const f = this.oti.transferLength;
    for (let j = 0, n = this.subSizes.length; j < n; j++) {
      const size = this.subSizes[j]!;
      const sub = this.subOffsets[j]!;
      const lo = Math.max(from, sub);
      const hi = Math.min(to, sub + size);
      if (lo >= hi) continue;
      const at = base + k * sub + esi * size + (lo - sub);
      const len = Math.min(hi - lo, f - at);
      if (len <= 0) continue;
      const inSrc = srcOffset + (lo - from);
      out.set(src.subarray(inSrc, inSrc + len), at);
    }
  }
}

/** Pieces up to this many bytes may be copied by a word loop (see copySymbolPieces). */
const SHORT_PIECE = 256;

/**
 * Copies the pieces (ObjectLayout.rangePieces) of symbol `esi` between the object and `buf`
 * at byte `at` (toObject: buf to object), zeros past the object's end. Each piece is one
 * set(), except that with word views of both (made once by the caller) short aligned pieces
 * go four bytes at a time: gathering a 64 MiB block's 128-byte bands that way took 1.3 ms a
 * band against 3.3 ms. Where a view would have to be made per call (a packet) set() is faster.
 */
export function copySymbolPieces(
  object: Uint8Array,
  objectWords: Int32Array | null,
  pieces: Float64Array,
  esi: number,
  buf: Uint8Array,
  bufWords: Int32Array | null,
  at: number,
  toObject: boolean,
): void {
  for (let p = 0; p < pieces.length; p += 4) {
    const start = pieces[p]! + esi * pieces[p + 1]!;
    const length = pieces[p + 2]!;
    const bufAt = at + pieces[p + 3]!;
    const avail = Math.min(length, Math.max(0, object.length - start));
    if (objectWords && bufWords && avail <= SHORT_PIECE && start < 2 ** 31 && ((start | avail | bufAt) & 3) === 0) {
      const n = avail >>> 2;
      const s = start >>> 2;
      const d = bufAt >>> 2;
      if (toObject) for (let i = 0; i < n; i++) objectWords[s + i] = bufWords[d + i]!;
      else for (let i = 0; i < n; i++) bufWords[d + i] = objectWords[s + i]!;
    } else if (toObject) {
      if (avail > 0) object.set(buf.subarray(bufAt, bufAt + avail), start);
    } else {
      if (avail > 0) buf.set(object.subarray(start, start + avail), bufAt);
    }
    if (!toObject && avail < length) buf.fill(0, bufAt + avail, bufAt + length);
  }
}

/** A word view of `bytes` (same offset), or null when its offset is not a multiple of 4. */
export function wordView(bytes: Uint8Array): Int32Array | null {
  return (bytes.byteOffset & 3) === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2) : null;
}
