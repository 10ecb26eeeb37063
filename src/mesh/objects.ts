// Turning an object into sealed symbols for placement, and sealed symbols back into the object.
import { ObjectLayout, RaptorQEncoder, parseOti } from '../raptorq/index.js';
import { CryptoError, ENVELOPE_OVERHEAD, openSymbol, positionKey, positionOf, type Manifest, type SymbolEntry, type SymbolSealer, type ZoneKey } from '../crypto/index.js';
import { MeshError } from './errors.js';
import { makeSealedSymbols, solveSymbols } from './coding.js';
import { DECODE_MARGIN } from './placement.js';

/** Aim for about this many source symbols per object: per-symbol costs stay small, spreading stays fine-grained. */
const TARGET_SOURCE_SYMBOLS = 256;
// Below this, the 64-byte envelope would cost more than it carries.
const MIN_SYMBOL_SIZE = 256;
/** Largest multiple of the alignment (8) that fits RFC 6330's 16-bit T. */
const MAX_SYMBOL_SIZE = 65528;
const ALIGNMENT = 8;
/** Sub-block limit large enough that objects are never split into sub-blocks (N = 1). */
const MAX_SUB_BLOCK_SIZE = 1 << 30;
// Symbols above INLINE_SYMBOL_SIZE are sized so that the envelope and LMDB's per-value header
// (24 bytes, measured) fill whole 8 KiB pages. Holders now keep such envelopes in segment files
// (store/segments.ts), where any size packs tight; the sizes stay because stores written before
// kept them as LMDB values, where one a few bytes over a page boundary took a whole extra page
// (a 4160-byte envelope took 8 KiB), and about 8 KiB keeps a 1 MiB chunk at 130 symbols.
const STORE_PAGE = 8192;
const STORE_VALUE_HEADER = 24;
const INLINE_SYMBOL_SIZE = 1024;
export function chooseSymbolSize(length: number): number {
  const t = Math.ceil(Math.max(1, length) / TARGET_SOURCE_SYMBOLS / ALIGNMENT) * ALIGNMENT;
  if (t <= INLINE_SYMBOL_SIZE) return Math.max(MIN_SYMBOL_SIZE, t);
  const perPage = (pages: number) => pages * STORE_PAGE - STORE_VALUE_HEADER - ENVELOPE_OVERHEAD;
  const maxPages = Math.floor((MAX_SYMBOL_SIZE + STORE_VALUE_HEADER + ENVELOPE_OVERHEAD) / STORE_PAGE);
  return perPage(Math.min(maxPages, Math.ceil((t + STORE_VALUE_HEADER + ENVELOPE_OVERHEAD) / STORE_PAGE)));
}

export interface EncodedObject {
  oti: Uint8Array;
  blocks: Array<{ sbn: number; k: number; symbols: SymbolEntry[] }>;
  /** The buffer every envelope is a view of (releaseEnvelopes once none is used any more). */
  envelopes: Uint8Array;
}

/**
 * Encodes and seals an object: each source block gets `countFor(K)` symbols, its K source
 * symbols followed by repair symbols at ESIs K, K+1, ... Large objects are coded in a worker.
 */
export async function encodeAndSeal(
  data: Uint8Array,
  countFor: (k: number) => number,
  seal: { zk: ZoneKey; sealer: SymbolSealer; objectId: Uint8Array },
): Promise<EncodedObject> {
  // Constructing the encoder only fixes the parameters; no coding happens until symbols are asked for.
  const layout = new RaptorQEncoder(data, { symbolSize: chooseSymbolSize(data.length), alignment: ALIGNMENT, maxSubBlockSize: MAX_SUB_BLOCK_SIZE });
  const requests = Array.from({ length: layout.blockCount }, (_, sbn) => ({ sbn, firstEsi: 0, count: countFor(layout.sourceSymbolCount(sbn)) }));
  const total = requests.reduce((a, r) => a + r.count, 0);
  const run = seal.sealer.reserveRun(seal.zk, seal.objectId, total);
  const sealed = await makeSealedSymbols(data, layout.oti, requests, run);
  const blocks: EncodedObject['blocks'] = requests.map((r) => ({ sbn: r.sbn, k: layout.sourceSymbolCount(r.sbn), symbols: [] }));
  const size = sealed.envelopeSize;
  for (let i = 0; i < sealed.sbns.length; i++) {
    const sbn = sealed.sbns[i]!;
    // Views into one buffer of envelopes: the store copies what it keeps.
    blocks[sbn]!.symbols.push({ sbn, esi: sealed.esis[i]!, env: sealed.envelopes.subarray(i * size, (i + 1) * size) });
  }
  return { oti: layout.oti, blocks, envelopes: sealed.envelopes };
}

export type AddResult = 'added' | 'duplicate' | 'rejected';

/**
 * Opens sealed symbols as they arrive and rebuilds the object. Source symbols are written
 * straight into the output: when every source symbol of every block arrives (the usual case)
 * no decoder runs and nothing is copied twice. When a block must be solved from repair symbols,
 * `ready` turns true once every such block has K + margin symbols, and `solve()` runs the RaptorQ
 * decoder (in the coding worker for large objects, so the daemon keeps serving).
 */
export class ObjectAssembler {
  private readonly layout: ObjectLayout;
  private readonly output: Uint8Array;
  private readonly sourcesHeld: Int32Array;
  private readonly received: Int32Array;
  private blocksLeft: number;
  /** Repair symbols received, kept for a solve; source symbols are read back from the output. */
  private readonly repairs: Array<{ sbn: number; esi: number; plain: Uint8Array }> = [];
  private needsSolve = false;
  /** Symbols to hold before the next solve (after a failed one, two more). */
  private solveAfter = 0;
  private readonly seen = new Set<number>();
  private result: Uint8Array | null = null;
  rejected = 0;
  added = 0;
  /** Envelope bytes offered to this assembler (accepted or not): what reading cost. */
  bytesIn = 0;

