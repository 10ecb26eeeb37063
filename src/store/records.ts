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
  return ref as RefRecord;
}

export function checkTombstone(t: unknown): Tombstone {
  const tomb = t as Partial<Tombstone> | null;
  if (typeof tomb !== 'object' || tomb === null) throw bad('tombstone must be an object');
  checkObjectId(tomb.objectId);
  if (typeof tomb.zone !== 'string' || tomb.zone.length === 0) throw bad('tombstone.zone must be a non-empty string');
  if (!isCount(tomb.at)) throw bad('tombstone.at must be wall-clock ms');
  if (typeof tomb.dead !== 'boolean') throw bad('tombstone.dead must be a boolean');
  return tomb as Tombstone;
}

/** The key of a device's head in a zone. */
export const refKey = (zone: string, device: string): string => `${zone}\0${device}`;

/** A head only moves forward: a record replaces the stored one with a higher seq only. */
export function refReplaces(incoming: RefRecord, stored: RefRecord | undefined): boolean {
  return stored === undefined || incoming.seq > stored.seq;
}

/** The later decision wins; at the same instant, dead wins (collection is the safe side). */
export function tombstoneReplaces(incoming: Tombstone, stored: Tombstone | undefined): boolean {
  if (stored === undefined || incoming.at > stored.at) return true;
  return incoming.at === stored.at && incoming.dead && !stored.dead;
}

const copy = (b: Uint8Array) => Uint8Array.from(b);

export function cloneRef(r: RefRecord): RefRecord {
  return { zone: r.zone, device: r.device, seq: r.seq, commit: copy(r.commit), forgotten: r.forgotten.map(copy), time: r.time };
}

export function cloneTombstone(t: Tombstone): Tombstone {
  return { objectId: copy(t.objectId), zone: t.zone, at: t.at, dead: t.dead };
}

export function encodeRecord(r: RefRecord | Tombstone): Uint8Array {
  return encode(r);
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
