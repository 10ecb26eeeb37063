// Input checks shared by both stores: bad input gets STORE_BAD_INPUT and touches nothing.
import { StoreError } from './errors.js';
import { positionKey } from '../crypto/index.js';
import type { Manifest, SymbolEntry, SymbolPosition } from './types.js';

export const MAX_SBN = 0xff;
export const MAX_ESI = 0xffffff;

function bad(message: string): StoreError {
  return new StoreError('STORE_BAD_INPUT', message);
}

export function checkObjectId(objectId: unknown): Uint8Array {
  if (!(objectId instanceof Uint8Array) || objectId.length !== 32) throw bad('objectId must be a Uint8Array of 32 bytes');
  return objectId;
}

function checkPosition(sbn: unknown, esi: unknown, where: string): void {
  if (typeof sbn !== 'number' || !Number.isInteger(sbn) || sbn < 0 || sbn > MAX_SBN) throw bad(`${where}: sbn must be an integer in 0..255`);
  if (typeof esi !== 'number' || !Number.isInteger(esi) || esi < 0 || esi > MAX_ESI) throw bad(`${where}: esi must be an integer in 0..16777215`);
}

export function checkEntries(entries: unknown): SymbolEntry[] {
  if (!Array.isArray(entries)) throw bad('entries must be an array of { sbn, esi, env }');
  entries.forEach((e: unknown, i) => {
    const entry = e as Partial<SymbolEntry> | null;
    if (typeof entry !== 'object' || entry === null) throw bad(`entries[${i}] must be an object`);
    checkPosition(entry.sbn, entry.esi, `entries[${i}]`);
    if (!(entry.env instanceof Uint8Array) || entry.env.length === 0) throw bad(`entries[${i}].env must be a non-empty Uint8Array`);
  });
  return entries as SymbolEntry[];
}

export function checkPositions(want: unknown): SymbolPosition[] {
  if (!Array.isArray(want)) throw bad('want must be an array of [sbn, esi] pairs');
  want.forEach((p: unknown, i) => {
    if (!Array.isArray(p) || p.length !== 2) throw bad(`want[${i}] must be a pair [sbn, esi]`);
    checkPosition(p[0], p[1], `want[${i}]`);
  });
  return want as SymbolPosition[];
}

export function checkLimit(limit: unknown): number {
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw bad('limit must be a non-negative integer');
  return limit;
}

export function checkQuota(quota: unknown): number | null {
  if (quota === undefined || quota === null) return null;
  if (typeof quota !== 'number' || !Number.isSafeInteger(quota) || quota < 0) throw bad('quotaBytes must be a non-negative integer or null');
  return quota;
}

export function checkSegmentBytes(n: unknown): number | undefined {
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 4096) throw bad('segmentBytes must be an integer of at least 4096');
  return n;
}

export function checkManifest(m: unknown): Manifest {
  const man = m as Partial<Manifest> | null;
  if (typeof man !== 'object' || man === null) throw bad('manifest must be an object');
  checkObjectId(man.objectId);
  if (typeof man.zone !== 'string' || man.zone.length === 0) throw bad('manifest.zone must be a non-empty string');
  if (!(man.oti instanceof Uint8Array) || man.oti.length !== 12) throw bad('manifest.oti must be 12 bytes');
  if (!(man.keyId instanceof Uint8Array) || man.keyId.length !== 8) throw bad('manifest.keyId must be 8 bytes');
  if (typeof man.placement !== 'object' || man.placement === null) throw bad('manifest.placement must be an object');
  return man as Manifest;
}

/** Unique positions of a batch (the last entry for a position wins), in (sbn, esi) order. */
export function dedupeEntries(entries: SymbolEntry[]): SymbolEntry[] {
  const byPosition = new Map<number, SymbolEntry>();
  for (const e of entries) byPosition.set(positionKey(e.sbn, e.esi), e);
  return [...byPosition.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function checkOrphanArgs(olderThanMs: unknown, now: unknown, maxObjects: unknown): void {
  if (typeof olderThanMs !== 'number' || !Number.isFinite(olderThanMs) || olderThanMs < 0) throw bad('olderThanMs must be a non-negative number');
  if (typeof now !== 'number' || !Number.isFinite(now)) throw bad('now must be a finite number (wall-clock ms)');
  if (typeof maxObjects !== 'number' || !Number.isInteger(maxObjects) || maxObjects < 1) throw bad('maxObjects must be a positive integer');
}

export function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.length === 0 || reason.length > 1000) throw bad('reason must be a non-empty string of at most 1000 characters');
  return reason;
}

export function checkTimeout(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 1) throw bad('timeoutMs must be a positive integer (milliseconds)');
  return ms;
}