  /**
   * `output`, when given, is where the object is rebuilt (exactly its length; its contents
   * need not be zero: every byte is written before the object is whole). A solve from repair
   * symbols returns the decoder's own buffer instead.
   */
  constructor(
    private readonly manifest: Manifest,
    private readonly zk: ZoneKey,
    output?: Uint8Array,
  ) {
    this.layout = new ObjectLayout(parseOti(manifest.oti));
    if (output && output.length !== manifest.length) throw new RangeError(`an output of ${output.length} bytes for an object of ${manifest.length}`);
    this.output = output ?? new Uint8Array(manifest.length);
    this.sourcesHeld = new Int32Array(this.layout.blockCount);
    this.received = new Int32Array(this.layout.blockCount);
    this.blocksLeft = this.layout.blockCount;
    // An empty object (coded as one byte) needs no symbol at all.
    if (manifest.length === 0) this.result = this.output;
  }

  /** (SBN, ESI) of every source symbol not yet received, for blocks not yet complete. */
  missingSourceKeys(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let sbn = 0; sbn < this.layout.blockCount; sbn++) {
      const k = this.layout.sourceSymbolCount(sbn);
      if (this.sourcesHeld[sbn] === k) continue;
      for (let esi = 0; esi < k; esi++) if (!this.seen.has(positionKey(sbn, esi))) out.push([sbn, esi]);
    }
    return out;
  }

  get done(): Uint8Array | null {
    return this.result;
  }

  /**
   * Worth solving now: some block lacks source symbols and every such block has K + margin
   * symbols (at exactly K about 1 in 200 draws does not decode, so readers keep fetching).
   */
  get ready(): boolean {
    return this.hasAtLeast(DECODE_MARGIN);
  }

  /** Every block could be tried with what it has (K symbols): the last attempt when nothing more comes. */
  get canTry(): boolean {
    return this.hasAtLeast(0);
  }

  private hasAtLeast(margin: number): boolean {
    if (this.result || !this.needsSolve || this.added < this.solveAfter) return false;
    for (let sbn = 0; sbn < this.layout.blockCount; sbn++) {
      const k = this.layout.sourceSymbolCount(sbn);
      if (this.sourcesHeld[sbn]! < k && this.received[sbn]! < k + margin) return false;
    }
    return true;
  }

  /** Enough has arrived: the object is whole, or a solve with margin can be tried. */
  get satisfied(): boolean {
    return this.result !== null || this.ready;
  }

  add(entry: SymbolEntry): AddResult {
    this.bytesIn += entry.env.length;
    if (this.result) return 'duplicate';
    const key = positionKey(entry.sbn, entry.esi);
    if (this.seen.has(key)) return 'duplicate';
    if (entry.sbn >= this.layout.blockCount) {
      this.rejected++;
      return 'rejected';
    }
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
    if (plain.length !== this.layout.oti.symbolSize) {
      // Authentic but not of this object's shape: a writer bug; never let it near the output.
      this.rejected++;
      return 'rejected';
    }
    this.seen.add(key);
    this.added++;
    const { sbn, esi } = entry;
    const k = this.layout.sourceSymbolCount(sbn);
    this.received[sbn]!++;
    if (esi < k) {
      this.layout.writeSymbol(this.output, sbn, esi, plain, 0);
      if (++this.sourcesHeld[sbn]! === k && --this.blocksLeft === 0) this.result = this.output;
    } else {
      this.repairs.push({ sbn, esi, plain });
      if (this.sourcesHeld[sbn]! < k) this.needsSolve = true;
    }
    return 'added';
  }

  /**
   * Runs the decoder over everything received; the object, or null if more symbols are needed.
   * Runs when `ready`, or with `final` as soon as every block has K symbols.
   */
  async solve(opts: { final?: boolean } = {}): Promise<Uint8Array | null> {
    if (this.result || !(opts.final ? this.canTry : this.ready)) return this.result;
    const t = this.layout.oti.symbolSize;
    const sources = [...this.seen].map(positionOf).filter(([sbn, esi]) => esi < this.layout.sourceSymbolCount(sbn));
    const count = sources.length + this.repairs.length;
    const packed = { symbolSize: t, sbns: new Int32Array(count), esis: new Int32Array(count), bytes: new Uint8Array(count * t) };
    // Source symbols come back out of the output (zero padded past its end, as the encoder pads).
    sources.forEach(([sbn, esi], i) => {
      packed.sbns[i] = sbn;
      packed.esis[i] = esi;
      this.layout.readSymbol(this.output, sbn, esi, packed.bytes, i * t);
    });
    this.repairs.forEach((r, j) => {
      const i = sources.length + j;
      packed.sbns[i] = r.sbn;
      packed.esis[i] = r.esi;
      packed.bytes.set(r.plain, i * t);
    });
    const out = await solveSymbols(this.manifest.oti, this.layout.oti.transferLength, packed);
    if (this.result) return this.result; // every source symbol arrived meanwhile
    if (!out) {
      this.solveAfter = this.added + 1;
      return null;
    }
    if (out.length !== this.manifest.length) {
      throw new MeshError('MESH_DECODE_FAILED', `decoded ${out.length} bytes but the manifest says ${this.manifest.length}`);
    }
    this.result = out;
    return out;
  }
}
