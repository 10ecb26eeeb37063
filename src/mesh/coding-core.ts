// The coding itself, shared by the inline path and the worker: symbols of requested ESI ranges.
import { ObjectLayout, RaptorQDecoder, RaptorQEncoder, parseOti } from '../raptorq/index.js';
import { ENVELOPE_HEADER_BYTES, ENVELOPE_OVERHEAD, sealSymbolRunInPlace, type SealRun } from '../crypto/index.js';

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
  return codeInto(data, parseOti(oti), requests, 0, 0);
}

/** The requested symbols, symbol i at bytes[i * (T + gap) + offset]: a gap leaves room around each. */
function codeInto(data: Uint8Array, oti: ReturnType<typeof parseOti>, requests: SymbolRequest[], gap: number, offset: number, into?: Uint8Array): CodedSymbols {
  const encoder = new RaptorQEncoder(data, oti);
  const t = encoder.symbolSize;
  const stride = t + gap;
  const total = requests.reduce((a, r) => a + r.count, 0);
  if (into && into.length !== total * stride) throw new RangeError(`${total} symbols of ${stride} bytes need ${total * stride} bytes, got ${into.length}`);
  // allocUnsafeSlow: every byte is written (symbols here, envelope headers and tags by the sealer).
  const bytes = into ?? (gap === 0 ? new Uint8Array(total * t) : new Uint8Array(Buffer.allocUnsafeSlow(total * stride).buffer));
  const out: CodedSymbols = { symbolSize: t, sbns: new Int32Array(total), esis: new Int32Array(total), bytes };
  let i = 0;
  const place = (sbn: number, esi: number, packet: Uint8Array) => {
    out.sbns[i] = sbn;
    out.esis[i] = esi;
    bytes.set(packet.subarray(4), i * stride + offset);
    i++;
  };
  for (const r of requests) {
    const k = encoder.sourceSymbolCount(r.sbn);
    const sourceEnd = Math.min(k, r.firstEsi + r.count);
    if (r.firstEsi < sourceEnd) {
      const sources = encoder.blockSourcePackets(r.sbn);
      for (let esi = r.firstEsi; esi < sourceEnd; esi++) place(r.sbn, esi, sources[esi]!);
    }
    const repairFrom = Math.max(k, r.firstEsi);
    const repairCount = r.firstEsi + r.count - repairFrom;
    if (repairCount > 0) encoder.repairPackets(r.sbn, repairFrom, repairCount).forEach((p, j) => place(r.sbn, repairFrom + j, p));
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

/** Bytes of the envelopes of `requests` (what `into` must hold). */
export function envelopeBytes(oti: Uint8Array, requests: SymbolRequest[]): number {
  return requests.reduce((a, r) => a + r.count, 0) * (parseOti(oti).symbolSize + ENVELOPE_OVERHEAD);
}

/**
 * Codes the requested symbols and seals them (the whole of a store's CPU work, in one place),
 * into `into` when given (exactly envelopeBytes long).
 */
export function codeAndSeal(data: Uint8Array, oti: Uint8Array, requests: SymbolRequest[], run: SealRun, into?: Uint8Array): SealedSymbols {
  const params = parseOti(oti);
  // Coded straight into the places their envelopes carry them, and sealed there.
  const coded = codeInto(data, params, requests, ENVELOPE_OVERHEAD, ENVELOPE_HEADER_BYTES, into);
  const layout = new ObjectLayout(params);
  sealSymbolRunInPlace(run, coded.symbolSize, coded.sbns, coded.esis, (sbn) => layout.sourceSymbolCount(sbn), coded.bytes);
  return { envelopeSize: coded.symbolSize + ENVELOPE_OVERHEAD, sbns: coded.sbns, esis: coded.esis, envelopes: coded.bytes };
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
