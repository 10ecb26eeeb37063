// Holder I/O: one interface for every device that holds symbols, this one (its store) and a
// remote peer (FCP over the pooled connection) alike, so placement, reads and repair never
// branch on "is it me".
import type { Manifest, RefRecord, SymbolEntry, Tombstone } from '../crypto/index.js';
import type { SymbolStore } from '../store/index.js';
import { MAX_TOMBSTONES, type SummaryEntry, type SymbolKey, type ZoneSummaryDigest } from '../wire/index.js';
import { MeshError } from './errors.js';
import { call, expectReply } from './peer-call.js';
import type { ConnectionPool } from './pool.js';
import { batchesOf, BATCH_BYTES } from './placement.js';

/** A stream of symbols from a holder; `stop()` ends it early. */
export interface SymbolStream {
  done: Promise<void>;
  stop(): void;
}

export interface Holder {
  readonly stableId: string;
  readonly hostName: string;
  /** True for this device. */
  readonly local: boolean;
  putSymbols(objectId: Uint8Array, zone: string, symbols: SymbolEntry[]): Promise<void>;
  putManifest(manifest: Manifest): Promise<void>;
  getManifest(objectId: Uint8Array): Promise<Manifest | undefined>;
  have(objectId: Uint8Array): Promise<SymbolKey[]>;
  /** Streams symbols of a complete object (only `want` positions if given) into `onSymbols`. */
  fetch(objectId: Uint8Array, zone: string, want: SymbolKey[] | undefined, onSymbols: (batch: SymbolEntry[]) => void): SymbolStream;
  drop(objectId: Uint8Array, keys: SymbolKey[]): Promise<void>;
  erase(objectId: Uint8Array): Promise<void>;
  /** The holder's summary digests of these zones (zones it will not show are left out). */
  summaryDigests(zones: string[]): Promise<ZoneSummaryDigest[]>;
  /** One page of its summary of `zone`: entries of `buckets` in id order after `after`. */
  summaryPage(zone: string, buckets: number[], after: Uint8Array | undefined, limit: number): Promise<{ entries: SummaryEntry[]; next?: Uint8Array }>;
  /** Manifests the holder has of `zone` (what it shows this device). */
  listManifests(zone: string): Promise<Manifest[]>;
  /** Offers this device's head of a zone's namespace (kept only with a higher seq). */
  putRef(ref: RefRecord): Promise<void>;
  /** Every device's head of `zone` the holder knows. */
  listRefs(zone: string): Promise<RefRecord[]>;
  putTombstones(tombstones: Tombstone[]): Promise<void>;
  listTombstones(zone: string): Promise<Tombstone[]>;
}

export class LocalHolder implements Holder {
  readonly local = true;
  constructor(
    readonly stableId: string,
    readonly hostName: string,
    private readonly store: SymbolStore,
  ) {}

  putSymbols(objectId: Uint8Array, _zone: string, symbols: SymbolEntry[]): Promise<void> {
    return this.store.putSymbols(objectId, symbols);
  }
  putManifest(manifest: Manifest): Promise<void> {
    return this.store.putManifest(manifest);
  }
  async getManifest(objectId: Uint8Array): Promise<Manifest | undefined> {
    return this.store.getManifest(objectId);
  }
  async have(objectId: Uint8Array): Promise<SymbolKey[]> {
    return this.store.symbolKeys(objectId);
  }
  fetch(objectId: Uint8Array, _zone: string, want: SymbolKey[] | undefined, onSymbols: (batch: SymbolEntry[]) => void): SymbolStream {
    let stopped = false;
    const done = (async () => {
      const symbols = await this.store.getSymbols(objectId, want);
      for (const batch of batchesOf(symbols, BATCH_BYTES)) {
        if (stopped) return;
        onSymbols(batch);
      }
    })();
    return { done, stop: () => (stopped = true) };
  }
  drop(objectId: Uint8Array, keys: SymbolKey[]): Promise<void> {
    return keys.length === 0 ? Promise.resolve() : this.store.deleteSymbols(objectId, keys);
  }
  erase(objectId: Uint8Array): Promise<void> {
    return this.store.deleteObject(objectId);
  }
  async summaryDigests(zones: string[]): Promise<ZoneSummaryDigest[]> {
    return zones.map((z) => this.store.holdingsDigest(z));
  }
  async summaryPage(zone: string, buckets: number[], after: Uint8Array | undefined, limit: number): Promise<{ entries: SummaryEntry[]; next?: Uint8Array }> {
    return this.store.holdingsPage(zone, buckets, after, limit);
  }
  async listManifests(zone: string): Promise<Manifest[]> {
    return this.store.listManifests(zone);
  }
  async putRef(ref: RefRecord): Promise<void> {
    await this.store.putRef(ref);
  }
  async listRefs(zone: string): Promise<RefRecord[]> {
    return this.store.listRefs(zone);
  }
  async putTombstones(tombstones: Tombstone[]): Promise<void> {
    for (const t of tombstones) await this.store.putTombstone(t);
  }
  async listTombstones(zone: string): Promise<Tombstone[]> {
    return this.store.listTombstones(zone);
  }
}

