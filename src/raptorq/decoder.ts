// RaptorQDecoder: collects packets of any blocks in any order and returns the object once every
// source block can be rebuilt.

import { BadOtiError, BadPacketError, EsiOutOfRangeError, SbnOutOfRangeError } from './errors.js';
import { BlockDecoder, type BlockObject } from './block-decoder.js';
import { parseOti, validateOti, type Oti } from './oti.js';
import { blockParams } from './params.js';
import { ObjectLayout, wordView } from './partitioning.js';
import { MAX_ESI, PAYLOAD_ID_LENGTH } from './payload-id.js';

/** The largest object a decoder accepts unless told otherwise (the object is held in memory). */
export const DEFAULT_MAX_DECODED_LENGTH = 2 ** 32 - 1;

export interface DecoderOptions {
  /**
   * Refuse OTIs describing objects larger than this many bytes (RAPTORQ_BAD_OTI), so an
   * untrusted OTI cannot make the decoder allocate without bound. Default 4 GiB - 1.
   */
  readonly maxTransferLength?: number;
}

export class RaptorQDecoder {
  readonly parameters: Oti;
  private readonly layout: ObjectLayout;
  private readonly blocks: (BlockDecoder | undefined)[];
  private readonly packetLength: number;
  private output: Uint8Array | null = null;
  private blocksDone = 0;
  /** Packets ignored because their symbol was already received (or its block was done). */
  duplicatePackets = 0;

  constructor(oti: Uint8Array | Oti, options: DecoderOptions = {}) {
    if (oti instanceof Uint8Array) {
      this.parameters = parseOti(oti);
    } else {
      validateOti(oti);
      this.parameters = oti;
    }
    const limit = options.maxTransferLength ?? DEFAULT_MAX_DECODED_LENGTH;
    if (this.parameters.transferLength > limit) {
      throw new BadOtiError(
        `the OTI describes a ${this.parameters.transferLength}-byte object, more than this decoder's limit of ${limit} bytes`,
      );
    }
    this.layout = new ObjectLayout(this.parameters);
    this.blocks = new Array<BlockDecoder | undefined>(this.parameters.sourceBlocks);
    this.packetLength = PAYLOAD_ID_LENGTH + this.parameters.symbolSize;
  }

  get blockCount(): number {
    return this.layout.blockCount;
  }

  sourceSymbolCount(sbn: number): number {
    this.checkSbn(sbn);
    return this.layout.sourceSymbolCount(sbn);
  }

  /** True once the whole object is rebuilt. */
  get isComplete(): boolean {
    return this.blocksDone === this.blockCount;
  }

  /** The object once complete, else null. */
  get result(): Uint8Array | null {
    return this.isComplete ? this.output : null;
  }

  isBlockComplete(sbn: number): boolean {
    this.checkSbn(sbn);
    return this.blocks[sbn]?.done ?? false;
  }

  /** Distinct symbols held for a block that is not yet decoded. */
  receivedCount(sbn: number): number {
    this.checkSbn(sbn);
    return this.blocks[sbn]?.receivedCount ?? 0;
  }

  /**
   * Adds one packet (4-byte payload id + one symbol). Returns the object once it can be rebuilt,
   * else null. Duplicates are ignored; a wrong-length packet or an SBN beyond the object throws
   * and leaves the decoder as it was.
   */
  addPacket(packet: Uint8Array): Uint8Array | null {
    if (!(packet instanceof Uint8Array) || packet.length !== this.packetLength) {
      throw new BadPacketError(
        `a packet of this object is ${this.packetLength} bytes (4-byte payload id + ${this.parameters.symbolSize}-byte symbol), got ${packet instanceof Uint8Array ? packet.length : typeof packet}`,
      );
    }
    const sbn = packet[0]!;
    const esi = (packet[1]! << 16) | (packet[2]! << 8) | packet[3]!;
    return this.take(sbn, esi, packet, PAYLOAD_ID_LENGTH);
  }

  /**
   * Adds one symbol given its SBN and ESI separately (no payload id to build or copy); same
   * rules and result as addPacket.
   */
  addSymbol(sbn: number, esi: number, symbol: Uint8Array): Uint8Array | null {
    if (!(symbol instanceof Uint8Array) || symbol.length !== this.parameters.symbolSize) {
      throw new BadPacketError(`a symbol of this object is ${this.parameters.symbolSize} bytes, got ${symbol instanceof Uint8Array ? symbol.length : typeof symbol}`);
    }
    if (!Number.isInteger(esi) || esi < 0 || esi > MAX_ESI) throw new EsiOutOfRangeError(`ESI ${esi} is outside 0..${MAX_ESI}`);
    return this.take(sbn, esi, symbol, 0);
  }

  private take(sbn: number, esi: number, bytes: Uint8Array, offset: number): Uint8Array | null {
    this.checkSbn(sbn);
    if (this.isComplete) {
      this.duplicatePackets++;
      return this.output;
    }
    let block = this.blocks[sbn];
    if (!block) {
      block = new BlockDecoder(blockParams(this.layout.sourceSymbolCount(sbn)), this.parameters.symbolSize, this.blockObject(sbn));
      this.blocks[sbn] = block;
    }
    if (!block.add(esi, bytes, offset)) {
      this.duplicatePackets++;
      return null;
    }
    if (block.receivedCount < block.params.k) return null;
    if (block.tryDecode()) {
      this.blocksDone++;
      if (this.isComplete) return this.output;
    }
    return null;
  }

  /**
   * Block sbn's view of the object, allocated with the first packet: received source symbols
   * go straight to their place in it (untouched pages of a large allocation cost nothing).
   */
  private blockObject(sbn: number): BlockObject {
    const out = (this.output ??= new Uint8Array(this.parameters.transferLength));
    const layout = this.layout;
    return {
      bytes: out,
      words: wordView(out),
      wholeSymbols: layout.wholeSymbols(sbn),
      pieces: (from, to) => layout.rangePieces(sbn, from, to),
    };
  }

  private checkSbn(sbn: number): void {
    if (!Number.isInteger(sbn) || sbn < 0 || sbn >= this.blockCount) {
      throw new SbnOutOfRangeError(`source block ${sbn} does not exist; this object has blocks 0..${this.blockCount - 1}`);
    }
  }
}
