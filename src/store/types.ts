// The symbol store contract shared by the LMDB store and the memory-only store.
import type { Manifest, RefRecord, SymbolEntry, Tombstone } from '../crypto/index.js';
import type { HoldingsPage, ZoneHoldings } from './holdings.js';
import type { VerifyReport } from './verify.js';

export type { Manifest, RefRecord, SymbolEntry, Tombstone };
export type SymbolPosition = [sbn: number, esi: number];

export interface StoreUsage {
  /** Symbols held. */
  symbols: number;
  /** Bytes of symbol envelopes held (the quota counts these). */
  bytes: number;
  quotaBytes: number | null;
}

/** What the store is able to do right now (for status and logs). */
export type StoreState = 'ok' | 'full' | 'gone' | 'corrupt' | 'closed';

/** A damaged store that was moved aside and replaced by an empty one. */
export interface FreshStart {
  /** The store directory (now holding the fresh, empty store). */
  dir: string | null;
  /** Where the damaged files went (null if there was nothing to move, or in memory). */
  movedTo: string | null;
  reason: string;
  /** Wall-clock ms. */
  at: number;
  /** One line for the user. */
  message: string;
}

export interface StoreHealth {
  state: StoreState;
  dir: string | null;
  /** What is wrong when state is not 'ok' (null when it is). */
  detail: string | null;
  /** Wall-clock ms when the current state began. */
  since: number;
  /** Set when this store replaced a damaged one, at open or at run time; stays set. */
  startedFresh: FreshStart | null;
}

export interface OrphanReport {
  /** Objects whose symbols were removed, with when their first symbols came (wall ms). */
  objects: Array<{ objectId: Uint8Array; symbols: number; bytes: number; firstSeen: number }>;
  symbols: number;
  bytes: number;
  /** True when `maxObjects` stopped the pass before every due object was collected. */
  more: boolean;
}

export interface OrphanCandidate {
  objectId: Uint8Array;
  /** Wall ms when its first symbols came without a manifest. */
  firstSeen: number;
  symbols: number;
}

export interface StoreOptions {
  /** Refuse batches that would take envelope bytes above this; null or absent = no quota. */
  quotaBytes?: number | null;
  /** Size at which a segment file is sealed and the next begun (LMDB store; default 64 MiB). */
  segmentBytes?: number;
}

