// An object's health against its placement policy, from what reachable holders report. Holders
// that recently failed a symbol challenge are not counted. `inspectObject` asks each holder
// `have` for this one object; `judgeHealth` is the verdict itself, shared with the summary path
// (summary-health.ts) so both give the same answer from the same counts.
import { objectIdToHex, type Manifest } from '../crypto/index.js';
import { RaptorQDecoder } from '../raptorq/index.js';
import type { Zone } from '../zones/index.js';
import type { Eligibility } from './eligibility.js';
import { blockMeetsPolicy } from './health.js';
import type { HolderMarks } from './marks.js';
import { DECODE_MARGIN, policyOf } from './placement.js';

export interface ObjectHealth {
  objectId: string;
  zone: string;
  /** What the object is: fcp.file.v1, fcp.chunk.v1, fcp.blob.v1, ... */
  schema: string;
  length: number;
  created: number;
  writer: string;
  /** Fewest symbols any block has on reachable devices, minus what decoding needs (K + margin). */
  spare: number;
  /** Reachable devices holding symbols. */
  devices: number;
  /** Symbols each reachable device holds, in all and per source block (the placement map). */
  holders: Array<{ hostName: string; symbols: number; blocks: number[] }>;
  ok: boolean;
}

/** Symbols held per source block, from a holder's list of positions. */
export function countsOf(keys: ReadonlyArray<readonly [number, number]>): number[] {
  const counts: number[] = [];
  for (const [sbn] of keys) {
    while (counts.length <= sbn) counts.push(0);
    counts[sbn]!++;
  }
  return counts;
}

/** The health of `m` given what each reachable holder holds per block. */
export function judgeHealth(m: Manifest, held: ReadonlyArray<{ hostName: string; counts: readonly number[] }>): ObjectHealth {
  const policy = policyOf(m.placement);
  const layout = new RaptorQDecoder(m.oti);
  let spare = Number.POSITIVE_INFINITY;
  let ok = true;
  for (let sbn = 0; sbn < layout.blockCount; sbn++) {
    const k = layout.sourceSymbolCount(sbn);
    const holdings = held.map((h) => ({ device: h.hostName, symbols: h.counts[sbn] ?? 0 })).filter((h) => h.symbols > 0);
    spare = Math.min(spare, holdings.reduce((a, h) => a + h.symbols, 0) - k - DECODE_MARGIN);
    if (!blockMeetsPolicy(k, holdings, policy)) ok = false;
  }
  const holders = held
    .map((h) => ({ hostName: h.hostName, symbols: h.counts.reduce((a, n) => a + n, 0), blocks: Array.from({ length: layout.blockCount }, (_, sbn) => h.counts[sbn] ?? 0) }))
    .filter((h) => h.symbols > 0);
  holders.sort((a, b) => (a.hostName < b.hostName ? -1 : 1));
  return { objectId: objectIdToHex(m.objectId), zone: m.zone, schema: m.schema, length: m.length, created: m.created, writer: m.writer, spare, devices: holders.length, holders, ok };
}

export async function inspectObject(m: Manifest, zone: Zone, eligibility: Eligibility, marks: HolderMarks): Promise<ObjectHealth> {
  const held: Array<{ hostName: string; counts: number[] }> = [];
  await Promise.all(
    eligibility.readersFor(zone).map(async (h) => {
      if (marks.isDistrusted(h.stableId)) return;
      try {
        held.push({ hostName: h.hostName, counts: countsOf(await h.have(m.objectId)) });
      } catch {
        // unreachable holders simply do not count
      }
    }),
  );
  return judgeHealth(m, held);
}
