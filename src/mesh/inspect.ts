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
import { DECODE_MARGIN, policyOf, type PlacementPolicy } from './placement.js';

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
  const v = verdictOf(m, held);
  return healthOf(m, objectIdToHex(m.objectId), held, v.ok, v.spare);
}

/** Source symbols (K) of each block of an object with this OTI; the last few OTIs are remembered. */
const layouts: Array<{ oti: Uint8Array; ks: readonly number[] }> = [];
export function blockSizes(oti: Uint8Array): readonly number[] {
  for (let i = 0; i < layouts.length; i++) {
    const l = layouts[i]!;
    if (l.oti.length !== oti.length) continue;
    let same = true;
    for (let j = 0; j < oti.length; j++) if (l.oti[j] !== oti[j]) { same = false; break; }
    if (!same) continue;
    if (i > 0) (layouts.splice(i, 1), layouts.unshift(l));
    return l.ks;
  }
  const layout = new RaptorQDecoder(oti);
  const ks = Object.freeze(Array.from({ length: layout.blockCount }, (_, sbn) => layout.sourceSymbolCount(sbn)));
  layouts.unshift({ oti: Uint8Array.from(oti), ks });
  if (layouts.length > 16) layouts.pop();
  return ks;
}

/** policyOf, remembered for the last placement seen (manifests of a zone mostly share one). */
let lastPlacement: { target: number; tolerate: number; minDevices: number; maxShare: number; policy: PlacementPolicy } | null = null;
export function policyOfCached(p: Manifest['placement']): PlacementPolicy {
  const l = lastPlacement;
  if (l && l.target === p.target && l.tolerate === p.tolerate && l.minDevices === p.minDevices && l.maxShare === p.maxShare) return l.policy;
  const policy = Object.freeze(policyOf(p));
  lastPlacement = { target: p.target, tolerate: p.tolerate, minDevices: p.minDevices, maxShare: p.maxShare, policy };
  return policy;
}

/** Whether `m` meets its policy given what each holder holds, and its spare symbols (as judgeHealth). */
export function verdictOf(m: Manifest, held: ReadonlyArray<{ hostName: string; counts: readonly number[] }>): { ok: boolean; spare: number } {
  const policy = policyOfCached(m.placement);
  const ks = blockSizes(m.oti);
  let spare = Number.POSITIVE_INFINITY;
  let ok = true;
  for (let sbn = 0; sbn < ks.length; sbn++) {
    const k = ks[sbn]!;
    const holdings: Array<{ device: string; symbols: number }> = [];
    let sum = 0;
    for (const h of held) {
      const n = h.counts[sbn] ?? 0;
      if (n > 0) (holdings.push({ device: h.hostName, symbols: n }), (sum += n));
    }
    spare = Math.min(spare, sum - k - DECODE_MARGIN);
    if (ok && !blockMeetsPolicy(k, holdings, policy)) ok = false;
  }
  return { ok, spare };
}

/** The ObjectHealth of `m` (hex id `hex`) for a verdict already reached from `held`. */
export function healthOf(m: Manifest, hex: string, held: ReadonlyArray<{ hostName: string; counts: readonly number[] }>, ok: boolean, spare: number): ObjectHealth {
  const blockCount = blockSizes(m.oti).length;
  const holders: ObjectHealth['holders'] = [];
  for (const h of held) {
    let symbols = 0;
    for (const n of h.counts) symbols += n;
    if (!(symbols > 0)) continue;
    const blocks = new Array<number>(blockCount);
    for (let sbn = 0; sbn < blockCount; sbn++) blocks[sbn] = h.counts[sbn] ?? 0;
    holders.push({ hostName: h.hostName, symbols, blocks });
  }
  holders.sort((a, b) => (a.hostName < b.hostName ? -1 : 1));
  return { objectId: hex, zone: m.zone, schema: m.schema, length: m.length, created: m.created, writer: m.writer, spare, devices: holders.length, holders, ok };
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
