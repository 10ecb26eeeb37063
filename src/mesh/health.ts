// Whether one source block's symbols, spread over devices, meet a placement policy, and the
// smallest change (symbols to add, or surplus to drop) that makes them meet it. Pure functions.
import { DECODE_MARGIN, symbolCount, type PlacementPolicy } from './placement.js';

export interface Holding {
  device: string;
  symbols: number;
}

function total(h: Holding[]): number {
  return h.reduce((a, x) => a + x.symbols, 0);
}

/** Symbols left after losing the `tolerate` fullest devices. */
export function worstCaseRemaining(h: Holding[], tolerate: number): number {
  const sorted = h.map((x) => x.symbols).sort((a, b) => b - a);
  return sorted.slice(tolerate).reduce((a, b) => a + b, 0);
}

/**
 * A block meets its policy when, after losing the `tolerate` fullest devices, K + margin symbols
 * remain; it has at least overhead x K symbols; enough distinct devices hold some; and no device
 * holds more than its share (rounded up to a whole symbol, and never below an even spread).
 */
export function blockMeetsPolicy(k: number, h: Holding[], policy: PlacementPolicy): boolean {
  const t = total(h);
  if (worstCaseRemaining(h, policy.tolerate) < k + DECODE_MARGIN) return false;
  if (t < Math.ceil(k * policy.overhead)) return false;
  const holders = h.filter((x) => x.symbols > 0).length;
  if (holders < Math.min(policy.minDevices, h.length)) return false;
  const cap = Math.max(Math.ceil(t * policy.maxShare), Math.ceil(t / Math.max(1, h.length)));
  return h.every((x) => x.symbols <= cap);
}

/**
 * Symbols to add per device (over `h`, the eligible reachable devices) so the block meets the
 * policy: one at a time to the device holding fewest. Null when no amount can (too few devices).
 */
export function planAdditions(k: number, h: Holding[], policy: PlacementPolicy): Map<string, number> | null {
  const work = h.map((x) => ({ ...x }));
  const added = new Map<string, number>();
  if (work.length <= policy.tolerate || work.length === 0) return blockMeetsPolicy(k, work, policy) ? added : null;
  const limit = symbolCount(k, work.length, policy) * 2 + work.length;
  for (let i = 0; i < limit && !blockMeetsPolicy(k, work, policy); i++) {
    let min = work[0]!;
    for (const x of work) if (x.symbols < min.symbols) min = x;
    min.symbols++;
    added.set(min.device, (added.get(min.device) ?? 0) + 1);
  }
  return blockMeetsPolicy(k, work, policy) ? added : null;
}

/**
 * The strongest policy `devices` devices can meet when `policy` asks for more than they can give:
 * losing all but one of them, and shares no tighter than an even spread. Repair falls back to it
 * so that a zone down to fewer devices than its policy needs still gets its data onto each of
 * them, rather than left on one.
 */
export function achievablePolicy(policy: PlacementPolicy, devices: number): PlacementPolicy {
  const n = Math.max(1, devices);
  return { ...policy, tolerate: Math.min(policy.tolerate, n - 1), minDevices: Math.min(policy.minDevices, n), maxShare: Math.max(policy.maxShare, 1 / n) };
}

/**
 * Surplus to drop once every device is back: while the block holds more than the policy's
 * target for this many devices, take one from the fullest device if the policy still holds.
 */
export function planDrops(k: number, h: Holding[], policy: PlacementPolicy): Map<string, number> {
  const work = h.map((x) => ({ ...x }));
  const dropped = new Map<string, number>();
  if (work.length <= policy.tolerate) return dropped;
  const target = symbolCount(k, work.length, policy);
  while (total(work) > target) {
    let max = work[0]!;
    for (const x of work) if (x.symbols > max.symbols) max = x;
    max.symbols--;
    if (!blockMeetsPolicy(k, work, policy)) {
      max.symbols++;
      break;
    }
    dropped.set(max.device, (dropped.get(max.device) ?? 0) + 1);
  }
  return dropped;
}
