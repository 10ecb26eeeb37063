// Memory-only symbol store with the same contract as the LMDB store (tests, ephemeral nodes).
import { StoreError } from './errors.js';
import { positionKey, positionOf } from '../crypto/index.js';
import {
  bytesEqual,
  checkEntries,
  checkLimit,
  checkManifest,
  checkObjectId,
  checkOrphanArgs,
  checkPositions,
  checkQuota,
  checkReason,
  checkTimeout,
  dedupeEntries,
} from './validate.js';
import { checkRef, checkTombstone, cloneRef, cloneTombstone, refKey, refReplaces, tombstoneReplaces } from './records.js';
import type { VerifyReport } from './verify.js';
import { HoldingsIndex, type HoldingsPage, type ZoneHoldings } from './holdings.js';
import type {
  FreshStart,
  Manifest,
  OrphanCandidate,
  OrphanReport,
  StoreHealth,
  StoreOptions,
  StoreUsage,
  SymbolEntry,
  SymbolPosition,
  SymbolStore,
  RefRecord,
  Tombstone,
} from './types.js';

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const copy = (b: Uint8Array) => Uint8Array.from(b);

function cloneManifest(m: Manifest): Manifest {
  return { ...m, objectId: copy(m.objectId), oti: copy(m.oti), keyId: copy(m.keyId), placement: { ...m.placement } };
}

export class MemorySymbolStore implements SymbolStore {
  private readonly objects = new Map<string, Map<number, Uint8Array>>();
  private readonly manifests = new Map<string, Manifest>();
  /** ObjectId hex -> wall ms when its symbols came without a manifest. */
  private readonly orphans = new Map<string, number>();
  private readonly refs = new Map<string, RefRecord>();
  private readonly tombstones = new Map<string, Tombstone>();
  private fresh: FreshStart | null = null;
  private readonly openedAt = Date.now();
  private readonly quotaBytes: number | null;
  private symbolCount = 0;
  private byteCount = 0;
  private closed = false;
  private readonly holdings = new HoldingsIndex();

  constructor(opts: StoreOptions = {}) {
    this.quotaBytes = checkQuota(opts.quotaBytes);
  }

  /** Same shape as LmdbSymbolStore.open; the directory is ignored. */
  static async open(_dir?: string, opts: StoreOptions = {}): Promise<MemorySymbolStore> {
    return new MemorySymbolStore(opts);
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('STORE_CLOSED', 'the symbol store is closed');
  }

