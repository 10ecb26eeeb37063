// Durable symbol store on LMDB. Named databases in one environment:
//   symbols:   ObjectId||SBN||ESI -> sealed envelope bytes, or where in a segment file they are
//              (envelopes of SEGMENT_MIN_BYTES and more live in append-only files, segments.ts)
//   segments:  segment number -> bytes of it that pointers name (the rest is dead space)
//   manifests: ObjectId -> manifest (CBOR)
//   meta:      "usage" -> [symbols, bytes], updated in the same transactions as the symbols
//   orphans:   ObjectId -> wall ms when symbols of it came without a manifest
//   holdings:  ObjectId -> [zone | null, symbols per block, bytes], updated with the symbols; the
//              in-memory summary peers compare (holdings.ts) is loaded from it at open, and
//              rebuilt from the symbols once for a store made before it existed
// Writes resolve only after LMDB reports them flushed to disk (commits are synchronous with
// overlappingSync off; `flushed` is awaited as well so that stays true if options change).
// Segment data is durable before the transaction naming it begins. Deleting leaves dead space
// in segments; a sealed segment at most half live has its live envelopes copied forward and is
// removed (compaction, one at a time in the background after deletes).
//
// Failure handling: the data file is checked before LMDB maps it (data-file-check.ts) and a
// damaged store is moved aside; a full disk or I/O error fails only the batch (lmdb-errors.ts);
// the directory is checked before each write (dir-identity.ts); MDB corruption codes on reads
// become STORE_CORRUPT and `startFresh` replaces the store while the process runs.
import { open, type Database, type RootDatabase, type RootDatabaseOptionsWithPath } from 'lmdb';
import { chmodSync, existsSync, mkdirSync, statSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { checkDataFile } from './data-file-check.js';
import { changedSince, identify, type DirIdentity } from './dir-identity.js';
import { StoreError } from './errors.js';
import { objectRange, positionOfKey, symbolKey } from './keys.js';
import { corruptError, corruptionName, writeError } from './lmdb-errors.js';
import { decodeManifest, encodeManifest } from './manifest-codec.js';
import { HoldingsIndex, type HoldingRecord, type HoldingsPage, type ZoneHoldings } from './holdings.js';
import { freshStartMessage, moveAside } from './quarantine.js';
import {
  SegmentDamage,
  SegmentFiles,
  decodeLocation,
  encodeLocation,
  goesToSegment,
  sameLocation,
  storedLength,
  type Location,
} from './segments.js';
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
  checkSegmentBytes,
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
/** Live bytes copied per compaction transaction (bounds the memory a compaction takes). */
const COMPACT_SLICE_BYTES = 8 * 1024 * 1024;
/** Segments one compaction round copies forward (one pass over the index finds their pointers). */
const COMPACT_SEGMENTS = 16;
/** Index entries read per turn of the event loop while compaction looks for pointers. */
const COMPACT_SCAN_SLICE = 4096;
const EMPTY = new Uint8Array(0);
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
  /** segment number -> live bytes */
  segments: Database<number, number>;
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
    maxDbs: 12,
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
      segments: root.openDB<number, number>('segments', { encoding: 'msgpack', keyEncoding: 'uint32' }),
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

/**
 * Opens the segment files of a store; a segment the index names whose file is missing is
 * damage (the reason is returned instead: the caller moves the store aside).
 */
function openSegments(dir: string, env: Env, segmentBytes: number | undefined): SegmentFiles | string {
  const live = new Set<number>();
  for (const { key, value } of env.segments.getRange({})) if (value > 0) live.add(key);
  const files = SegmentFiles.open(dir, live, segmentBytes);
  for (const seg of live) if (!existsSync(files.path(seg))) return `its data file ${files.path(seg)} is missing`;
  return files;
}

function openFailure(dir: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  if (corruptionName(err)) return corruptError(join(dir, 'data.mdb'), err);
  return new StoreError('STORE_IO', `cannot open the store at ${dir}: ${(err as Error).message}`, { path: dir, cause: err });
}

export class LmdbSymbolStore implements SymbolStore {
  private env: Env;
  private files: SegmentFiles;
  /** The compaction running in the background, if any. */
  private compacting: Promise<void> | null = null;
  /** Set by a delete while a compaction or a check runs: compaction starts when they are done. */
  private compactAgain = false;
  /** Out-of-process checks running (verify). */
  private verifying = 0;
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

  private constructor(
    dir: string,
    env: Env,
    files: SegmentFiles,
    quotaBytes: number | null,
    fresh: FreshStart | null,
    private readonly segmentBytes: number | undefined,
  ) {
    this.dir = dir;
    this.dataFile = join(dir, 'data.mdb');
    this.env = env;
    this.files = files;
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
    const segmentBytes = checkSegmentBytes(opts.segmentBytes);
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
    let files: SegmentFiles | string;
    try {
      files = openSegments(dir, env, segmentBytes);
      if (typeof files === 'string') {
        if (fresh) throw new StoreError('STORE_CORRUPT', `the store at ${dir} is damaged: ${files}`, { path: dir });
        await env.root.close();
        fresh = quarantine(files);
        env = openEnv(dir);
        files = openSegments(dir, env, segmentBytes) as SegmentFiles;
      }
    } catch (err) {
      await env.root.close().catch(noop);
      throw openFailure(dir, err);
    }
    const store = new LmdbSymbolStore(dir, env, files, quota, fresh, segmentBytes);
    try {
      store.loadHoldings();
    } catch (err) {
      files.close();
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
          rec[2] += storedLength(value);
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
   * `toSegments` are appended to a segment and made durable first; the callback gets their
   * locations (what it does not point at is dead space).
   */
  private async write<T>(batchBytes: number, fn: (env: Env, locs: Location[]) => T, toSegments: readonly Uint8Array[] = []): Promise<T> {
    this.ensureOpen();
    while (this.swapping) await this.swapping.catch(noop);
    this.ensureOpen();
    this.checkWritable();
    const env = this.env;
    const files = this.files;
    const run = (async () => {
      let locs: Location[] = [];
      try {
        if (toSegments.length > 0) locs = await files.append(toSegments);
        const result = await env.root.childTransaction(() => fn(env, locs));
        await env.root.flushed;
        if (this.state === 'full') this.setState('ok', null);
        return result;
      } catch (err) {
        const e = err instanceof SegmentDamage ? this.segmentDamage(err) : await writeError(err, this.dir, this.dataFile, batchBytes);
        if (e.code === 'STORE_FULL') this.setState('full', e.message);
        if (e.code === 'STORE_CORRUPT') this.setState('corrupt', e.message);
        throw e;
      } finally {
        if (locs.length > 0) files.release(locs[0]!.seg);
      }
    })();
    const settled = run.then(noop, noop);
    this.inflight.add(settled);
    void settled.then(() => this.inflight.delete(settled));
    return run;
  }

  /** A missing or short segment file: the store is damaged (reads and writes stop until startFresh). */
  private segmentDamage(err: SegmentDamage): StoreError {
    const e = new StoreError('STORE_CORRUPT', `the store at ${this.dir} is damaged (${err.message}); move it aside with startFresh and let repair refill it`, {
      path: err.path,
      cause: err,
    });
    this.setState('corrupt', e.message);
    return e;
  }

  /** Whether a stored value is (or names) exactly `envelope`; reads a segment synchronously. */
  private holdsEnvelope(value: Uint8Array, envelope: Uint8Array): boolean {
    const loc = decodeLocation(value);
    if (!loc) return bytesEqual(value, envelope);
    if (loc.len !== envelope.length) return false;
    this.files.acquire(loc.seg);
    try {
      return bytesEqual(this.files.readSync(loc), envelope);
    } finally {
      this.files.release(loc.seg);
    }
  }

  /**
   * What to store for a new envelope: the location it was appended at, else the envelope itself.
   * Null for the one envelope shape that cannot be stored inline (it would read as a location),
   * met only when the key changed between the check before the append and the transaction.
   */
  private valueFor(envelope: Uint8Array, loc: Location | undefined): Uint8Array | null {
    if (loc) return encodeLocation(loc);
    return decodeLocation(envelope) ? null : envelope;
  }

  /** Adds `delta` (segment -> bytes) to the live counts, inside a write transaction. */
  private addLive(env: Env, delta: Map<number, number>): void {
    for (const [seg, d] of delta) {
      if (d === 0) continue;
      const live = (env.segments.get(seg) ?? 0) + d;
      if (live > 0) env.segments.put(seg, live);
      else env.segments.remove(seg);
    }
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
    // Large envelopes not held yet are appended to a segment before the transaction (a re-put
    // of held ones writes no data).
    const [toSegment, held] = this.read((env) => [batch.filter((e) => goesToSegment(e.env) && !env.symbols.doesExist(symbolKey(objectId, e.sbn, e.esi))), this.readUsage(env)[1]] as const);
    // A batch the quota refuses writes no data either (checked exactly again in the transaction).
    const appending = toSegment.reduce((n, e) => n + e.env.length, 0);
    if (this.quotaBytes !== null && appending > 0 && held + appending > this.quotaBytes) throw this.quotaError(held + appending);
    // The callback runs inside the write transaction, after earlier queued batches: reads see
    // their writes, so the quota check and the usage counter stay exact under concurrency.
    const outcome = await this.write(
      batchBytes,
      (env, locs) => {
      const located = new Map(toSegment.map((e, i) => [e, locs[i]!]));
      const [symbols, bytes] = this.readUsage(env);
      let addSymbols = 0;
      let addBytes = 0;
      const writes: Array<[Buffer, Uint8Array]> = [];
      const live = new Map<number, number>();
      for (const e of batch) {
        const key = symbolKey(objectId, e.sbn, e.esi);
        const existing = env.symbols.getBinary(key);
        if (existing && this.holdsEnvelope(existing, e.env)) continue;
        // A stored symbol is never replaced by other bytes: that is how a hostile or confused
        // writer would erase an object one position at a time.
        if (existing) return { ok: false as const, need: 0, conflict: e as SymbolEntry | null, raced: false };
        const loc = located.get(e);
        const value = this.valueFor(e.env, loc);
        if (!value) return { ok: false as const, need: 0, conflict: null, raced: true };
        if (loc) bump(live, loc.seg, loc.len);
        addBytes += e.env.length;
        addSymbols++;
        writes.push([key, value]);
      }
      if (this.quotaBytes !== null && addBytes > 0 && bytes + addBytes > this.quotaBytes) {
        return { ok: false as const, need: bytes + addBytes, conflict: null, raced: false };
      }
      for (const [key, value] of writes) env.symbols.put(key, value);
      this.addLive(env, live);
      if (writes.length > 0) {
        env.meta.put(USAGE_KEY, [symbols + addSymbols, bytes + addBytes]);
        const perBlock = new Map<number, number>();
        for (const [key] of writes) bump(perBlock, key[32]!, 1);
        this.bumpHolding(env, idKey, perBlock, addBytes);
        // Symbols before their manifest are normal during a store; remember when it began.
        if (!env.manifests.doesExist(idKey) && env.orphans.get(idKey) === undefined) env.orphans.put(idKey, Date.now());
      }
      return { ok: true as const, need: 0, conflict: null, raced: false };
      },
      toSegment.map((e) => e.env),
    );
    if (outcome.ok) this.refreshHolding(objectId);
    if (!outcome.ok && outcome.raced) {
      throw new StoreError('STORE_IO', 'a symbol of the batch was deleted while the batch was written; nothing was stored, send it again');
    }
    if (!outcome.ok && outcome.conflict) {
      throw new StoreError('STORE_CONFLICT', `symbol (${outcome.conflict.sbn}, ${outcome.conflict.esi}) is already stored with other bytes; nothing of the batch was written`);
    }
    if (!outcome.ok) throw this.quotaError(outcome.need);
  }

  private quotaError(need: number): StoreError {
    return new StoreError('STORE_QUOTA', `storing this batch would use ${need} bytes, above the quota of ${this.quotaBytes}; free space or raise the quota`);
  }

  async resealSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<number> {
    this.ensureOpen();
    checkObjectId(objectId);
    const batch = dedupeEntries(checkEntries(entries));
    if (batch.length === 0) return 0;
    const toSegment = this.read((env) => batch.filter((e) => goesToSegment(e.env) && env.symbols.doesExist(symbolKey(objectId, e.sbn, e.esi))));
    const outcome = await this.write(
      batch.reduce((n, e) => n + e.env.length, 0),
      (env, locs) => {
        const located = new Map(toSegment.map((e, i) => [e, locs[i]!]));
        const writes: Array<[Buffer, Uint8Array]> = [];
        const live = new Map<number, number>();
        for (const e of batch) {
          const key = symbolKey(objectId, e.sbn, e.esi);
          const existing = env.symbols.getBinary(key);
          if (!existing) continue;
          if (storedLength(existing) !== e.env.length) return { ok: false as const, e };
          const loc = located.get(e);
          const value = this.valueFor(e.env, loc);
          if (!value) continue; // held only since the check before the append: left as it is
          const old = decodeLocation(existing);
          if (old) bump(live, old.seg, -old.len);
          if (loc) bump(live, loc.seg, loc.len);
          writes.push([key, value]);
        }
        for (const [key, value] of writes) env.symbols.put(key, value);
        this.addLive(env, live);
        return { ok: true as const, n: writes.length };
      },
      toSegment.map((e) => e.env),
    );
    this.scheduleCompaction();
    if (!outcome.ok) throw new StoreError('STORE_CONFLICT', `a re-sealed symbol (${outcome.e.sbn}, ${outcome.e.esi}) must keep its length`);
    return outcome.n;
  }

  async getSymbols(objectId: Uint8Array, want?: SymbolPosition[], limit?: number): Promise<SymbolEntry[]> {
    this.ensureOpen();
    checkObjectId(objectId);
    const max = checkLimit(limit);
    const positions = want === undefined ? undefined : checkPositions(want);
    const files = this.files;
    const slots: number[] = [];
    const locs: Location[] = [];
    const out = this.read((env) => {
      const out: SymbolEntry[] = [];
      const take = (sbn: number, esi: number, value: Uint8Array): void => {
        const loc = decodeLocation(value);
        if (loc) {
          slots.push(out.length);
          locs.push(loc);
        }
        out.push({ sbn, esi, env: loc ? EMPTY : asBytes(value) });
      };
      if (positions !== undefined) {
        for (const [sbn, esi] of positions) {
          if (out.length >= max) break;
          const value = env.symbols.getBinary(symbolKey(objectId, sbn, esi));
          if (value) take(sbn, esi, value);
        }
        return out;
      }
      if (max === 0) return out;
      const range = objectRange(objectId);
      const options = Number.isFinite(max) ? { ...range, limit: max } : range;
      for (const { key, value } of env.symbols.getRange(options)) {
        const [sbn, esi] = positionOfKey(key);
        take(sbn, esi, value);
      }
      return out;
    });
    if (locs.length === 0) return out;
    // Pinned in the same turn as the index read, so a compaction cannot remove them meanwhile.
    const pinned: number[] = [];
    try {
      for (const loc of locs) {
        files.acquire(loc.seg);
        pinned.push(loc.seg);
      }
      const envelopes = await files.readMany(locs);
      slots.forEach((slot, i) => {
        out[slot]!.env = envelopes[i]!;
      });
      return out;
    } catch (err) {
      if (err instanceof SegmentDamage) throw this.segmentDamage(err);
      throw new StoreError('STORE_IO', `reading the store at ${this.dir} failed: ${(err as Error).message}`, { path: this.dir, cause: err });
    } finally {
      for (const seg of pinned) files.release(seg);
    }
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

  manifestCount(): number {
    return this.read((env) => env.manifests.getCount());
  }

  manifestsAfter(after: Uint8Array | undefined, limit: number): Manifest[] {
    const max = checkLimit(limit);
    // Just above `after`: the same id with one more byte sorts right after it.
    const start = after === undefined ? undefined : Buffer.concat([checkObjectId(after), Buffer.from([0])]);
    return this.read((env) => {
      const out: Manifest[] = [];
      for (const { value } of env.manifests.getRange({ ...(start ? { start } : {}), ...(Number.isFinite(max) ? { limit: max } : {}) })) {
        try {
          out.push(decodeManifest(value));
        } catch {
          continue; // as listManifests: one damaged value hides no other
        }
      }
      return out;
    });
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
      const live = new Map<number, number>();
      for (const [sbn, esi] of doomed) {
        const key = symbolKey(objectId, sbn, esi);
        const existing = env.symbols.getBinary(key);
        if (!existing) continue;
        removedSymbols++;
        removedBytes += storedLength(existing);
        bump(perBlock, sbn, -1);
        this.forgetLocation(live, existing);
        env.symbols.remove(key);
      }
      this.addLive(env, live);
      if (removedSymbols > 0) {
        env.meta.put(USAGE_KEY, [symbols - removedSymbols, bytes - removedBytes]);
        this.bumpHolding(env, Buffer.from(objectId), perBlock, -removedBytes);
      }
    });
    this.refreshHolding(objectId);
    this.scheduleCompaction();
  }

  /** Counts a removed value's segment bytes as dead in `live` (segment -> change). */
  private forgetLocation(live: Map<number, number>, value: Uint8Array): void {
    const loc = decodeLocation(value);
    if (loc) bump(live, loc.seg, -loc.len);
  }

  /** Removes every symbol of `objectId` inside a write transaction; returns [symbols, bytes]. */
  private removeAllSymbols(env: Env, objectId: Uint8Array): [number, number] {
    let removedSymbols = 0;
    let removedBytes = 0;
    // Collect first, then remove: never mutate the tree under a running range cursor.
    const doomed: Buffer[] = [];
    const live = new Map<number, number>();
    for (const { key, value } of env.symbols.getRange(objectRange(objectId))) {
      removedSymbols++;
      removedBytes += storedLength(value);
      this.forgetLocation(live, value);
      doomed.push(key);
    }
    for (const key of doomed) env.symbols.remove(key);
    this.addLive(env, live);
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
    this.scheduleCompaction();
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
    if (report.symbols > 0) this.scheduleCompaction();
    return report;
  }

  /** Starts a compaction in the background unless one runs (it looks again when it ends). */
  private scheduleCompaction(): void {
    if (this.closed) return;
    // The out-of-process check reads an older snapshot of the index: a segment removed under
    // it would look like damage. Compaction waits for it to end.
    if (this.compacting || this.verifying > 0) {
      this.compactAgain = true;
      return;
    }
    this.compactAgain = false;
    const run = this.compact()
      .catch(() => {
        // A refused copy (disk full, damage) leaves the segment as it was: the next delete retries.
      })
      .finally(() => {
        if (this.compacting === run) this.compacting = null;
        if (this.compactAgain) this.scheduleCompaction();
      });
    this.compacting = run;
  }

  /** Settles once no compaction runs (for tests and tools that look at the files). */
  async compacted(): Promise<void> {
    while (this.compacting) await this.compacting;
  }

  /** Removes segments nothing names and copies forward those at most half live, a few per round. */
  private async compact(): Promise<void> {
    const files = this.files;
    // Each round empties its candidates (or finds their pointers changed); bounded by the segments present.
    for (let round = files.list().length + 1; round > 0 && !this.closed && files === this.files; round--) {
      const candidates = this.compactionCandidates(files);
      if (candidates.length === 0) return;
      const named = await this.livePointers(candidates, files);
      for (const seg of candidates) await this.copyForward(files, seg, named.get(seg) ?? []);
    }
  }

  /**
   * Segments worth copying forward (at most COMPACT_SEGMENTS per round, which bounds the pointers
   * a round holds in memory); removes the ones nothing names on the way.
   */
  private compactionCandidates(files: SegmentFiles): number[] {
    const live = this.read((env) => {
      const m = new Map<number, number>();
      for (const { key, value } of env.segments.getRange({})) m.set(key, value);
      return m;
    });
    const out: number[] = [];
    for (const seg of files.list()) {
      if (out.length >= COMPACT_SEGMENTS) break;
      // A busy segment may have pointers about to commit (or reads that need it).
      if (files.busy(seg)) continue;
      const bytes = live.get(seg) ?? 0;
      const size = files.size(seg);
      if (bytes > size / 2 || (seg === files.activeSegment() && size === 0)) continue;
      // The active segment too, once at most half live: else a small store never gets its
      // deleted space back. Sealed, appends go to a new one.
      if (seg === files.activeSegment()) files.sealActive();
      if (bytes === 0) files.retire(seg);
      else out.push(seg);
    }
    return out;
  }

  /**
   * The pointers into `segments`, by segment and in offset order: one pass over the index in
   * slices, yielding between them so reads and writes go on meanwhile.
   */
  private async livePointers(segments: number[], files: SegmentFiles): Promise<Map<number, Array<{ key: Buffer; loc: Location }>>> {
    const wanted = new Set(segments);
    const out = new Map<number, Array<{ key: Buffer; loc: Location }>>();
    let start: Buffer | undefined;
    for (let more = true; more && !this.closed && files === this.files; ) {
      more = this.read((env) => {
        let n = 0;
        for (const { key, value } of env.symbols.getRange({ ...(start ? { start } : {}), limit: COMPACT_SCAN_SLICE })) {
          n++;
          // The next slice starts just after this key.
          start = Buffer.concat([key, Buffer.from([0])]);
          const loc = decodeLocation(value);
          if (!loc || !wanted.has(loc.seg)) continue;
          const list = out.get(loc.seg) ?? [];
          list.push({ key: Buffer.from(key), loc });
          out.set(loc.seg, list);
        }
        return n === COMPACT_SCAN_SLICE;
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    for (const list of out.values()) list.sort((a, b) => a.loc.off - b.loc.off);
    return out;
  }

  /**
   * Moves the live envelopes of `seg` to the active segment, a slice per transaction. A pointer
   * that changed meanwhile (deleted, re-sealed) is left alone; its copy is dead space.
   */
  private async copyForward(files: SegmentFiles, seg: number, named: Array<{ key: Buffer; loc: Location }>): Promise<void> {
    for (let i = 0; i < named.length && !this.closed && files === this.files; ) {
      const slice: typeof named = [];
      let bytes = 0;
      while (i < named.length && (slice.length === 0 || bytes + named[i]!.loc.len <= COMPACT_SLICE_BYTES)) {
        bytes += named[i]!.loc.len;
        slice.push(named[i++]!);
      }
      files.acquire(seg);
      let envelopes: Buffer[];
      try {
        envelopes = await files.readMany(slice.map((n) => n.loc));
      } finally {
        files.release(seg);
      }
      await this.write(
        bytes,
        (env, locs) => {
          const live = new Map<number, number>();
          slice.forEach(({ key, loc }, k) => {
            const now = env.symbols.getBinary(key);
            const current = now && decodeLocation(now);
            if (!current || !sameLocation(current, loc)) return;
            env.symbols.put(key, encodeLocation(locs[k]!));
            bump(live, loc.seg, -loc.len);
            bump(live, locs[k]!.seg, loc.len);
          });
          this.addLive(env, live);
        },
        envelopes,
      );
    }
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
    this.verifying++;
    await this.compacted();
    let report: VerifyReport;
    try {
      report = await verifyStoreFiles(this.dir, timeoutMs);
    } finally {
      this.verifying--;
      if (this.verifying === 0 && this.compactAgain) this.scheduleCompaction();
    }
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
    const oldFiles = this.files;
    const at = Date.now();
    let movedTo: string | null;
    try {
      // Renaming while the old environment is open is safe: its open files move with the
      // directory. Rename and reopen happen in one synchronous step, so no read sees a gap.
      movedTo = moveAside(this.dir, at);
      this.env = openEnv(this.dir);
      this.files = SegmentFiles.open(this.dir, new Set(), this.segmentBytes);
      // Reads under way finish on the moved files; nothing new may open a path there, which now
      // names the fresh store's files.
      oldFiles.close();
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
    await this.compacted();
    await Promise.all(this.inflight);
    this.files.close();
    await this.env.root.close();
  }
}

/** Adds `d` to the count kept for `key`. */
function bump(counts: Map<number, number>, key: number, d: number): void {
  counts.set(key, (counts.get(key) ?? 0) + d);
}

function toRecord(v: StoredHolding): HoldingRecord {
  return { zone: v[0], counts: v[1], bytes: v[2] };
}
