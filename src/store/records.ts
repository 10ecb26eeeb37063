// Namespace records kept beside the symbols: device heads (refs) and tombstones. Both stores
// share these checks, the at-rest encoding (canonical CBOR) and the rule that decides whether
// an incoming record replaces the stored one.
import { decode, encode } from 'cborg';
import type { RefRecord, Tombstone } from '../crypto/index.js';
import { StoreError } from './errors.js';
import { checkObjectId } from './validate.js';

function bad(message: string): StoreError {
  return new StoreError('STORE_BAD_INPUT', message);
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export function checkRef(r: unknown): RefRecord {
  const ref = r as Partial<RefRecord> | null;
  if (typeof ref !== 'object' || ref === null) throw bad('ref must be an object');
  if (typeof ref.zone !== 'string' || ref.zone.length === 0) throw bad('ref.zone must be a non-empty string');
  if (typeof ref.device !== 'string' || ref.device.length === 0 || ref.device.includes('\0')) throw bad('ref.device must be a non-empty string');
  if (!isCount(ref.seq) || ref.seq < 1) throw bad('ref.seq must be a positive integer');
  if (!isCount(ref.time)) throw bad('ref.time must be wall-clock ms');
  checkObjectId(ref.commit);
  if (!Array.isArray(ref.forgotten)) throw bad('ref.forgotten must be an array of commit ids');
  for (const f of ref.forgotten) checkObjectId(f);
  checkSig(ref.sig, 'ref.sig');
  return ref as RefRecord;
}

export function checkTombstone(t: unknown): Tombstone {
  const tomb = t as Partial<Tombstone> | null;
  if (typeof tomb !== 'object' || tomb === null) throw bad('tombstone must be an object');
  checkObjectId(tomb.objectId);
  if (typeof tomb.zone !== 'string' || tomb.zone.length === 0) throw bad('tombstone.zone must be a non-empty string');
  if (!isCount(tomb.at)) throw bad('tombstone.at must be wall-clock ms');
  if (typeof tomb.dead !== 'boolean') throw bad('tombstone.dead must be a boolean');
  if (tomb.by !== undefined && (typeof tomb.by !== 'string' || tomb.by.length === 0)) throw bad('tombstone.by must be a non-empty string');
  checkSig(tomb.sig, 'tombstone.sig');
  return tomb as Tombstone;
}

/** Signatures are checked where records arrive (mesh/name-records.ts); the store checks their shape. */
function checkSig(sig: unknown, field: string): void {
  if (sig !== undefined && !(sig instanceof Uint8Array && sig.length === 64)) throw bad(`${field} must be 64 bytes`);
}

/** The key of a device's head in a zone. */
export const refKey = (zone: string, device: string): string => `${zone}\0${device}`;

/**
 * A head only moves forward: a record replaces the stored one with a higher seq only, or at the
 * same seq a signed one an unsigned one stored before heads were signed (its device re-signed it).
 */
export function refReplaces(incoming: RefRecord, stored: RefRecord | undefined): boolean {
  return stored === undefined || incoming.seq > stored.seq || (incoming.seq === stored.seq && incoming.sig !== undefined && stored.sig === undefined);
}

/**
 * The later decision wins; at the same instant, dead wins (collection is the safe side), and a
 * signed record replaces the same decision stored unsigned (from before tombstones were signed).
 */
export function tombstoneReplaces(incoming: Tombstone, stored: Tombstone | undefined): boolean {
  if (stored === undefined || incoming.at > stored.at) return true;
  if (incoming.at !== stored.at) return false;
  if (incoming.dead !== stored.dead) return incoming.dead;
  return incoming.sig !== undefined && stored.sig === undefined;
}

const copy = (b: Uint8Array) => Uint8Array.from(b);

// Absent fields stay absent (never `undefined`: the at-rest decoding refuses it).
export function cloneRef(r: RefRecord): RefRecord {
  return { zone: r.zone, device: r.device, seq: r.seq, commit: copy(r.commit), forgotten: r.forgotten.map(copy), time: r.time, ...(r.sig ? { sig: copy(r.sig) } : {}) };
}

export function cloneTombstone(t: Tombstone): Tombstone {
  return { objectId: copy(t.objectId), zone: t.zone, at: t.at, dead: t.dead, ...(t.by !== undefined ? { by: t.by } : {}), ...(t.sig ? { sig: copy(t.sig) } : {}) };
}

export function encodeRecord(r: RefRecord | Tombstone): Uint8Array {
  return encode('objectId' in r ? cloneTombstone(r) : cloneRef(r));
}

export function decodeRef(bytes: Uint8Array): RefRecord {
  try {
    return checkRef(decode(bytes, { strict: true, allowUndefined: false }));
  } catch (err) {
    throw new StoreError('STORE_CORRUPT', `stored ref is unreadable (${(err as Error).message})`);
  }
}

export function decodeTombstone(bytes: Uint8Array): Tombstone {
  try {
    return checkTombstone(decode(bytes, { strict: true, allowUndefined: false }));
  } catch (err) {
    throw new StoreError('STORE_CORRUPT', `stored tombstone is unreadable (${(err as Error).message})`);
  }
}
