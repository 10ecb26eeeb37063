// Memory-only symbol store with the same contract as the LMDB store (tests, ephemeral nodes).
import { StoreError } from './errors.js';
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

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const positionKey = (sbn: number, esi: number) => sbn * 0x1000000 + esi;
const copy = (b: Uint8Array) => Uint8Array.from(b);

function cloneManifest(m: Manifest): Manifest {
  return { ...m, objectId: copy(m.objectId), oti: copy(m.oti), keyId: copy(m.keyId), placement: { ...m.placement } };
}

export class MemorySymbolStore implements SymbolStore {
  private readonly objects = new Map<string, Map<number, Uint8Array>>();
  private readonly manifests = new Map<string, Manifest>();
  private readonly quotaBytes: number | null;
  private symbolCount = 0;
  private byteCount = 0;
  private closed = false;

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
    this.objects.set(hexOf(objectId), target);
    this.symbolCount += addSymbols;
    this.byteCount += addBytes;
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
      out.push({ sbn: Math.floor(key / 0x1000000), esi: key % 0x1000000, env: copy(held.get(key)!) });
    }
    return out;
  }

  symbolKeys(objectId: Uint8Array): SymbolPosition[] {
    this.ensureOpen();
    checkObjectId(objectId);
    const held = this.objects.get(hexOf(objectId));
    if (!held) return [];
    return [...held.keys()].sort((a, b) => a - b).map((k) => [Math.floor(k / 0x1000000), k % 0x1000000]);
  }

  async putManifest(m: Manifest): Promise<void> {
    this.ensureOpen();
    checkManifest(m);
    this.manifests.set(hexOf(m.objectId), cloneManifest(m));
  }

  getManifest(objectId: Uint8Array): Manifest | undefined {
    this.ensureOpen();
    checkObjectId(objectId);
    const m = this.manifests.get(hexOf(objectId));
    return m ? cloneManifest(m) : undefined;
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
  }

  usage(): StoreUsage {
    this.ensureOpen();
    return { symbols: this.symbolCount, bytes: this.byteCount, quotaBytes: this.quotaBytes };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
