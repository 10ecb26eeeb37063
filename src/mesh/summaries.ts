// What each holder holds, learned from its holdings summary (store/holdings.ts) instead of one
// `have` per object: the asking device caches every holder's summary per zone with its digests,
// asks one `summary_digest` per holder, and fetches pages only for the id buckets whose digest
// changed. A page that breaks the rules (order, buckets, size, cursor) is refused with
// MESH_BAD_SUMMARY and the cached summary of that holder stays as it was.
import { HOLDING_BUCKETS, HOLDING_DIGEST_BYTES, entryHash, trimCounts } from '../store/index.js';
import { SUMMARY_PAGE_MAX, type ZoneSummaryDigest } from '../wire/index.js';
import { MeshError } from './errors.js';
import type { Holder } from './holder.js';

/** What one holder holds of one zone: counts per block by object id (hex). */
export interface ZoneView {
  counts(objectIdHex: string): readonly number[] | undefined;
  objects: number;
  symbols: number;
  bytes: number;
}

interface Cached {
  digest: Uint8Array;
  buckets: Uint8Array;
  entries: Array<Map<string, readonly number[]>>;
  objects: number;
  symbols: number;
  bytes: number;
}

export interface SummaryCacheOptions {
  /** Entries asked per page (at most SUMMARY_PAGE_MAX). */
  pageLimit?: number;
}

/** Per holder: its views of the zones it showed, or why it could not be asked. */
export type HolderViews = { ok: true; zones: Map<string, ZoneView> } | { ok: false; error: Error };

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function bad(holder: Holder, what: string): MeshError {
  return new MeshError('MESH_BAD_SUMMARY', `${holder.hostName} sent a malformed holdings summary: ${what}; it is not used`);
}

function bucketDigest(entries: Map<string, readonly number[]>): Uint8Array {
  const d = new Uint8Array(HOLDING_DIGEST_BYTES);
  for (const [hex, counts] of entries) {
    const h = entryHash(Buffer.from(hex, 'hex'), counts);
    for (let i = 0; i < d.length; i++) d[i]! ^= h[i]!;
  }
  return d;
}

/**
 * Counts of one block below 256 (nearly every small object's) as one shared frozen array each: a
 * cache of 100k objects from four holders is otherwise 400k arrays of one number.
 */
const ONE_BLOCK: ReadonlyArray<readonly number[]> = Array.from({ length: 256 }, (_, n) => Object.freeze([n]));
function shared(counts: number[]): readonly number[] {
  if (counts.length !== 1) return counts;
  const n = counts[0]!;
  return Number.isInteger(n) && n >= 0 && n < 256 ? ONE_BLOCK[n]! : counts;
}

/** One hex digit's value (any other character gives some number; the lookup then finds nothing). */
const nibble = (c: number) => (c >= 97 ? c - 87 : c >= 65 ? c - 55 : c - 48);

function viewOf(c: Cached): ZoneView {
  return {
    // The bucket is the id's first byte: its first two hex digits, read without a substring.
    counts: (hex) => c.entries[(nibble(hex.charCodeAt(0)) << 4) + nibble(hex.charCodeAt(1))]?.get(hex),
    objects: c.objects,
    symbols: c.symbols,
    bytes: c.bytes,
  };
}

export class SummaryCache {
  private readonly cache = new Map<string, Map<string, Cached>>();
  private readonly pageLimit: number;
  /** Summary pages fetched since start (the bench and tests read it). */
  pagesFetched = 0;

  constructor(opts: SummaryCacheOptions = {}) {
    this.pageLimit = Math.min(Math.max(1, opts.pageLimit ?? 2048), SUMMARY_PAGE_MAX);
  }

  /** Brings the cached summaries of each holder's zones up to date, holders in parallel. */
  async refresh(wants: ReadonlyArray<{ holder: Holder; zones: readonly string[] }>): Promise<Map<string, HolderViews>> {
    const out = new Map<string, HolderViews>();
    await Promise.all(
      wants.map(async ({ holder, zones }) => {
        try {
          out.set(holder.stableId, { ok: true, zones: await this.refreshHolder(holder, zones) });
        } catch (err) {
          out.set(holder.stableId, { ok: false, error: err as Error });
        }
      }),
    );
    return out;
  }

