// The symbol store contract shared by the LMDB store and the memory-only store.
import type { Manifest, SymbolEntry } from '../crypto/index.js';

export type { Manifest, SymbolEntry };
export type SymbolPosition = [sbn: number, esi: number];

export interface StoreUsage {
  /** Symbols held. */
  symbols: number;
  /** Bytes of symbol envelopes held (the quota counts these). */
  bytes: number;
  quotaBytes: number | null;
}

export interface StoreOptions {
  /** Refuse batches that would take envelope bytes above this; null or absent = no quota. */
  quotaBytes?: number | null;
}

export interface SymbolStore {
  /**
   * Stores a batch of sealed symbols of one object, all or nothing; resolves once durable.
   * Re-putting a symbol is idempotent (identical bytes); other bytes at a stored position are
   * refused with StoreError STORE_CONFLICT and nothing of the batch is written.
   * Throws StoreError STORE_QUOTA (nothing written) when the batch would exceed the quota.
   */
  putSymbols(objectId: Uint8Array, entries: SymbolEntry[]): Promise<void>;
  /** Symbols of an object in (sbn, esi) order; only `want` positions if given; at most `limit`. */
  getSymbols(objectId: Uint8Array, want?: SymbolPosition[], limit?: number): Promise<SymbolEntry[]>;
  /** Positions held for an object, in (sbn, esi) order. */
  symbolKeys(objectId: Uint8Array): SymbolPosition[];
  /** Stores (or replaces) an object's manifest; resolves once durable. */
  putManifest(m: Manifest): Promise<void>;
  getManifest(objectId: Uint8Array): Manifest | undefined;
  listManifests(zone?: string): Manifest[];
  /** Removes some symbols of an object (the manifest stays); resolves once durable. */
  deleteSymbols(objectId: Uint8Array, positions: SymbolPosition[]): Promise<void>;
  /** Removes an object's symbols and manifest; resolves once durable. */
  deleteObject(objectId: Uint8Array): Promise<void>;
  usage(): StoreUsage;
  close(): Promise<void>;
}
