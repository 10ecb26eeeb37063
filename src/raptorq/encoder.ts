// RaptorQEncoder: splits an object per its OTI and emits source and repair packets.

import { BadParametersError, EsiOutOfRangeError, SbnOutOfRangeError } from './errors.js';
import { IntermediateSymbols } from './intermediate.js';
import { encodeOti, type Oti } from './oti.js';
import { blockParams } from './params.js';
import { copySymbolPieces, deriveOti, ObjectLayout } from './partitioning.js';
import { MAX_ESI, PAYLOAD_ID_LENGTH, writePayloadId } from './payload-id.js';

export interface EncoderOptions {
  /** T: bytes per symbol; a packet is T + 4 bytes. */
  readonly symbolSize: number;
  /** WS: the largest sub-block (bytes) a receiver must hold at once. Default 10 MiB. */
  readonly maxSubBlockSize?: number;
  /** Al: symbol alignment in bytes. Default: the largest of 8, 4, 2, 1 that divides T. */
  readonly alignment?: number;
  /** SS * Al: smallest sub-symbol (bytes) worth splitting into sub-blocks. Default 64. */
  readonly minSubSymbolSize?: number;
}

export const DEFAULT_MAX_SUB_BLOCK_SIZE = 10 * 1024 * 1024;
export const DEFAULT_MIN_SUB_SYMBOL_SIZE = 64;

function defaultAlignment(symbolSize: number): number {
  for (const al of [8, 4, 2]) if (symbolSize % al === 0) return al;
  return 1;
}

/**
 * The parameters the reference `raptorq` crate picks in `with_defaults(length, mtu)`:
 * T = mtu rounded down to a multiple of 8, Al = 8, WS = 10 MiB, sub-symbols of at least 64 bytes
 * (for an mtu below 64: Al = 1 and 1-byte sub-symbols).
 */
export function defaultParameters(transferLength: number, mtu: number): Oti {
  if (!Number.isInteger(mtu) || mtu < 1 || mtu > 65535) throw new BadParametersError(`mtu must be 1..65535, got ${mtu}`);
  const large = mtu >= 64;
  const alignment = large ? 8 : 1;
  return deriveOti(transferLength, {
    symbolSize: mtu - (mtu % alignment),
    alignment,
    maxSubBlockSize: DEFAULT_MAX_SUB_BLOCK_SIZE,
    minSubSymbolSize: large ? 64 : 1,
  });
}

/** The OTI an encoder built with `options` uses for an object of `transferLength` bytes. */
export function encoderParameters(transferLength: number, options: EncoderOptions): Oti {
  const symbolSize = options.symbolSize;
  return deriveOti(transferLength, {
    symbolSize,
    alignment: options.alignment ?? defaultAlignment(symbolSize),
    maxSubBlockSize: options.maxSubBlockSize ?? DEFAULT_MAX_SUB_BLOCK_SIZE,
    minSubSymbolSize: options.minSubSymbolSize ?? DEFAULT_MIN_SUB_SYMBOL_SIZE,
  });
}

/**
 * Packets are cut from buffers of about this many bytes, several packets to one: a
 * Uint8Array of its own per packet made GC about 30% of a 16 MiB encode (each is a separate
 * backing store to allocate, track and sweep). A kept packet pins at most this much.
 */
const PACKET_SLAB_BYTES = 64 * 1024;

/** `count` zeroed packets of `length` bytes, views into shared buffers of PACKET_SLAB_BYTES or so. */
function allocatePackets(count: number, length: number): Uint8Array[] {
  const out = new Array<Uint8Array>(count);
  const perSlab = Math.max(1, Math.floor(PACKET_SLAB_BYTES / length));
  for (let i = 0; i < count; i += perSlab) {
    const n = Math.min(perSlab, count - i);
    const slab = new ArrayBuffer(n * length);
    for (let j = 0; j < n; j++) out[i + j] = new Uint8Array(slab, j * length, length);
  }
  return out;
}

export class RaptorQEncoder {
  /** The 12-byte encoded OTI a decoder needs. */
  readonly oti: Uint8Array;
  readonly parameters: Oti;
  private readonly data: Uint8Array;
  private readonly layout: ObjectLayout;
  private readonly intermediate: (IntermediateSymbols | undefined)[];
  /** Per block, where a symbol's pieces lie in the data (copySymbolPieces). */
  private readonly pieces: (Float64Array | undefined)[] = [];
  /**
   * The block whose intermediate symbols may sit in kernel memory (-1: none). Only one does:
   * moving to another block parks it (one copy to plain memory), so an object of many blocks
   * holds one kernel memory at a time; releaseBlock gives that memory back with no copy.
   */
  private liveBlock = -1;

  /**
   * `data` is read when packets are made, not copied: leave it unchanged while encoding.
   * `options` are encoder options, or a full Oti to fix Z and N directly.
   */
  constructor(data: Uint8Array, options: EncoderOptions | Oti) {
    if (!(data instanceof Uint8Array)) throw new BadParametersError('data must be a Uint8Array');
    let oti: Oti;
    if ('transferLength' in options) {
      if (options.transferLength !== data.length) {
        throw new BadParametersError(`OTI transfer length ${options.transferLength} does not match data length ${data.length}`);
      }
      oti = options;
    } else {
      oti = encoderParameters(data.length, options);
    }
    try {
      this.oti = encodeOti(oti);
    } catch (err) {
      throw new BadParametersError(err instanceof Error ? err.message : String(err));
    }
    this.parameters = oti;
    this.data = data;
    this.layout = new ObjectLayout(oti);
    this.intermediate = new Array<IntermediateSymbols | undefined>(oti.sourceBlocks);
  }

