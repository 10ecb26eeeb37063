// Shared pieces of the RaptorQ benchmark scripts: workloads and timing helpers.

import { RaptorQEncoder, blockParams, packetEsi, packetSbn } from '../src/raptorq/index.js';

export function benchData(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function mbps(bytes: number, ms: number): number {
  return bytes / (1024 * 1024) / (ms / 1000);
}

/**
 * The decode workload: per block, 20% of the source symbols lost (chosen with `seed`), and as
 * many repair symbols as were lost, so the decoder gets exactly K symbols. Returned as the ESIs
 * to keep per block plus the repair count.
 */
export interface LossPlan {
  readonly keptSource: Set<number>[];
  readonly repairCount: number[];
}

export function lossPlan(enc: RaptorQEncoder, seed: number): LossPlan {
  const random = seeded(seed);
  const keptSource: Set<number>[] = [];
  const repairCount: number[] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    const esis = [...Array(k).keys()];
    for (let i = esis.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [esis[i], esis[j]] = [esis[j]!, esis[i]!];
    }
    const lost = Math.round(k * 0.2);
    keptSource.push(new Set(esis.slice(lost)));
    repairCount.push(lost);
  }
  return { keptSource, repairCount };
}

/** The reference encoder's packets filtered by the same plan (it labels repair i as K'+i). */
export function referenceDecodeInput(packets: Uint8Array[], enc: RaptorQEncoder, plan: LossPlan, spare: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) out.push([]);
  for (const p of packets) {
    const sbn = packetSbn(p);
    const k = enc.sourceSymbolCount(sbn);
    const esi = packetEsi(p);
    const kPrime = blockParams(k).kPrime;
    if (esi < k ? plan.keptSource[sbn]!.has(esi) : esi - kPrime < plan.repairCount[sbn]! + spare) out[sbn]!.push(p);
  }
  return out;
}

/** Interleaves blocks round-robin, as packets of a multi-block object arrive. */
export function interleave(perBlock: Uint8Array[][]): Uint8Array[] {
  const out: Uint8Array[] = [];
  const longest = Math.max(...perBlock.map((b) => b.length));
  for (let i = 0; i < longest; i++) for (const b of perBlock) if (i < b.length) out.push(b[i]!);
  return out;
}