  async putSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    const batch = dedupeEntries(checkEntries(entries));
    const held = this.objects.get(hexOf(objectId));
    let addSymbols = 0;
    let addBytes = 0;
    const writes: Array<[number, Uint8Array]> = [];
    for (const e of batch) {
      const key = positionKey(e.sbn, e.esi);
      const existing = held?.get(key);
      if (existing && bytesEqual(existing, e.env)) continue;
      // A stored symbol is never replaced by other bytes (see LmdbSymbolStore).
      if (existing) throw new StoreError('STORE_CONFLICT', `symbol (${e.sbn}, ${e.esi}) is already stored with other bytes; nothing of the batch was written`);
      addBytes += e.env.length;
      addSymbols++;
      writes.push([key, copy(e.env)]);
    }
    if (this.quotaBytes !== null && addBytes > 0 && this.byteCount + addBytes > this.quotaBytes) {
      throw new StoreError(
        'STORE_QUOTA',
        `storing this batch would use ${this.byteCount + addBytes} bytes, above the quota of ${this.quotaBytes}; free space or raise the quota`,
      );
    }
    if (writes.length === 0) return;
    const target = held ?? new Map<number, Uint8Array>();
    for (const [key, env] of writes) target.set(key, env);
    const hex = hexOf(objectId);
    this.objects.set(hex, target);
    if (!this.manifests.has(hex) && !this.orphans.has(hex)) this.orphans.set(hex, Date.now());
    this.symbolCount += addSymbols;
    this.byteCount += addBytes;
    this.noteHolding(hex);
  }

  async resealSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<number> {
    this.ensureOpen();
    checkObjectId(objectId);
    const batch = dedupeEntries(checkEntries(entries));
    const held = this.objects.get(hexOf(objectId));
    if (!held) return 0;
    for (const e of batch) {
      const existing = held.get(positionKey(e.sbn, e.esi));
      if (existing && existing.length !== e.env.length) throw new StoreError('STORE_CONFLICT', `a re-sealed symbol (${e.sbn}, ${e.esi}) must keep its length`);
    }
    let n = 0;
    for (const e of batch) {
      const key = positionKey(e.sbn, e.esi);
      if (!held.has(key)) continue;
      held.set(key, copy(e.env));
      n++;
    }
    return n;
  }

  /** Brings the holdings summary of one object up to date after a write (its own symbols only). */
  private noteHolding(hex: string): void {
    const held = this.objects.get(hex);
    const counts: number[] = [];
    let bytes = 0;
    for (const [key, env] of held ?? []) {
      const [sbn] = positionOf(key);
      counts[sbn] = (counts[sbn] ?? 0) + 1;
      bytes += env.length;
    }
    const zone = this.manifests.get(hex)?.zone ?? null;
    this.holdings.set(Buffer.from(hex, 'hex'), { zone, counts: Array.from(counts, (n) => n ?? 0), bytes });
  }

  holdingsDigest(zone: string): ZoneHoldings {
    this.ensureOpen();
    return this.holdings.digest(zone);
  }

  holdingsPage(zone: string, buckets: readonly number[], after: Uint8Array | undefined, limit: number): HoldingsPage {
    this.ensureOpen();
    return this.holdings.page(zone, buckets, after, limit);
  }

  async getSymbols(objectId: Uint8Array, want?: SymbolPosition[], limit?: number): Promise<SymbolEntry[]> {
    this.ensureOpen();
    checkObjectId(objectId);
    const max = checkLimit(limit);
    const held = this.objects.get(hexOf(objectId));
    const out: SymbolEntry[] = [];
    if (want !== undefined) {
      for (const [sbn, esi] of checkPositions(want)) {
        if (out.length >= max) break;
        const env = held?.get(positionKey(sbn, esi));
        if (env) out.push({ sbn, esi, env: copy(env) });
      }
      return out;
    }
    if (!held) return out;
    for (const key of [...held.keys()].sort((a, b) => a - b)) {
      if (out.length >= max) break;
      const [sbn, esi] = positionOf(key);
      out.push({ sbn, esi, env: copy(held.get(key)!) });
    }
    return out;
  }

  symbolKeys(objectId: Uint8Array): SymbolPosition[] {
    this.ensureOpen();
    checkObjectId(objectId);
    const held = this.objects.get(hexOf(objectId));
    if (!held) return [];
    return [...held.keys()].sort((a, b) => a - b).map(positionOf);
  }

  async putManifest(m: Manifest): Promise<void> {
    this.ensureOpen();
    checkManifest(m);
    this.manifests.set(hexOf(m.objectId), cloneManifest(m));
    this.orphans.delete(hexOf(m.objectId));
    this.noteHolding(hexOf(m.objectId));
  }

  getManifest(objectId: Uint8Array): Manifest | undefined {
    this.ensureOpen();
    checkObjectId(objectId);
    const m = this.manifests.get(hexOf(objectId));
    return m ? cloneManifest(m) : undefined;
  }

  manifestCount(): number {
    this.ensureOpen();
    return this.manifests.size;
  }

  manifestsAfter(after: Uint8Array | undefined, limit: number): Manifest[] {
    this.ensureOpen();
    const from = after === undefined ? undefined : hexOf(checkObjectId(after));
    return [...this.manifests.keys()]
      .filter((k) => from === undefined || k > from)
      .sort()
      .slice(0, checkLimit(limit))
      .map((k) => cloneManifest(this.manifests.get(k)!));
  }

  listManifests(zone?: string): Manifest[] {
    this.ensureOpen();
    return [...this.manifests.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, m]) => m)
      .filter((m) => zone === undefined || m.zone === zone)
      .map(cloneManifest);
  }

  async deleteSymbols(objectId: Uint8Array, positions: SymbolPosition[]): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    const held = this.objects.get(hexOf(objectId));
    if (!held) return;
    for (const [sbn, esi] of checkPositions(positions)) {
      const env = held.get(positionKey(sbn, esi));
      if (!env) continue;
      held.delete(positionKey(sbn, esi));
      this.byteCount -= env.length;
      this.symbolCount--;
    }
    this.noteHolding(hexOf(objectId));
  }

  async deleteObject(objectId: Uint8Array): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    const key = hexOf(objectId);
    const held = this.objects.get(key);
    if (held) {
      for (const env of held.values()) this.byteCount -= env.length;
      this.symbolCount -= held.size;
      this.objects.delete(key);
    }
    this.manifests.delete(key);
    this.orphans.delete(key);
    this.noteHolding(key);
  }

  /** Removes every symbol of the object `hex`; returns [symbols, bytes]. */
  private dropSymbols(hex: string): [number, number] {
    const held = this.objects.get(hex);
    if (!held) return [0, 0];
    let bytes = 0;
    for (const env of held.values()) bytes += env.length;
    const symbols = held.size;
    this.objects.delete(hex);
    this.symbolCount -= symbols;
    this.byteCount -= bytes;
    this.noteHolding(hex);
    return [symbols, bytes];
  }

  listOrphans(olderThanMs: number, now: number, maxObjects = 1000): OrphanCandidate[] {
    this.ensureOpen();
    checkOrphanArgs(olderThanMs, now, maxObjects);
    const out: OrphanCandidate[] = [];
    for (const [hex, firstSeen] of [...this.orphans.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (out.length >= maxObjects) break;
      const symbols = this.objects.get(hex)?.size ?? 0;
      if (now - firstSeen < olderThanMs || this.manifests.has(hex) || symbols === 0) continue;
      out.push({ objectId: Uint8Array.from(Buffer.from(hex, 'hex')), firstSeen, symbols });
    }
    return out;
  }

  async collectOrphans(olderThanMs: number, now: number, maxObjects = 1000): Promise<OrphanReport> {
    this.ensureOpen();
    checkOrphanArgs(olderThanMs, now, maxObjects);
    const report: OrphanReport = { objects: [], symbols: 0, bytes: 0, more: false };
    let taken = 0;
    // Same order as the LMDB store (ObjectId bytes), so maxObjects takes the same objects.
    for (const [hex, firstSeen] of [...this.orphans.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (this.manifests.has(hex)) {
        this.orphans.delete(hex);
        continue;
      }
      if (now - firstSeen < olderThanMs) continue;
      if (taken >= maxObjects) {
        report.more = true;
        break;
      }
      taken++;
      const [symbols, bytes] = this.dropSymbols(hex);
      this.orphans.delete(hex);
      if (symbols === 0) continue;
      report.objects.push({ objectId: Uint8Array.from(Buffer.from(hex, 'hex')), symbols, bytes, firstSeen });
      report.symbols += symbols;
      report.bytes += bytes;
    }
    return report;
  }

  health(): StoreHealth {
    if (this.closed) return { state: 'closed', dir: null, detail: 'the store is closed', since: this.openedAt, startedFresh: this.fresh };
    return { state: 'ok', dir: null, detail: null, since: this.fresh?.at ?? this.openedAt, startedFresh: this.fresh };
  }

  /** Memory cannot be damaged below the store: reports what is held. */
  async verify(timeoutMs = 300_000): Promise<VerifyReport> {
    this.ensureOpen();
    checkTimeout(timeoutMs);
    return { ok: true, symbols: this.symbolCount, bytes: this.byteCount, manifests: this.manifests.size, orphans: this.orphans.size };
  }

  /** Drops everything held (there is no file to move aside). */
  async startFresh(reason: string): Promise<FreshStart> {
    this.ensureOpen();
    checkReason(reason);
    this.objects.clear();
    this.manifests.clear();
    this.orphans.clear();
    this.holdings.clear();
    this.refs.clear();
    this.tombstones.clear();
    this.symbolCount = 0;
    this.byteCount = 0;
    const at = Date.now();
    this.fresh = { dir: null, movedTo: null, reason, at, message: `memory store was reset (${reason}); symbols will be repaired from the other devices` };
    return this.fresh;
  }

  usage(): StoreUsage {
    this.ensureOpen();
    return { symbols: this.symbolCount, bytes: this.byteCount, quotaBytes: this.quotaBytes };
  }

  async putRef(ref: RefRecord): Promise<boolean> {
    this.ensureOpen();
    checkRef(ref);
    const key = refKey(ref.zone, ref.device);
    if (!refReplaces(ref, this.refs.get(key))) return false;
    this.refs.set(key, cloneRef(ref));
    return true;
  }

  listRefs(zone?: string): RefRecord[] {
    this.ensureOpen();
    return [...this.refs.entries()]
      .filter(([, r]) => zone === undefined || r.zone === zone)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, r]) => cloneRef(r));
  }

  async deleteRef(zone: string, device: string): Promise<boolean> {
    this.ensureOpen();
    return this.refs.delete(refKey(zone, device));
  }

  async putTombstone(t: Tombstone): Promise<boolean> {
    this.ensureOpen();
    checkTombstone(t);
    const key = hexOf(t.objectId);
    if (!tombstoneReplaces(t, this.tombstones.get(key))) return false;
    this.tombstones.set(key, cloneTombstone(t));
    return true;
  }

  getTombstone(objectId: Uint8Array): Tombstone | undefined {
    this.ensureOpen();
    checkObjectId(objectId);
    const t = this.tombstones.get(hexOf(objectId));
    return t ? cloneTombstone(t) : undefined;
  }

  async expireTombstones(before: number): Promise<number> {
    this.ensureOpen();
    let n = 0;
    for (const [k, t] of this.tombstones) if (t.at < before && this.tombstones.delete(k)) n++;
    return n;
  }

  listTombstones(zone?: string): Tombstone[] {
    this.ensureOpen();
    return [...this.tombstones.entries()]
      .filter(([, t]) => zone === undefined || t.zone === zone)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, t]) => cloneTombstone(t));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