  /** Copies source symbol esi of block sbn into dst at dstOffset (zeros past the end). */
  private readSource(sbn: number, esi: number, dst: Uint8Array, dstOffset: number): void {
    const pieces = (this.pieces[sbn] ??= this.layout.rangePieces(sbn, 0, this.symbolSize));
    copySymbolPieces(this.data, null, pieces, esi, dst, null, dstOffset, false);
  }

  /** An encoder with the same parameters as the reference crate's `Encoder::with_defaults(data, mtu)`. */
  static withDefaults(data: Uint8Array, mtu: number): RaptorQEncoder {
    return new RaptorQEncoder(data, defaultParameters(data.length, mtu));
  }

  get symbolSize(): number {
    return this.parameters.symbolSize;
  }

  /** Z: number of source blocks. */
  get blockCount(): number {
    return this.layout.blockCount;
  }

  /** K of source block `sbn`. */
  sourceSymbolCount(sbn: number): number {
    this.checkSbn(sbn);
    return this.layout.sourceSymbolCount(sbn);
  }

  /** Every source packet of every block, in block then ESI order. */
  sourcePackets(): Uint8Array[] {
    const out: Uint8Array[] = [];
    // A loop, not push(...block): a block can hold 56403 packets, too many for spread arguments.
    for (let sbn = 0; sbn < this.blockCount; sbn++) for (const p of this.blockSourcePackets(sbn)) out.push(p);
    return out;
  }

  /** The K source packets of one block. */
  blockSourcePackets(sbn: number): Uint8Array[] {
    this.checkSbn(sbn);
    const k = this.layout.sourceSymbolCount(sbn);
    const t = this.symbolSize;
    const out = allocatePackets(k, PAYLOAD_ID_LENGTH + t);
    for (let esi = 0; esi < k; esi++) {
      const packet = out[esi]!;
      writePayloadId(packet, sbn, esi);
      this.readSource(sbn, esi, packet, PAYLOAD_ID_LENGTH);
    }
    return out;
  }

  /**
   * `count` packets of block `sbn` with ESIs firstEsi, firstEsi+1, ... Repair symbols start at
   * ESI K; an ESI below K yields that source symbol. Any ESI up to 2^24-1 can be asked for, so
   * fresh repair symbols can be made later without re-sending earlier ones.
   */
  repairPackets(sbn: number, firstEsi: number, count: number): Uint8Array[] {
    this.checkSbn(sbn);
    if (!Number.isInteger(count) || count < 0) throw new BadParametersError(`count must be a non-negative integer, got ${count}`);
    if (!Number.isInteger(firstEsi) || firstEsi < 0 || firstEsi + count - 1 > MAX_ESI) {
      throw new EsiOutOfRangeError(`ESIs ${firstEsi}..${firstEsi + count - 1} are outside 0..${MAX_ESI}`);
    }
    const k = this.layout.sourceSymbolCount(sbn);
    const t = this.symbolSize;
    const out = allocatePackets(count, PAYLOAD_ID_LENGTH + t);
    const repairIsis: number[] = [];
    const repairAt: number[] = [];
    for (let i = 0; i < count; i++) {
      const esi = firstEsi + i;
      const packet = out[i]!;
      writePayloadId(packet, sbn, esi);
      if (esi < k) this.layout.readSymbol(this.data, sbn, esi, packet, PAYLOAD_ID_LENGTH);
      else {
        repairIsis.push(esi - k);
        repairAt.push(i);
      }
    }
    if (repairIsis.length > 0) {
      const symbols = this.intermediateOf(sbn);
      const shift = symbols.params.kPrime;
      for (let i = 0; i < repairIsis.length; i++) repairIsis[i] = repairIsis[i]! + shift;
      symbols.encodeMany(repairIsis, (index, bytes, offset) => {
        out[repairAt[index]!]!.set(bytes.subarray(offset, offset + t), PAYLOAD_ID_LENGTH);
      });
    }
    return out;
  }

  /** Drops the cached intermediate symbols (they are rebuilt on the next repairPackets call). */
  releaseBlock(sbn: number): void {
    this.checkSbn(sbn);
    this.intermediate[sbn]?.release();
    this.intermediate[sbn] = undefined;
    if (this.liveBlock === sbn) this.liveBlock = -1;
  }

  private intermediateOf(sbn: number): IntermediateSymbols {
    if (this.liveBlock !== sbn) {
      if (this.liveBlock >= 0) this.intermediate[this.liveBlock]?.park();
      this.liveBlock = sbn;
    }
    let symbols = this.intermediate[sbn];
    if (!symbols) {
      const params = blockParams(this.layout.sourceSymbolCount(sbn));
      symbols = IntermediateSymbols.encode(params, this.symbolSize, (buffer, row, esi) => {
        this.readSource(sbn, esi, buffer.bytes, row * buffer.strideBytes);
      });
      this.intermediate[sbn] = symbols;
    }
    return symbols;
  }

  private checkSbn(sbn: number): void {
    if (!Number.isInteger(sbn) || sbn < 0 || sbn >= this.blockCount) {
      throw new SbnOutOfRangeError(`source block ${sbn} does not exist; this object has blocks 0..${this.blockCount - 1}`);
    }
  }
}
