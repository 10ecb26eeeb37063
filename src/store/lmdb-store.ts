// Durable symbol store on LMDB. Three named databases in one environment:
//   symbols:   ObjectId||SBN||ESI -> sealed envelope bytes
//   manifests: ObjectId -> manifest (CBOR)
//   meta:      "usage" -> [symbols, bytes], updated in the same transactions as the symbols
// Writes resolve only after LMDB reports them flushed to disk (lmdb-js resolves a write promise
// at commit when overlappingSync is on, its Linux default, so we also await `flushed`).
import { open, type Database, type RootDatabase } from 'lmdb';
import { StoreError } from './errors.js';
import { objectRange, positionOfKey, symbolKey } from './keys.js';
import { decodeManifest, encodeManifest } from './manifest-codec.js';
import {
  bytesEqual,
  checkEntries,
  checkLimit,
  checkManifest,
  checkObjectId,
  checkPositions,
  checkQuota,
  dedupeEntries,
} from './validate.js';
import type { Manifest, StoreOptions, StoreUsage, SymbolEntry, SymbolPosition, SymbolStore } from './types.js';

type Usage = [symbols: number, bytes: number];
const USAGE_KEY = 'usage';

function asBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export class LmdbSymbolStore implements SymbolStore {
  private readonly root: RootDatabase;
  private readonly symbols: Database<Uint8Array, Buffer>;
  private readonly manifests: Database<Uint8Array, Buffer>;
  private readonly meta: Database<Usage, string>;
  private readonly quotaBytes: number | null;
  private closed = false;

  private constructor(root: RootDatabase, quotaBytes: number | null) {
    this.root = root;
    this.quotaBytes = quotaBytes;
    this.symbols = root.openDB<Uint8Array, Buffer>('symbols', { encoding: 'binary', keyEncoding: 'binary', compression: false });
    this.manifests = root.openDB<Uint8Array, Buffer>('manifests', { encoding: 'binary', keyEncoding: 'binary', compression: false });
    this.meta = root.openDB<Usage, string>('meta', { encoding: 'msgpack' });
  }

  /** Opens (creating if needed) the store in directory `dir`. */
  static async open(dir: string, opts: StoreOptions = {}): Promise<LmdbSymbolStore> {
    const quota = checkQuota(opts.quotaBytes);
    const root = open({ path: dir, maxDbs: 4, noSync: false, compression: false });
    return new LmdbSymbolStore(root, quota);
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('STORE_CLOSED', 'the symbol store is closed');
  }

  private readUsage(): Usage {
    return this.meta.get(USAGE_KEY) ?? [0, 0];
  }

  /** Waits until everything committed so far is on disk. */
  private async durable(): Promise<void> {
    await this.root.flushed;
  }

  async putSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    const batch = dedupeEntries(checkEntries(entries));
    if (batch.length === 0) return;
    // The callback runs inside the write transaction, after earlier queued batches: reads see
    // their writes, so the quota check and the usage counter stay exact under concurrency.
    const outcome = await this.root.transaction(() => {
      const [symbols, bytes] = this.readUsage();
      let addSymbols = 0;
      let addBytes = 0;
      const writes: Array<[Buffer, Uint8Array]> = [];
      for (const e of batch) {
        const key = symbolKey(objectId, e.sbn, e.esi);
        const existing = this.symbols.getBinary(key);
        if (existing && bytesEqual(existing, e.env)) continue;
        // A stored symbol is never replaced by other bytes: that is how a hostile or confused
        // writer would erase an object one position at a time.
        if (existing) return { ok: false as const, need: 0, conflict: e as SymbolEntry | null };
        addBytes += e.env.length;
        addSymbols++;
        writes.push([key, e.env]);
      }
      if (this.quotaBytes !== null && addBytes > 0 && bytes + addBytes > this.quotaBytes) {
        return { ok: false as const, need: bytes + addBytes, conflict: null };
      }
      for (const [key, env] of writes) this.symbols.put(key, env);
      if (writes.length > 0) this.meta.put(USAGE_KEY, [symbols + addSymbols, bytes + addBytes]);
      return { ok: true as const, need: 0, conflict: null };
    });
    if (!outcome.ok && outcome.conflict) {
      throw new StoreError('STORE_CONFLICT', `symbol (${outcome.conflict.sbn}, ${outcome.conflict.esi}) is already stored with other bytes; nothing of the batch was written`);
    }
    if (!outcome.ok) {
      throw new StoreError(
        'STORE_QUOTA',
        `storing this batch would use ${outcome.need} bytes, above the quota of ${this.quotaBytes}; free space or raise the quota`,
      );
    }
    await this.durable();
  }

  async getSymbols(objectId: Uint8Array, want?: SymbolPosition[], limit?: number): Promise<SymbolEntry[]> {
    this.ensureOpen();
    checkObjectId(objectId);
    const max = checkLimit(limit);
    const out: SymbolEntry[] = [];
    if (want !== undefined) {
      for (const [sbn, esi] of checkPositions(want)) {
        if (out.length >= max) break;
        const env = this.symbols.getBinary(symbolKey(objectId, sbn, esi));
        if (env) out.push({ sbn, esi, env: asBytes(env) });
      }
      return out;
    }
    if (max === 0) return out;
    const range = objectRange(objectId);
    const options = Number.isFinite(max) ? { ...range, limit: max } : range;
    for (const { key, value } of this.symbols.getRange(options)) {
      const [sbn, esi] = positionOfKey(key);
      out.push({ sbn, esi, env: asBytes(value) });
    }
    return out;
  }

  symbolKeys(objectId: Uint8Array): SymbolPosition[] {
    this.ensureOpen();
    checkObjectId(objectId);
    const out: SymbolPosition[] = [];
    for (const key of this.symbols.getKeys(objectRange(objectId))) out.push(positionOfKey(key));
    return out;
  }

  async putManifest(m: Manifest): Promise<void> {
    this.ensureOpen();
    checkManifest(m);
    await this.manifests.put(Buffer.from(m.objectId), Buffer.from(encodeManifest(m)));
    await this.durable();
  }

  getManifest(objectId: Uint8Array): Manifest | undefined {
    this.ensureOpen();
    checkObjectId(objectId);
    const raw = this.manifests.getBinary(Buffer.from(objectId));
    return raw ? decodeManifest(raw) : undefined;
  }

  listManifests(zone?: string): Manifest[] {
    this.ensureOpen();
    const out: Manifest[] = [];
    for (const { value } of this.manifests.getRange({})) {
      const m = decodeManifest(value);
      if (zone === undefined || m.zone === zone) out.push(m);
    }
    return out;
  }

  async deleteSymbols(objectId: Uint8Array, positions: SymbolPosition[]): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    const doomed = checkPositions(positions);
    if (doomed.length === 0) return;
    await this.root.transaction(() => {
      const [symbols, bytes] = this.readUsage();
      let removedSymbols = 0;
      let removedBytes = 0;
      for (const [sbn, esi] of doomed) {
        const key = symbolKey(objectId, sbn, esi);
        const existing = this.symbols.getBinary(key);
        if (!existing) continue;
        removedSymbols++;
        removedBytes += existing.length;
        this.symbols.remove(key);
      }
      if (removedSymbols > 0) this.meta.put(USAGE_KEY, [symbols - removedSymbols, bytes - removedBytes]);
    });
    await this.durable();
  }

  async deleteObject(objectId: Uint8Array): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    await this.root.transaction(() => {
      const [symbols, bytes] = this.readUsage();
      let removedSymbols = 0;
      let removedBytes = 0;
      // Collect first, then remove: never mutate the tree under a running range cursor.
      const doomed: Buffer[] = [];
      for (const { key, value } of this.symbols.getRange(objectRange(objectId))) {
        removedSymbols++;
        removedBytes += value.length;
        doomed.push(key);
      }
      for (const key of doomed) this.symbols.remove(key);
      this.manifests.remove(Buffer.from(objectId));
      if (removedSymbols > 0) this.meta.put(USAGE_KEY, [symbols - removedSymbols, bytes - removedBytes]);
    });
    await this.durable();
  }

  usage(): StoreUsage {
    this.ensureOpen();
    const [symbols, bytes] = this.readUsage();
    return { symbols, bytes, quotaBytes: this.quotaBytes };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.close();
  }
}