/** Store batches in flight per peer: keeps its disk and our socket busy with bounded memory. */
const STORE_LANES = 3;

export class RemoteHolder implements Holder {
  readonly local = false;
  constructor(
    readonly stableId: string,
    readonly hostName: string,
    readonly address: string,
    private readonly pool: ConnectionPool,
  ) {}

  async putSymbols(objectId: Uint8Array, zone: string, symbols: SymbolEntry[]): Promise<void> {
    const conn = await this.pool.get(this.address);
    const batches = batchesOf(symbols, BATCH_BYTES);
    let next = 0;
    const lane = async () => {
      while (next < batches.length) await call(conn, { t: 'store', objectId, zone, symbols: batches[next++]! }, 'ok');
    };
    await Promise.all(Array.from({ length: STORE_LANES }, lane));
  }
  async putManifest(manifest: Manifest): Promise<void> {
    await call(await this.pool.get(this.address), { t: 'manifest_put', manifest }, 'ok');
  }
  async getManifest(objectId: Uint8Array): Promise<Manifest | undefined> {
    try {
      return (await call(await this.pool.get(this.address), { t: 'manifest_get', objectId }, 'manifest', 5_000)).manifest;
    } catch (err) {
      if (err instanceof MeshError && err.code === 'MESH_NOT_FOUND') return undefined;
      throw err;
    }
  }
  async have(objectId: Uint8Array): Promise<SymbolKey[]> {
    return (await call(await this.pool.get(this.address), { t: 'have', objectId }, 'have_result', 10_000)).keys;
  }
  fetch(objectId: Uint8Array, zone: string, want: SymbolKey[] | undefined, onSymbols: (batch: SymbolEntry[]) => void): SymbolStream {
    let stop = (): void => undefined;
    let stopped = false;
    const done = (async () => {
      const conn = await this.pool.get(this.address);
      if (stopped) return;
      const s = conn.stream({ t: 'fetch', objectId, zone, ...(want ? { want } : {}) }, 'fetch_end', (reply) => onSymbols(expectReply(reply, 'symbols').symbols));
      stop = () => conn.send({ t: 'stop', target: s.id });
      await s.done;
    })();
    return {
      done,
      stop: () => {
        stopped = true;
        stop();
      },
    };
  }
  async drop(objectId: Uint8Array, keys: SymbolKey[]): Promise<void> {
    if (keys.length === 0) return;
    await call(await this.pool.get(this.address), { t: 'drop', objectId, keys }, 'ok');
  }
  async erase(objectId: Uint8Array): Promise<void> {
    await call(await this.pool.get(this.address), { t: 'delete', objectId }, 'ok');
  }
  async summaryDigests(zones: string[]): Promise<ZoneSummaryDigest[]> {
    return (await call(await this.pool.get(this.address), { t: 'summary_digest', zones }, 'summary_digest_result', 10_000)).digests;
  }
  async summaryPage(zone: string, buckets: number[], after: Uint8Array | undefined, limit: number): Promise<{ entries: SummaryEntry[]; next?: Uint8Array }> {
    const r = await call(await this.pool.get(this.address), { t: 'summary', zone, buckets, limit, ...(after ? { after } : {}) }, 'summary_page', 15_000);
    return { entries: r.entries, ...(r.next ? { next: r.next } : {}) };
  }
  async listManifests(zone: string): Promise<Manifest[]> {
    return (await call(await this.pool.get(this.address), { t: 'list', zone }, 'list_result', 30_000)).manifests;
  }
  async putRef(ref: RefRecord): Promise<void> {
    await call(await this.pool.get(this.address), { t: 'ref_put', ref }, 'ok', 10_000);
  }
  async listRefs(zone: string): Promise<RefRecord[]> {
    return (await call(await this.pool.get(this.address), { t: 'ref_list', zone }, 'ref_list_result', 10_000)).refs;
  }
  async putTombstones(tombstones: Tombstone[]): Promise<void> {
    const conn = await this.pool.get(this.address);
    for (let i = 0; i < tombstones.length; i += MAX_TOMBSTONES) {
      await call(conn, { t: 'tomb_put', tombstones: tombstones.slice(i, i + MAX_TOMBSTONES) }, 'ok', 10_000);
    }
  }
  async listTombstones(zone: string): Promise<Tombstone[]> {
    return (await call(await this.pool.get(this.address), { t: 'tomb_list', zone }, 'tomb_list_result', 3_000)).tombstones;
  }
}