  private async refreshHolder(holder: Holder, zones: readonly string[]): Promise<Map<string, ZoneView>> {
    const views = new Map<string, ZoneView>();
    const asked = [...new Set(zones)];
    if (asked.length === 0) return views;
    const digests = await holder.summaryDigests(asked);
    const seen = new Set<string>();
    for (const d of digests) {
      if (!asked.includes(d.zone) || seen.has(d.zone)) throw bad(holder, `digest of a zone not asked for, or twice (${d.zone})`);
      seen.add(d.zone);
    }
    const mine = this.cache.get(holder.stableId) ?? new Map<string, Cached>();
    const fresh = new Map<string, Cached>();
    for (const d of digests) fresh.set(d.zone, await this.refreshZone(holder, d, mine.get(d.zone)));
    // Only a holder whose every page was right changes the cache.
    for (const [zone, c] of fresh) {
      mine.set(zone, c);
      views.set(zone, viewOf(c));
    }
    this.cache.set(holder.stableId, mine);
    return views;
  }

  private async refreshZone(holder: Holder, d: ZoneSummaryDigest, cached: Cached | undefined): Promise<Cached> {
    const xor = new Uint8Array(HOLDING_DIGEST_BYTES);
    for (let b = 0; b < HOLDING_BUCKETS; b++) for (let i = 0; i < HOLDING_DIGEST_BYTES; i++) xor[i]! ^= d.buckets[b * HOLDING_DIGEST_BYTES + i]!;
    if (!sameBytes(xor, d.digest)) throw bad(holder, `the ${d.zone} digest is not the XOR of its bucket digests`);
    if (cached && sameBytes(cached.digest, d.digest) && sameBytes(cached.buckets, d.buckets)) return cached;
    const changed: number[] = [];
    for (let b = 0; b < HOLDING_BUCKETS; b++) {
      const at = b * HOLDING_DIGEST_BYTES;
      const was = cached?.buckets.subarray(at, at + HOLDING_DIGEST_BYTES);
      if (!was || !sameBytes(was, d.buckets.subarray(at, at + HOLDING_DIGEST_BYTES))) changed.push(b);
    }
    const entries = cached ? cached.entries.map((m, b) => (changed.includes(b) ? new Map<string, readonly number[]>() : m)) : Array.from({ length: HOLDING_BUCKETS }, () => new Map<string, readonly number[]>());
    await this.fetchBuckets(holder, d.zone, changed, entries, d.objects);
    // The digests we keep are what the entries we got hash to: a bucket that changed between the
    // digest and its page (or a holder that lied) is asked again next time.
    const buckets = Uint8Array.from(d.buckets);
    for (const b of changed) buckets.set(bucketDigest(entries[b]!), b * HOLDING_DIGEST_BYTES);
    const digest = new Uint8Array(HOLDING_DIGEST_BYTES);
    for (let b = 0; b < HOLDING_BUCKETS; b++) for (let i = 0; i < HOLDING_DIGEST_BYTES; i++) digest[i]! ^= buckets[b * HOLDING_DIGEST_BYTES + i]!;
    let objects = 0;
    let symbols = 0;
    for (const m of entries) for (const c of m.values()) (objects++, (symbols += c.reduce((a, n) => a + n, 0)));
    return { digest, buckets, entries, objects, symbols, bytes: d.bytes };
  }

  /** Pages through the entries of `buckets`, checking every page; fills `entries` per bucket. */
  private async fetchBuckets(holder: Holder, zone: string, buckets: number[], entries: Array<Map<string, readonly number[]>>, advertised: number): Promise<void> {
    if (buckets.length === 0) return;
    const wanted = new Set(buckets);
    let after: Uint8Array | undefined;
    // Bounded: the advertised object count (plus slack for objects added meanwhile) in full pages.
    const maxPages = Math.ceil((advertised + this.pageLimit) / this.pageLimit) + 8;
    for (let page = 0; page < maxPages; page++) {
      const p = await holder.summaryPage(zone, buckets, after, this.pageLimit);
      this.pagesFetched++;
      if (p.entries.length > this.pageLimit) throw bad(holder, `${p.entries.length} entries in a page of at most ${this.pageLimit}`);
      let last = after ? hexOf(after) : '';
      for (const e of p.entries) {
        const hex = hexOf(e.objectId);
        if (hex <= last) throw bad(holder, 'entries out of id order');
        const b = e.objectId[0]!;
        if (!wanted.has(b)) throw bad(holder, `an entry of bucket ${b}, which was not asked for`);
        last = hex;
        entries[b]!.set(hex, shared(trimCounts(e.counts)));
      }
      if (!p.next) return;
      if (p.entries.length === 0 || hexOf(p.next) !== last) throw bad(holder, 'a page cursor that is not its last entry');
      after = p.next;
    }
    throw bad(holder, `more than ${maxPages} pages for ${advertised} objects`);
  }
}
