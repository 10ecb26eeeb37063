// Durable symbol store on LMDB. Four named databases in one environment:
//   symbols:   ObjectId||SBN||ESI -> sealed envelope bytes
//   manifests: ObjectId -> manifest (CBOR)
//   meta:      "usage" -> [symbols, bytes], updated in the same transactions as the symbols
//   orphans:   ObjectId -> wall ms when symbols of it came without a manifest
//   holdings:  ObjectId -> [zone | null, symbols per block, bytes], updated with the symbols; the
//              in-memory summary peers compare (holdings.ts) is loaded from it at open, and
//              rebuilt from the symbols once for a store made before it existed
// Writes resolve only after LMDB reports them flushed to disk (commits are synchronous with
// overlappingSync off; `flushed` is awaited as well so that stays true if options change).
//
// Failure handling: the data file is checked before LMDB maps it (data-file-check.ts) and a
// damaged store is moved aside; a full disk or I/O error fails only the batch (lmdb-errors.ts);
// the directory is checked before each write (dir-identity.ts); MDB corruption codes on reads
// become STORE_CORRUPT and `startFresh` replaces the store while the process runs.
import { open, type Database, type RootDatabase, type RootDatabaseOptionsWithPath } from 'lmdb';
import { chmodSync, mkdirSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { checkDataFile } from './data-file-check.js';
import { changedSince, identify, type DirIdentity } from './dir-identity.js';
import { StoreError } from './errors.js';
import { objectRange, positionOfKey, symbolKey } from './keys.js';
import { corruptError, corruptionName, writeError } from './lmdb-errors.js';
import { decodeManifest, encodeManifest } from './manifest-codec.js';
import { HoldingsIndex, type HoldingRecord, type HoldingsPage, type ZoneHoldings } from './holdings.js';
import { freshStartMessage, moveAside } from './quarantine.js';
import { verifyStoreFiles, type VerifyReport } from './verify.js';
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
import { checkRef, checkTombstone, decodeRef, decodeTombstone, encodeRecord, refKey, refReplaces, tombstoneReplaces } from './records.js';
import type {
  FreshStart,
  Manifest,
  OrphanCandidate,
  OrphanReport,
  StoreHealth,
  StoreOptions,
  StoreState,
  StoreUsage,
  SymbolEntry,
  SymbolPosition,
  SymbolStore,
  RefRecord,
  Tombstone,
} from './types.js';

type Usage = [symbols: number, bytes: number];
type StoredHolding = [zone: string | null, counts: number[], bytes: number];
const USAGE_KEY = 'usage';
/** Set once the holdings tree is complete (stores made before it get it rebuilt at open). */
const HOLDINGS_KEY = 'holdings-v1';
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
// Room a new store needs (meta pages, lock file, first commits) before LMDB may touch it.
const ROOM_TO_CREATE = 1 << 20;
const DEFAULT_VERIFY_MS = 5 * 60_000;
const noop = () => undefined;

interface Env {
  root: RootDatabase;
  symbols: Database<Uint8Array, Buffer>;
  manifests: Database<Uint8Array, Buffer>;
  meta: Database<Usage | number, string>;
  orphans: Database<number, Buffer>;
  holdings: Database<StoredHolding, Buffer>;
  /** zone NUL device -> canonical CBOR RefRecord */
  refs: Database<Uint8Array, string>;
  /** ObjectId -> canonical CBOR Tombstone */
  tombstones: Database<Uint8Array, Buffer>;
}

function asBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Opens the environment at `dir` (creating it) and touches every tree once. */
function openEnv(dir: string): Env {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  checkRoomToCreate(dir);
  const options: RootDatabaseOptionsWithPath & { permissionsMode: number } = {
    path: dir,
    // lmdb-js takes a path with a dot in its last part for a file; ours is always a directory.
    noSubdir: false,
    maxDbs: 8,
    noSync: false,
    compression: false,
    // Only new stores: with 4 KiB pages two ~1.3 KiB symbols fit a leaf and random ObjectIds
    // leave leaves half full, about 3 bytes on disk per stored byte; 8 KiB gives about 1.5.
    pageSize: 8192,
    // With event-turn batching lmdb-js keeps a commit promise of its own that nobody awaits:
    // a failed commit (disk full) would reject it unhandled and end the process.
    eventTurnBatching: false,
    // With overlapping sync a failed commit leaves lmdb-js's flush promise pending for good,
    // and close() waits on it forever (the daemon hung on stop after a full disk).
    overlappingSync: false,
    permissionsMode: FILE_MODE,
  };
  const root = open(options);
  try {
    const env: Env = {
      root,
      symbols: root.openDB<Uint8Array, Buffer>('symbols', { encoding: 'binary', keyEncoding: 'binary', compression: false }),
      manifests: root.openDB<Uint8Array, Buffer>('manifests', { encoding: 'binary', keyEncoding: 'binary', compression: false }),
      meta: root.openDB<Usage | number, string>('meta', { encoding: 'msgpack' }),
      orphans: root.openDB<number, Buffer>('orphans', { encoding: 'msgpack', keyEncoding: 'binary' }),
      holdings: root.openDB<StoredHolding, Buffer>('holdings', { encoding: 'msgpack', keyEncoding: 'binary' }),
      refs: root.openDB<Uint8Array, string>('refs', { encoding: 'binary', compression: false }),
      tombstones: root.openDB<Uint8Array, Buffer>('tombstones', { encoding: 'binary', keyEncoding: 'binary', compression: false }),
    };
    env.meta.get(USAGE_KEY);
    // Files made by older versions or under another umask may be wider than 0600.
    for (const f of ['data.mdb', 'lock.mdb']) chmodSync(join(dir, f), FILE_MODE);
    chmodSync(dir, DIR_MODE);
    return env;
  } catch (err) {
    root.close().catch(noop);
    throw err;
  }
}

/**
 * LMDB creating a store on a full disk faults (SIGBUS/SIGSEGV) instead of failing: it maps
 * files it could not write. Refuse up front when there is no room for a new store.
 */
function checkRoomToCreate(dir: string): void {
  const data = statSync(join(dir, 'data.mdb'), { throwIfNoEntry: false });
  if (data && data.size > 0) return;
  let free: number;
  try {
    const fs = statfsSync(dir);
    free = fs.bavail * fs.bsize;
  } catch {
    return; // no statfs here: let LMDB try
  }
  if (free < ROOM_TO_CREATE) {
    throw new StoreError('STORE_FULL', `cannot create a store in ${dir}: only ${free} bytes free on its disk; free space and start again`, { path: dir });
  }
}

function openFailure(dir: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  if (corruptionName(err)) return corruptError(join(dir, 'data.mdb'), err);
  return new StoreError('STORE_IO', `cannot open the store at ${dir}: ${(err as Error).message}`, { path: dir, cause: err });
}

export class LmdbSymbolStore implements SymbolStore {
  private env: Env;
  private identity: DirIdentity;
  private readonly dir: string;
  private readonly dataFile: string;
  private readonly quotaBytes: number | null;
  private closed = false;
  private state: StoreState = 'ok';
  private detail: string | null = null;
  private since = Date.now();
  private fresh: FreshStart | null;
  /** Settles when the running write does (never rejects); a swap waits for all of them. */
  private readonly inflight = new Set<Promise<void>>();
  private swapping: Promise<FreshStart> | null = null;
  private lastUsage: Usage = [0, 0];
  private readonly holdings = new HoldingsIndex();

  private constructor(dir: string, env: Env, quotaBytes: number | null, fresh: FreshStart | null) {
    this.dir = dir;
    this.dataFile = join(dir, 'data.mdb');
    this.env = env;
    this.identity = identify(dir);
    this.quotaBytes = quotaBytes;
    this.fresh = fresh;
  }

  /**
   * Opens (creating if needed) the store in directory `dir`. A damaged store (data file failing
   * its header check, or LMDB refusing it as corrupt) is moved to `<dir>.corrupt-<timestamp>`
   * and an empty one opened in its place; `health().startedFresh` then says so.
   */
  static async open(dir: string, opts: StoreOptions = {}): Promise<LmdbSymbolStore> {
    const quota = checkQuota(opts.quotaBytes);
    let fresh: FreshStart | null = null;
    const quarantine = (reason: string): FreshStart => {
      const at = Date.now();
      let movedTo: string | null;
      try {
        movedTo = moveAside(dir, at);
      } catch (err) {
        throw new StoreError('STORE_CORRUPT', `the store at ${dir} is damaged (${reason}) and could not be moved aside: ${(err as Error).message}`, {
          path: join(dir, 'data.mdb'),
          cause: err,
        });
      }
      return { dir, movedTo, reason, at, message: freshStartMessage(dir, movedTo, reason) };
    };
    const verdict = checkDataFile(join(dir, 'data.mdb'));
    if (!verdict.ok) fresh = quarantine(verdict.reason);
    let env: Env;
    try {
      env = openEnv(dir);
    } catch (err) {
      const name = corruptionName(err);
      if (!name || fresh) throw openFailure(dir, err);
      fresh = quarantine(`LMDB refused it: ${name}`);
      try {
        env = openEnv(dir);
      } catch (again) {
        throw openFailure(dir, again);
      }
    }
    const store = new LmdbSymbolStore(dir, env, quota, fresh);
    try {
      store.loadHoldings();
    } catch (err) {
      await env.root.close().catch(noop);
      throw openFailure(dir, err);
    }
    return store;
  }

  /**
   * Loads the holdings summary from its tree; a store without the tree (made by an older
   * version) gets it built from the symbols and manifests first, in one transaction.
   */
  private loadHoldings(): void {
    const env = this.env;
    if (env.meta.get(HOLDINGS_KEY) === undefined) {
      env.root.transactionSync(() => {
        const built = new Map<string, StoredHolding>();
        for (const { key, value } of env.symbols.getRange({})) {
          const hex = Buffer.from(key.subarray(0, 32)).toString('hex');
          const rec = built.get(hex) ?? [null, [], 0];
          const [sbn] = positionOfKey(key);
          while (rec[1].length <= sbn) rec[1].push(0);
          rec[1][sbn]!++;
          rec[2] += value.length;
          built.set(hex, rec);
        }
        for (const { key, value } of env.manifests.getRange({})) {
          const rec = built.get(Buffer.from(key).toString('hex'));
          if (!rec) continue;
          try {
            rec[0] = decodeManifest(value).zone;
          } catch {
            // an undecodable manifest lists nothing (as listManifests)
          }
        }
        for (const [hex, rec] of built) env.holdings.put(Buffer.from(hex, 'hex'), rec);
        env.meta.put(HOLDINGS_KEY, 1);
      });
    }
    this.holdings.clear();
    for (const { key, value } of env.holdings.getRange({})) this.holdings.set(key, toRecord(value));
  }

  /** Changes one object's persisted holding inside a write transaction. */
  private bumpHolding(env: Env, idKey: Buffer, perBlock: Map<number, number>, bytes: number): void {
    const rec: StoredHolding = env.holdings.get(idKey) ?? [this.zoneOfManifest(env, idKey), [], 0];
    for (const [sbn, n] of perBlock) {
      while (rec[1].length <= sbn) rec[1].push(0);
      rec[1][sbn] = Math.max(0, rec[1][sbn]! + n);
    }
    rec[2] = Math.max(0, rec[2] + bytes);
    env.holdings.put(idKey, rec);
  }

  private zoneOfManifest(env: Env, idKey: Buffer): string | null {
    const raw = env.manifests.getBinary(idKey);
    if (!raw) return null;
    try {
      return decodeManifest(raw).zone;
    } catch {
      return null;
    }
  }

  /** After a committed write: the in-memory summary takes the object's record as now stored. */
  private refreshHolding(objectId: Uint8Array): void {
    const rec = this.read((env) => env.holdings.get(Buffer.from(objectId)));
    this.holdings.set(objectId, rec ? toRecord(rec) : undefined);
  }

  holdingsDigest(zone: string): ZoneHoldings {
    this.ensureOpen();
    return this.holdings.digest(zone);
  }

  holdingsPage(zone: string, buckets: readonly number[], after: Uint8Array | undefined, limit: number): HoldingsPage {
    this.ensureOpen();
    return this.holdings.page(zone, buckets, after, limit);
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreError('STORE_CLOSED', 'the symbol store is closed');
  }

  private setState(state: StoreState, detail: string | null): void {
    if (state !== this.state || detail !== this.detail) this.since = Date.now();
    this.state = state;
    this.detail = detail;
  }

  /** Runs a read, turning MDB corruption codes into STORE_CORRUPT (and the store's state). */
  private read<T>(fn: (env: Env) => T): T {
    this.ensureOpen();
    // Damaged pages can fault LMDB (SIGSEGV) rather than fail: no more reads until startFresh.
    if (this.state === 'corrupt') {
      throw new StoreError('STORE_CORRUPT', `the store at ${this.dir} is damaged (${this.detail}); reads are refused until startFresh`, { path: this.dataFile });
    }
    try {
      return fn(this.env);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if (corruptionName(err)) {
        const e = corruptError(this.dataFile, err);
        this.setState('corrupt', e.message);
        throw e;
      }
      throw new StoreError('STORE_IO', `reading the store at ${this.dir} failed: ${(err as Error).message}`, { path: this.dir, cause: err });
    }
  }

  /** Refuses writes the store cannot honour: a deleted/replaced directory, known damage. */
  private checkWritable(): void {
    if (this.state === 'ok' || this.state === 'full') {
      const changed = changedSince(this.identity);
      if (changed) this.setState('gone', `${changed}; writes are refused (they would land in a deleted file)`);
    }
    if (this.state === 'gone') {
      throw new StoreError('STORE_GONE', `the store directory ${this.dir} is gone: ${this.detail}`, { path: this.dir });
    }
    if (this.state === 'corrupt') {
      throw new StoreError('STORE_CORRUPT', `the store at ${this.dir} is damaged (${this.detail}); writes are refused until startFresh`, { path: this.dataFile });
    }
  }

  /**
   * One write transaction of about `batchBytes` bytes, durable when it resolves. The callback
   * runs in an abortable child transaction, so a throw inside it leaves nothing behind.
   */
  private async write<T>(batchBytes: number, fn: (env: Env) => T): Promise<T> {
    this.ensureOpen();
    while (this.swapping) await this.swapping.catch(noop);
    this.ensureOpen();
    this.checkWritable();
    const env = this.env;
    const run = (async () => {
      try {
        const result = await env.root.childTransaction(() => fn(env));
        await env.root.flushed;
        if (this.state === 'full') this.setState('ok', null);
        return result;
      } catch (err) {
        const e = await writeError(err, this.dir, this.dataFile, batchBytes);
        if (e.code === 'STORE_FULL') this.setState('full', e.message);
        if (e.code === 'STORE_CORRUPT') this.setState('corrupt', e.message);
        throw e;
      }
    })();
    const settled = run.then(noop, noop);
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return run;
  }

  private readUsage(env: Env): Usage {
    const u = env.meta.get(USAGE_KEY);
    return Array.isArray(u) ? u : [0, 0];
  }

  async putSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    const batch = dedupeEntries(checkEntries(entries));
    if (batch.length === 0) return;
    const batchBytes = batch.reduce((n, e) => n + e.env.length, 0);
    const idKey = Buffer.from(objectId);
    // The callback runs inside the write transaction, after earlier queued batches: reads see
    // their writes, so the quota check and the usage counter stay exact under concurrency.
    const outcome = await this.write(batchBytes, (env) => {
      const [symbols, bytes] = this.readUsage(env);
      let addSymbols = 0;
      let addBytes = 0;
      const writes: Array<[Buffer, Uint8Array]> = [];
      for (const e of batch) {
        const key = symbolKey(objectId, e.sbn, e.esi);
        const existing = env.symbols.getBinary(key);
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
      for (const [key, env2] of writes) env.symbols.put(key, env2);
      if (writes.length > 0) {
        env.meta.put(USAGE_KEY, [symbols + addSymbols, bytes + addBytes]);
        const perBlock = new Map<number, number>();
        for (const [key] of writes) perBlock.set(key[32]!, (perBlock.get(key[32]!) ?? 0) + 1);
        this.bumpHolding(env, idKey, perBlock, addBytes);
        // Symbols before their manifest are normal during a store; remember when it began.
        if (!env.manifests.doesExist(idKey) && env.orphans.get(idKey) === undefined) env.orphans.put(idKey, Date.now());
      }
      return { ok: true as const, need: 0, conflict: null };
    });
    if (outcome.ok) this.refreshHolding(objectId);
    if (!outcome.ok && outcome.conflict) {
      throw new StoreError('STORE_CONFLICT', `symbol (${outcome.conflict.sbn}, ${outcome.conflict.esi}) is already stored with other bytes; nothing of the batch was written`);
    }
    if (!outcome.ok) {
      throw new StoreError(
        'STORE_QUOTA',
        `storing this batch would use ${outcome.need} bytes, above the quota of ${this.quotaBytes}; free space or raise the quota`,
      );
    }
  }

  async resealSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<number> {
    this.ensureOpen();
    checkObjectId(objectId);
    const batch = dedupeEntries(checkEntries(entries));
    if (batch.length === 0) return 0;
    const outcome = await this.write(batch.reduce((n, e) => n + e.env.length, 0), (env) => {
      const writes: Array<[Buffer, Uint8Array]> = [];
      for (const e of batch) {
        const key = symbolKey(objectId, e.sbn, e.esi);
        const existing = env.symbols.getBinary(key);
        if (!existing) continue;
        if (existing.length !== e.env.length) return { ok: false as const, e };
        writes.push([key, e.env]);
      }
      for (const [key, value] of writes) env.symbols.put(key, value);
      return { ok: true as const, n: writes.length };
    });
    if (!outcome.ok) throw new StoreError('STORE_CONFLICT', `a re-sealed symbol (${outcome.e.sbn}, ${outcome.e.esi}) must keep its length`);
    return outcome.n;
  }

  async getSymbols(objectId: Uint8Array, want?: SymbolPosition[], limit?: number): Promise<SymbolEntry[]> {
    this.ensureOpen();
    checkObjectId(objectId);
    const max = checkLimit(limit);
    const positions = want === undefined ? undefined : checkPositions(want);
    return this.read((env) => {
      const out: SymbolEntry[] = [];
      if (positions !== undefined) {
        for (const [sbn, esi] of positions) {
          if (out.length >= max) break;
          const value = env.symbols.getBinary(symbolKey(objectId, sbn, esi));
          if (value) out.push({ sbn, esi, env: asBytes(value) });
        }
        return out;
      }
      if (max === 0) return out;
      const range = objectRange(objectId);
      const options = Number.isFinite(max) ? { ...range, limit: max } : range;
      for (const { key, value } of env.symbols.getRange(options)) {
        const [sbn, esi] = positionOfKey(key);
        out.push({ sbn, esi, env: asBytes(value) });
      }
      return out;
    });
  }

  symbolKeys(objectId: Uint8Array): SymbolPosition[] {
    this.ensureOpen();
    checkObjectId(objectId);
    return this.read((env) => {
      const out: SymbolPosition[] = [];
      for (const key of env.symbols.getKeys(objectRange(objectId))) out.push(positionOfKey(key));
      return out;
    });
  }

  async putManifest(m: Manifest): Promise<void> {
    this.ensureOpen();
    checkManifest(m);
    const idKey = Buffer.from(m.objectId);
    const value = Buffer.from(encodeManifest(m));
    await this.write(value.length, (env) => {
      env.manifests.put(idKey, value);
      env.orphans.remove(idKey);
      const rec = env.holdings.get(idKey);
      if (rec && rec[0] !== m.zone) env.holdings.put(idKey, [m.zone, rec[1], rec[2]]);
    });
    this.refreshHolding(m.objectId);
  }

  getManifest(objectId: Uint8Array): Manifest | undefined {
    this.ensureOpen();
    checkObjectId(objectId);
    const raw = this.read((env) => env.manifests.getBinary(Buffer.from(objectId)));
    return raw ? decodeManifest(raw) : undefined;
  }

  listManifests(zone?: string): Manifest[] {
    return this.read((env) => {
      const out: Manifest[] = [];
      for (const { value } of env.manifests.getRange({})) {
        // One damaged value must not hide every other object from repair and status: skip it
        // (getManifest still reports it; a manifest_put from a peer replaces it).
        let m: Manifest;
        try {
          m = decodeManifest(value);
        } catch {
          continue;
        }
        if (zone === undefined || m.zone === zone) out.push(m);
      }
      return out;
    });
  }

  async deleteSymbols(objectId: Uint8Array, positions: SymbolPosition[]): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    const doomed = checkPositions(positions);
    if (doomed.length === 0) return;
    await this.write(0, (env) => {
      const [symbols, bytes] = this.readUsage(env);
      let removedSymbols = 0;
      let removedBytes = 0;
      const perBlock = new Map<number, number>();
      for (const [sbn, esi] of doomed) {
        const key = symbolKey(objectId, sbn, esi);
        const existing = env.symbols.getBinary(key);
        if (!existing) continue;
        removedSymbols++;
        removedBytes += existing.length;
        perBlock.set(sbn, (perBlock.get(sbn) ?? 0) - 1);
        env.symbols.remove(key);
      }
      if (removedSymbols > 0) {
        env.meta.put(USAGE_KEY, [symbols - removedSymbols, bytes - removedBytes]);
        this.bumpHolding(env, Buffer.from(objectId), perBlock, -removedBytes);
      }
    });
    this.refreshHolding(objectId);
  }

  /** Removes every symbol of `objectId` inside a write transaction; returns [symbols, bytes]. */
  private removeAllSymbols(env: Env, objectId: Uint8Array): [number, number] {
    let removedSymbols = 0;
    let removedBytes = 0;
    // Collect first, then remove: never mutate the tree under a running range cursor.
    const doomed: Buffer[] = [];
    for (const { key, value } of env.symbols.getRange(objectRange(objectId))) {
      removedSymbols++;
      removedBytes += value.length;
      doomed.push(key);
    }
    for (const key of doomed) env.symbols.remove(key);
    env.holdings.remove(Buffer.from(objectId));
    return [removedSymbols, removedBytes];
  }

  async deleteObject(objectId: Uint8Array): Promise<void> {
    this.ensureOpen();
    checkObjectId(objectId);
    const idKey = Buffer.from(objectId);
    await this.write(0, (env) => {
      const [symbols, bytes] = this.readUsage(env);
      const [removedSymbols, removedBytes] = this.removeAllSymbols(env, objectId);
      env.manifests.remove(idKey);
      env.orphans.remove(idKey);
      if (removedSymbols > 0) env.meta.put(USAGE_KEY, [symbols - removedSymbols, bytes - removedBytes]);
    });
    this.refreshHolding(objectId);
  }

  listOrphans(olderThanMs: number, now: number, maxObjects = 1000): OrphanCandidate[] {
    checkOrphanArgs(olderThanMs, now, maxObjects);
    return this.read((env) => {
      const out: OrphanCandidate[] = [];
      for (const { key, value } of env.orphans.getRange({})) {
        if (out.length >= maxObjects) break;
        if (now - value < olderThanMs || env.manifests.doesExist(key)) continue;
        const objectId = Uint8Array.from(key);
        const symbols = env.symbols.getKeysCount(objectRange(objectId));
        if (symbols > 0) out.push({ objectId, firstSeen: value, symbols });
      }
      return out;
    });
  }

  async collectOrphans(olderThanMs: number, now: number, maxObjects = 1000): Promise<OrphanReport> {
    this.ensureOpen();
    checkOrphanArgs(olderThanMs, now, maxObjects);
    const report = await this.write(0, (env) => {
      const report: OrphanReport = { objects: [], symbols: 0, bytes: 0, more: false };
      const settled: Buffer[] = [];
      const due: Array<[Buffer, number]> = [];
      for (const { key, value } of env.orphans.getRange({})) {
        if (env.manifests.doesExist(key)) settled.push(key);
        else if (now - value >= olderThanMs) {
          if (due.length >= maxObjects) {
            report.more = true;
            break;
          }
          due.push([key, value]);
        }
      }
      for (const key of settled) env.orphans.remove(key);
      for (const [key, firstSeen] of due) {
        const objectId = Uint8Array.from(key);
        const [symbols, bytes] = this.removeAllSymbols(env, objectId);
        env.orphans.remove(key);
        if (symbols === 0) continue;
        report.objects.push({ objectId, symbols, bytes, firstSeen });
        report.symbols += symbols;
        report.bytes += bytes;
      }
      if (report.symbols > 0) {
        const [symbols, bytes] = this.readUsage(env);
        env.meta.put(USAGE_KEY, [symbols - report.symbols, bytes - report.bytes]);
      }
      return report;
    });
    for (const o of report.objects) this.refreshHolding(o.objectId);
    return report;
  }

  usage(): StoreUsage {
    this.ensureOpen();
    // Status must keep working on a damaged store: it then shows the last counters read.
    if (this.state !== 'corrupt') this.lastUsage = this.read((env) => this.readUsage(env));
    const [symbols, bytes] = this.lastUsage;
    return { symbols, bytes, quotaBytes: this.quotaBytes };
  }

  health(): StoreHealth {
    if (this.closed) return { state: 'closed', dir: this.dir, detail: 'the store is closed', since: this.since, startedFresh: this.fresh };
    if (this.state === 'ok' || this.state === 'full') {
      const changed = changedSince(this.identity);
      if (changed) this.setState('gone', `${changed}; writes are refused (they would land in a deleted file)`);
    }
    return { state: this.state, dir: this.dir, detail: this.detail, since: this.since, startedFresh: this.fresh };
  }

  async verify(timeoutMs = DEFAULT_VERIFY_MS): Promise<VerifyReport> {
    this.ensureOpen();
    checkTimeout(timeoutMs);
    const report = await verifyStoreFiles(this.dir, timeoutMs);
    if (!report.ok && report.damaged && this.state !== 'gone') this.setState('corrupt', report.reason);
    return report;
  }

  async startFresh(reason: string): Promise<FreshStart> {
    this.ensureOpen();
    checkReason(reason);
    this.swapping ??= this.swap(reason).finally(() => {
      this.swapping = null;
    });
    return this.swapping;
  }

  private async swap(reason: string): Promise<FreshStart> {
    await Promise.all(this.inflight);
    const old = this.env;
    const at = Date.now();
    let movedTo: string | null;
    try {
      // Renaming while the old environment is open is safe: its open files move with the
      // directory. Rename and reopen happen in one synchronous step, so no read sees a gap.
      movedTo = moveAside(this.dir, at);
      this.env = openEnv(this.dir);
      this.identity = identify(this.dir);
      this.loadHoldings();
    } catch (err) {
      throw openFailure(this.dir, err);
    }
    const fresh: FreshStart = { dir: this.dir, movedTo, reason, at, message: freshStartMessage(this.dir, movedTo, reason) };
    this.fresh = fresh;
    this.lastUsage = [0, 0];
    this.setState('ok', null);
    await old.root.close().catch(noop);
    return fresh;
  }

  async putRef(ref: RefRecord): Promise<boolean> {
    this.ensureOpen();
    checkRef(ref);
    const key = refKey(ref.zone, ref.device);
    // Most offers repeat what is held (every read pulls every head): no write transaction then.
    const held = this.listRefs(ref.zone).find((r) => r.device === ref.device);
    if (held && !refReplaces(ref, held)) return false;
    const value = encodeRecord(ref);
    return this.write(value.length, (env) => {
      const raw = env.refs.getBinary(key);
      let stored: RefRecord | undefined;
      try {
        stored = raw ? decodeRef(raw) : undefined;
      } catch {
        stored = undefined; // a damaged record is replaced
      }
      if (!refReplaces(ref, stored)) return false;
      env.refs.put(key, value);
      return true;
    });
  }

  listRefs(zone?: string): RefRecord[] {
    return this.read((env) => {
      const out: RefRecord[] = [];
      const range = zone === undefined ? {} : { start: `${zone}\0`, end: `${zone}\u0001` };
      for (const { value } of env.refs.getRange(range)) {
        try {
          const r = decodeRef(value);
          if (zone === undefined || r.zone === zone) out.push(r);
        } catch {
          continue; // one damaged record hides no other
        }
      }
      return out;
    });
  }

  async deleteRef(zone: string, device: string): Promise<boolean> {
    this.ensureOpen();
    const key = refKey(zone, device);
    if (this.read((env) => env.refs.getBinary(key)) === undefined) return false;
    await this.write(0, (env) => {
      env.refs.remove(key);
    });
    return true;
  }

  async putTombstone(t: Tombstone): Promise<boolean> {
    this.ensureOpen();
    checkTombstone(t);
    const key = Buffer.from(t.objectId);
    // Tombstones are pulled again on every repair pass: a known decision costs no write.
    let held: Tombstone | undefined;
    try {
      held = this.getTombstone(t.objectId);
    } catch {
      held = undefined;
    }
    if (held && !tombstoneReplaces(t, held)) return false;
    const value = encodeRecord(t);
    return this.write(value.length, (env) => {
      const raw = env.tombstones.getBinary(key);
      let stored: Tombstone | undefined;
      try {
        stored = raw ? decodeTombstone(raw) : undefined;
      } catch {
        stored = undefined;
      }
      if (!tombstoneReplaces(t, stored)) return false;
      env.tombstones.put(key, Buffer.from(value));
      return true;
    });
  }

  getTombstone(objectId: Uint8Array): Tombstone | undefined {
    this.ensureOpen();
    checkObjectId(objectId);
    const raw = this.read((env) => env.tombstones.getBinary(Buffer.from(objectId)));
    return raw ? decodeTombstone(raw) : undefined;
  }

  async expireTombstones(before: number): Promise<number> {
    this.ensureOpen();
    const old = this.read((env) => {
      const keys: Buffer[] = [];
      for (const { key, value } of env.tombstones.getRange({})) {
        try {
          if (decodeTombstone(value).at < before) keys.push(Buffer.from(key as Uint8Array));
        } catch {
          continue;
        }
      }
      return keys;
    });
    if (old.length === 0) return 0;
    return this.write(0, (env) => {
      let n = 0;
      for (const key of old) {
        const raw = env.tombstones.getBinary(key);
        let t: Tombstone | undefined;
        try {
          t = raw ? decodeTombstone(raw) : undefined;
        } catch {
          t = undefined;
        }
        // A later decision may have replaced it meanwhile: only what is still expired goes.
        if (t && t.at < before) {
          env.tombstones.remove(key);
          n++;
        }
      }
      return n;
    });
  }

  listTombstones(zone?: string): Tombstone[] {
    return this.read((env) => {
      const out: Tombstone[] = [];
      for (const { value } of env.tombstones.getRange({})) {
        try {
          const t = decodeTombstone(value);
          if (zone === undefined || t.zone === zone) out.push(t);
        } catch {
          continue;
        }
      }
      return out;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.swapping) await this.swapping.catch(noop);
    this.closed = true;
    await Promise.all(this.inflight);
    await this.env.root.close();
  }
}

function toRecord(v: StoredHolding): HoldingRecord {
  return { zone: v[0], counts: v[1], bytes: v[2] };
}
