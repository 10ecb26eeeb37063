// The coding itself, shared by the inline path and the worker: symbols of requested ESI ranges.
import { ObjectLayout, RaptorQDecoder, RaptorQEncoder, parseOti } from '../raptorq/index.js';
import { ENVELOPE_OVERHEAD, sealSymbolRun, type SealRun } from '../crypto/index.js';

export interface SymbolRequest {
  sbn: number;
  firstEsi: number;
  count: number;
}

/** All requested symbols back to back in one buffer (it crosses threads without a copy). */
export interface CodedSymbols {
  symbolSize: number;
  sbns: Int32Array;
  esis: Int32Array;
  bytes: Uint8Array;
}

export function codeSymbols(data: Uint8Array, oti: Uint8Array, requests: SymbolRequest[]): CodedSymbols {
  const encoder = new RaptorQEncoder(data, parseOti(oti));
  const t = encoder.symbolSize;
  const total = requests.reduce((a, r) => a + r.count, 0);
  const out: CodedSymbols = { symbolSize: t, sbns: new Int32Array(total), esis: new Int32Array(total), bytes: new Uint8Array(total * t) };
  let i = 0;
  for (const r of requests) {
    const k = encoder.sourceSymbolCount(r.sbn);
    const sources = r.firstEsi < k ? encoder.blockSourcePackets(r.sbn) : [];
    const sourceEnd = Math.min(k, r.firstEsi + r.count);
    const packets: Uint8Array[] = [];
    for (let esi = r.firstEsi; esi < sourceEnd; esi++) packets.push(sources[esi]!);
    const repairFrom = Math.max(k, r.firstEsi);
    const repairCount = r.firstEsi + r.count - repairFrom;
    if (repairCount > 0) packets.push(...encoder.repairPackets(r.sbn, repairFrom, repairCount));
    packets.forEach((p, j) => {
      out.sbns[i] = r.sbn;
      out.esis[i] = r.firstEsi + j;
      out.bytes.set(p.subarray(4), i * t);
      i++;
    });
    encoder.releaseBlock(r.sbn);
  }
  return out;
}

/** Sealed symbols back to back: envelope i is bytes [i * envelopeSize, (i + 1) * envelopeSize). */
export interface SealedSymbols {
  envelopeSize: number;
  sbns: Int32Array;
  esis: Int32Array;
  envelopes: Uint8Array;
}

/** Codes the requested symbols and seals them (the whole of a store's CPU work, in one place). */
export function codeAndSeal(data: Uint8Array, oti: Uint8Array, requests: SymbolRequest[], run: SealRun): SealedSymbols {
  const coded = codeSymbols(data, oti, requests);
  const layout = new ObjectLayout(parseOti(oti));
  const envelopes = sealSymbolRun(run, coded.symbolSize, coded.sbns, coded.esis, (sbn) => layout.sourceSymbolCount(sbn), coded.bytes);
  coded.bytes.fill(0);
  return { envelopeSize: coded.symbolSize + ENVELOPE_OVERHEAD, sbns: coded.sbns, esis: coded.esis, envelopes };
}

/** Rebuilds an object from symbols (same layout as CodedSymbols); null when they do not suffice. */
export function decodeSymbols(oti: Uint8Array, symbols: CodedSymbols): Uint8Array | null {
  const decoder = new RaptorQDecoder(oti);
  const t = symbols.symbolSize;
  for (let i = 0; i < symbols.sbns.length; i++) {
    const out = decoder.addSymbol(symbols.sbns[i]!, symbols.esis[i]!, symbols.bytes.subarray(i * t, (i + 1) * t));
    if (out) return out;
  }
  return null;
}
