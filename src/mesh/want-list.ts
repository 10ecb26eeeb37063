// A fetch's want-list as the server serves it: positions of blocks the object has, each once,
// in the order asked (readers put source symbols first), at most `maxWantPositions` of them.
import { positionKey } from '../crypto/index.js';
import { parseOti } from '../raptorq/index.js';

export type Position = [sbn: number, esi: number];

/** Undefined stays undefined (the whole object is wanted). */
export function normaliseWant(want: unknown, manifest: { oti: Uint8Array }, limits: { maxWantPositions: number }): Position[] | undefined {
  if (want === undefined) return undefined;
  if (!Array.isArray(want)) return [];
  const blocks = parseOti(manifest.oti).sourceBlocks;
  const seen = new Set<number>();
  const out: Position[] = [];
  for (const p of want as unknown[]) {
    if (out.length >= limits.maxWantPositions) break;
    if (!Array.isArray(p) || p.length !== 2) continue;
    const [sbn, esi] = p as [unknown, unknown];
    if (!Number.isInteger(sbn) || !Number.isInteger(esi)) continue;
    const s = sbn as number;
    const e = esi as number;
    if (s < 0 || s >= blocks || e < 0 || e > 0xffffff) continue;
    const key = positionKey(s, e);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([s, e]);
  }
  return out;
}
