// What this device holds, per zone: for each object with a manifest here, its symbol count per
// source block and its envelope bytes. Peers compare these summaries instead of asking `have`
// for every object. Each zone has a digest per bucket of ids (their first byte) and one over the
// zone: XOR of per-object hashes, so a change updates them in O(1) and a reader refetches only
// the buckets whose digest changed. The store keeps one of these up to date on every write.
import { createHash } from 'node:crypto';

export const HOLDING_BUCKETS = 256;
export const HOLDING_DIGEST_BYTES = 16;

/** One object as a summary lists it. */
export interface HoldingEntry {
  objectId: Uint8Array;
  /** Symbols held per source block (index = SBN). */
  counts: number[];
}

export interface ZoneHoldings {
  zone: string;
  /** XOR of every entry hash of the zone. */
  digest: Uint8Array;
  /** HOLDING_BUCKETS digests of HOLDING_DIGEST_BYTES each, bucket = first byte of the id. */
  buckets: Uint8Array;
  objects: number;
  symbols: number;
  bytes: number;
}

export interface HoldingsPage {
  entries: HoldingEntry[];
  /** The last id of this page when more entries of the asked buckets follow. */
  next?: Uint8Array;
}

/** What the store records per object (also what LMDB persists): zone null = no manifest yet. */
export interface HoldingRecord {
  zone: string | null;
  counts: number[];
  bytes: number;
}

/** The hash an entry contributes to its bucket and zone digests. */
export function entryHash(objectId: Uint8Array, counts: readonly number[]): Uint8Array {
  const h = createHash('sha256').update(objectId);
  const c = Buffer.allocUnsafe(counts.length * 4);
  counts.forEach((n, i) => c.writeUInt32BE(n, i * 4));
  return new Uint8Array(h.update(c).digest().subarray(0, HOLDING_DIGEST_BYTES));
}

/** Counts with trailing empty blocks removed, so equal holdings always hash alike. */
export function trimCounts(counts: readonly number[]): number[] {
  let end = counts.length;
  while (end > 0 && (counts[end - 1] ?? 0) === 0) end--;
  return counts.slice(0, end).map((n) => n ?? 0);
}

function xorInto(target: Uint8Array, offset: number, h: Uint8Array): void {
  for (let i = 0; i < h.length; i++) target[offset + i]! ^= h[i]!;
}

interface Held {
  zone: string;
  counts: number[];
  bytes: number;
  symbols: number;
  hash: Uint8Array;
}

interface ZoneState {
  buckets: Uint8Array;
  /** Ids (hex) per bucket. */
  members: Array<Set<string>>;
  objects: number;
  symbols: number;
  bytes: number;
}

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export class HoldingsIndex {
  private readonly held = new Map<string, Held>();
  private readonly zones = new Map<string, ZoneState>();

  /** Records what is now held of an object; no manifest (zone null) or no symbols = not listed. */
  set(objectId: Uint8Array, record: HoldingRecord | undefined): void {
    const hex = hexOf(objectId);
    this.remove(hex);
    if (!record || record.zone === null) return;
    const counts = trimCounts(record.counts);
    const symbols = counts.reduce((a, n) => a + n, 0);
    if (symbols === 0) return;
    const h: Held = { zone: record.zone, counts, bytes: record.bytes, symbols, hash: entryHash(objectId, counts) };
    this.held.set(hex, h);
    const z = this.zoneState(record.zone);
    const bucket = objectId[0]!;
    z.members[bucket]!.add(hex);
    xorInto(z.buckets, bucket * HOLDING_DIGEST_BYTES, h.hash);
    z.objects++;
    z.symbols += symbols;
    z.bytes += h.bytes;
  }

  clear(): void {
    this.held.clear();
    this.zones.clear();
  }

  private remove(hex: string): void {
    const old = this.held.get(hex);
    if (!old) return;
    this.held.delete(hex);
    const z = this.zones.get(old.zone)!;
    const bucket = parseInt(hex.slice(0, 2), 16);
    z.members[bucket]!.delete(hex);
    xorInto(z.buckets, bucket * HOLDING_DIGEST_BYTES, old.hash);
    z.objects--;
    z.symbols -= old.symbols;
    z.bytes -= old.bytes;
  }

  private zoneState(zone: string): ZoneState {
    let z = this.zones.get(zone);
    if (!z) {
      z = { buckets: new Uint8Array(HOLDING_BUCKETS * HOLDING_DIGEST_BYTES), members: Array.from({ length: HOLDING_BUCKETS }, () => new Set<string>()), objects: 0, symbols: 0, bytes: 0 };
      this.zones.set(zone, z);
    }
    return z;
  }

  /** The zone's digests and totals (all zero for a zone with nothing here). */
  digest(zone: string): ZoneHoldings {
    const z = this.zones.get(zone);
    const buckets = z ? Uint8Array.from(z.buckets) : new Uint8Array(HOLDING_BUCKETS * HOLDING_DIGEST_BYTES);
    const digest = new Uint8Array(HOLDING_DIGEST_BYTES);
    for (let b = 0; b < HOLDING_BUCKETS; b++) xorInto(digest, 0, buckets.subarray(b * HOLDING_DIGEST_BYTES, (b + 1) * HOLDING_DIGEST_BYTES));
    return { zone, digest, buckets, objects: z?.objects ?? 0, symbols: z?.symbols ?? 0, bytes: z?.bytes ?? 0 };
  }

  /** Entries of `buckets` in id order, after `after` if given, at most `limit`. */
  page(zone: string, buckets: readonly number[], after: Uint8Array | undefined, limit: number): HoldingsPage {
    const z = this.zones.get(zone);
    const entries: HoldingEntry[] = [];
    if (!z) return { entries };
    const afterHex = after ? hexOf(after) : '';
    const wanted = [...new Set(buckets)].filter((b) => Number.isInteger(b) && b >= 0 && b < HOLDING_BUCKETS).sort((a, b) => a - b);
    for (const b of wanted) {
      if (after && b < after[0]!) continue;
      const ids = [...z.members[b]!].filter((hex) => hex > afterHex).sort();
      for (const hex of ids) {
        if (entries.length >= limit) return { entries, next: entries[entries.length - 1]!.objectId };
        entries.push({ objectId: Uint8Array.from(Buffer.from(hex, 'hex')), counts: [...this.held.get(hex)!.counts] });
      }
    }
    return { entries };
  }
}
