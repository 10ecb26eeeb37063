// Turning an object into sealed symbols for placement, and sealed symbols back into the object.
import { RaptorQDecoder, RaptorQEncoder } from '../raptorq/index.js';
import { CryptoError, openSymbol, type Manifest, type SymbolEntry, type SymbolSealer, type ZoneKey } from '../crypto/index.js';
import { MeshError } from './errors.js';

/** Aim for about this many source symbols per object: per-symbol costs stay small, spreading stays fine-grained. */
const TARGET_SOURCE_SYMBOLS = 256;
const MIN_SYMBOL_SIZE = 64;
/** Largest multiple of the alignment (8) that fits RFC 6330's 16-bit T. */
const MAX_SYMBOL_SIZE = 65528;
const ALIGNMENT = 8;
/** Sub-block limit large enough that objects are never split into sub-blocks (N = 1). */
const MAX_SUB_BLOCK_SIZE = 1 << 30;

export function chooseSymbolSize(length: number): number {
  const t = Math.ceil(Math.max(1, length) / TARGET_SOURCE_SYMBOLS / ALIGNMENT) * ALIGNMENT;
  return Math.min(MAX_SYMBOL_SIZE, Math.max(MIN_SYMBOL_SIZE, t));
}

export interface EncodedObject {
  oti: Uint8Array;
  blocks: Array<{ sbn: number; k: number; symbols: SymbolEntry[] }>;
}

/**
 * Encodes and seals an object: each source block gets `countFor(K)` symbols, its K source
 * symbols followed by repair symbols at ESIs K, K+1, ...
 */
export function encodeAndSeal(
  data: Uint8Array,
  countFor: (k: number) => number,
  seal: { zk: ZoneKey; sealer: SymbolSealer; objectId: Uint8Array },
): EncodedObject {
  const enc = new RaptorQEncoder(data, { symbolSize: chooseSymbolSize(data.length), alignment: ALIGNMENT, maxSubBlockSize: MAX_SUB_BLOCK_SIZE });
  const blocks: EncodedObject['blocks'] = [];
  const source = enc.sourcePackets();
  let next = 0;
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    const n = countFor(k);
    const packets = source.slice(next, next + k).concat(enc.repairPackets(sbn, k, n - k));
    next += k;
    const symbols = packets.map((p, i) => {
      const esi = i;
      return { sbn, esi, env: seal.sealer.seal(seal.zk, { objectId: seal.objectId, sbn, esi, k }, p.subarray(4)) };
    });
    blocks.push({ sbn, k, symbols });
  }
  return { oti: enc.oti, blocks };
}

export type AddResult = 'added' | 'duplicate' | 'rejected';

/** Opens sealed symbols as they arrive and feeds the decoder until the object is whole. */
export class ObjectAssembler {
  private readonly decoder: RaptorQDecoder;
  private readonly seen = new Set<number>();
  private result: Uint8Array | null = null;
  rejected = 0;
  added = 0;
  /** Envelope bytes offered to this assembler (accepted or not): what reading cost. */
  bytesIn = 0;

  constructor(
    private readonly manifest: Manifest,
    private readonly zk: ZoneKey,
  ) {
    this.decoder = new RaptorQDecoder(manifest.oti);
  }

  /** (SBN, ESI) of every source symbol not yet received, for blocks not yet decoded. */
  missingSourceKeys(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let sbn = 0; sbn < this.decoder.blockCount; sbn++) {
      if (this.decoder.isBlockComplete(sbn)) continue;
      const k = this.decoder.sourceSymbolCount(sbn);
      for (let esi = 0; esi < k; esi++) if (!this.seen.has(sbn * 0x1000000 + esi)) out.push([sbn, esi]);
    }
    return out;
  }

  get done(): Uint8Array | null {
    return this.result;
  }

  add(entry: SymbolEntry): AddResult {
    if (this.result) return 'duplicate';
    this.bytesIn += entry.env.length;
    const key = entry.sbn * 0x1000000 + entry.esi;
    if (this.seen.has(key)) return 'duplicate';
    let plain: Uint8Array;
    try {
      plain = openSymbol(this.zk, entry.env, { objectId: this.manifest.objectId, sbn: entry.sbn, esi: entry.esi, zoneId: this.manifest.zone });
    } catch (err) {
      if (err instanceof CryptoError) {
        this.rejected++;
        return 'rejected';
      }
      throw err;
    }
    this.seen.add(key);
    this.added++;
    try {
      const out = this.decoder.addSymbol(entry.sbn, entry.esi, plain);
      if (out) {
        if (out.length !== this.manifest.length) {
          throw new MeshError('MESH_DECODE_FAILED', `decoded ${out.length} bytes but the manifest says ${this.manifest.length}`);
        }
        this.result = out;
      }
    } catch (err) {
      if (err instanceof MeshError) throw err;
      // A symbol that authenticates but does not fit the object's parameters is a writer bug; drop it.
      this.rejected++;
      return 'rejected';
    }
    return 'added';
  }
}
