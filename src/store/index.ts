// Store layer (public face): the durable LMDB symbol store, the memory-only store, quotas.
export { StoreError, type StoreErrorCode } from './errors.js';
export type {
  SymbolStore,
  StoreUsage,
  StoreOptions,
  StoreHealth,
  StoreState,
  FreshStart,
  OrphanReport,
  OrphanCandidate,
  VerifyReport,
  SymbolPosition,
  Manifest,
  SymbolEntry,
} from './types.js';
export { HoldingsIndex, HOLDING_BUCKETS, HOLDING_DIGEST_BYTES, entryHash, trimCounts, type HoldingEntry, type HoldingsPage, type ZoneHoldings, type HoldingRecord } from './holdings.js';
export { LmdbSymbolStore } from './lmdb-store.js';
export { MemorySymbolStore } from './memory-store.js';
export { refReplaces, tombstoneReplaces } from './records.js';
export { checkDataFile, type DataFileVerdict } from './data-file-check.js';
export { symbolKey, objectRange, SYMBOL_KEY_BYTES } from './keys.js';