export interface SymbolStore {
  /**
   * Stores a batch of sealed symbols of one object, all or nothing; resolves once durable.
   * Re-putting a symbol is idempotent (identical bytes); other bytes at a stored position are
   * refused with StoreError STORE_CONFLICT and nothing of the batch is written.
   * Throws StoreError STORE_QUOTA (nothing written) when the batch would exceed the quota,
   * STORE_FULL / STORE_IO (nothing written, the store stays usable) when the disk refuses it,
   * STORE_GONE when the directory was deleted under the store, STORE_CORRUPT on damaged files.
   */
  putSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<void>;
  /**
   * Re-sealing after a zone key rotation: replaces the envelopes of positions already held by
   * envelopes of the same length (usage and holdings do not change), all in one durable write;
   * positions not held are skipped. Returns how many were replaced. Only this device's own
   * re-sealing calls it; peers can never replace a stored symbol (putSymbols refuses).
   */
  resealSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<number>;
  /** Symbols of an object in (sbn, esi) order; only `want` positions if given; at most `limit`. */
  getSymbols(objectId: Uint8Array, want?: SymbolPosition[], limit?: number): Promise<SymbolEntry[]>;
  /** Positions held for an object, in (sbn, esi) order. */
  symbolKeys(objectId: Uint8Array): SymbolPosition[];
  /** Stores (or replaces) an object's manifest (which ends its orphan record); resolves once durable. */
  putManifest(m: Manifest): Promise<void>;
  getManifest(objectId: Uint8Array): Manifest | undefined;
  /** Manifests in ObjectId order; an undecodable stored manifest is left out (getManifest throws STORE_CORRUPT for it). */
  listManifests(zone?: string): Manifest[];
  /** How many manifests are held (an undecodable one too), without decoding any: for status. */
  manifestCount(): number;
  /**
   * At most `limit` manifests in ObjectId order after `after` (from the first if undefined), for
   * walks that take a few at a time; undecodable ones are left out (they may make it fewer).
   */
  manifestsAfter(after: Uint8Array | undefined, limit: number): Manifest[];
  /** Removes some symbols of an object (the manifest stays); resolves once durable. */
  deleteSymbols(objectId: Uint8Array, positions: SymbolPosition[]): Promise<void>;
  /** Removes an object's symbols and manifest; resolves once durable. */
  deleteObject(objectId: Uint8Array): Promise<void>;
  usage(): StoreUsage;
  /**
   * Current state, cheap enough to call per status request. A store whose directory was
   * deleted or replaced reports 'gone' here even before the next write is refused.
   */
  health(): StoreHealth;
  /**
   * Moves the current (damaged) store aside and continues with an empty one, for a caller
   * that got STORE_CORRUPT (or STORE_GONE): LMDB closes, renames its directory to
   * `<dir>.corrupt-<timestamp>` and reopens `<dir>` empty. Writes wait for the swap; the
   * symbols are then restored by repair from the other devices. Concurrent calls share one swap.
   */
  startFresh(reason: string): Promise<FreshStart>;
  /**
   * Deletes the symbols of objects that still have no manifest `olderThanMs` after their first
   * symbols were stored (interrupted stores), at most `maxObjects` objects per call; returns what
   * was removed. The first-seen times are persisted; putManifest and deleteObject clear them.
   */
  collectOrphans(olderThanMs: number, now: number, maxObjects?: number): Promise<OrphanReport>;
  /**
   * The objects collectOrphans would remove now, without removing anything (same order and
   * bound), so the mesh can first look for their manifests on other devices and put them.
   */
  listOrphans(olderThanMs: number, now: number, maxObjects?: number): OrphanCandidate[];
  /**
   * Reads every stored entry out of process and compares the counts with the usage record:
   * damage that would crash LMDB in this process, or that it skips silently, shows here. A
   * damaged verdict also sets health 'corrupt'; the caller then calls startFresh. Bounded by
   * `timeoutMs` (default 5 minutes); a check that cannot run or finish gives damaged: false.
   */
  verify(timeoutMs?: number): Promise<VerifyReport>;
  /**
   * The summary of what is held in `zone` (objects with a manifest here): digests per id bucket
   * and over the zone, and totals. Kept up to date by every write, never by scanning on demand.
   */
  holdingsDigest(zone: string): ZoneHoldings;
  /** Entries of the summary of `zone` in the given buckets, in id order after `after`, at most `limit`. */
  holdingsPage(zone: string, buckets: readonly number[], after: Uint8Array | undefined, limit: number): HoldingsPage;
  /**
   * Keeps a device's head of a zone's namespace if it is new or has a higher seq than the one
   * held (a head never moves back); resolves with whether it was kept, once durable.
   */
  putRef(ref: RefRecord): Promise<boolean>;
  /** The heads held, of one zone or all, ordered by zone then device. */
  listRefs(zone?: string): RefRecord[];
  /** Forgets a device's head of a zone (an unsigned one from before heads were signed); whether one was held. */
  deleteRef(zone: string, device: string): Promise<boolean>;
  /**
   * Keeps a tombstone if none is held for the object or it is a later decision (same instant:
   * dead wins); resolves with whether it was kept, once durable.
   */
  putTombstone(t: Tombstone): Promise<boolean>;
  getTombstone(objectId: Uint8Array): Tombstone | undefined;
  /** Tombstones held (dead and alive), of one zone or all, in ObjectId order. */
  listTombstones(zone?: string): Tombstone[];
  /** Forgets every tombstone decided before `before` (wall ms; their TTL is over), in one durable write; how many. */
  expireTombstones(before: number): Promise<number>;
  close(): Promise<void>;
}

export type { VerifyReport, HoldingsPage, ZoneHoldings };
