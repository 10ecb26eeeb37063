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

  /** Copies source symbol `esi` of block `sbn` from `data` into `dst` at `dstOffset`, zero past the end. */
  readSymbol(data: Uint8Array, sbn: number, esi: number, dst: Uint8Array, dstOffset: number): void {
    const k = this.sourceSymbolCount(sbn);
    const base = this.blockOffset(sbn);
    const f = this.oti.transferLength;
    const n = this.subSizes.length;
    for (let j = 0; j < n; j++) {
      const size = this.subSizes[j]!;
      const from = base + k * this.subOffsets[j]! + esi * size;
      const to = dstOffset + this.subOffsets[j]!;
      if (from + size <= f) {
        dst.set(data.subarray(from, from + size), to);
      } else {
        const avail = Math.max(0, f - from);
        if (avail > 0) dst.set(data.subarray(from, from + avail), to);
        dst.fill(0, to + avail, to + size);
      }
    }
  }

  /** Writes source symbol `esi` of block `sbn` from `src` at `srcOffset` into the object `out`. */
  writeSymbol(out: Uint8Array, sbn: number, esi: number, src: Uint8Array, srcOffset: number): void {
    const k = this.sourceSymbolCount(sbn);
    const base = this.blockOffset(sbn);
    const f = this.oti.transferLength;
    const n = this.subSizes.length;
    for (let j = 0; j < n; j++) {
      const size = this.subSizes[j]!;
      const to = base + k * this.subOffsets[j]! + esi * size;
      if (to >= f) continue;
      const from = srcOffset + this.subOffsets[j]!;
      const len = Math.min(size, f - to);
      out.set(src.subarray(from, from + len), to);
    }
  }
}
