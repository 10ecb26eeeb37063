// Zone keys: the symmetric key that seals a zone's symbols, its 8-byte key id, the zone's
// ObjectIdKey (stable across rotations, FCP V2 §3.1) and the key epoch (rotation counter).
import { randomBytes } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import { CryptoError } from './errors.js';
import { requireBytes, requireSafeUint, utf8 } from './bytes.js';
import { validateZoneId } from './object-id.js';

export interface ZoneKey {
  zoneId: string;
  /** 8 bytes; names this key version in every envelope so no trial decryption is needed. */
  keyId: Uint8Array;
  /** 32-byte ChaCha20-Poly1305 zone key; per-sender subkeys derive from it. */
  key: Uint8Array;
  /** 32-byte ObjectIdKey of the zone. */
  objectIdKey: Uint8Array;
  /** Key epoch (0, 1, 2, ... on each rotation); a safe integer. */
  epoch: number;
  /**
   * Keys of earlier epochs this device still accepts when opening (kept while re-sealing after a
   * rotation runs, then dropped). Never used to seal; never serialized with this key.
   */
  older?: readonly ZoneKey[];
}

/** The key of `zk`'s zone named by `keyId`: the current one or an older epoch still kept. */
export function zoneKeyFor(zk: ZoneKey, keyId: Uint8Array): ZoneKey | undefined {
  const same = (a: Uint8Array) => a.length === keyId.length && a.every((b, i) => b === keyId[i]);
  if (same(zk.keyId)) return zk;
  return zk.older?.find((o) => same(o.keyId));
}

const KEY_ID_DOMAIN = utf8('FCP2-ZONE-KEY-ID-V1');

/** The key id is a short hash of the key, so an id can never name two different keys. */
export function zoneKeyId(key: Uint8Array): Uint8Array {
  return blake3.create().update(KEY_ID_DOMAIN).update(requireBytes(key, 32, 'zone key')).digest().slice(0, 8);
}

export function generateZoneKey(zoneId: string, opts: { epoch?: number } = {}): ZoneKey {
  validateZoneId(zoneId);
  const epoch = requireSafeUint(opts.epoch ?? 0, 'epoch');
  const key = new Uint8Array(randomBytes(32));
  return { zoneId, keyId: zoneKeyId(key), key, objectIdKey: new Uint8Array(randomBytes(32)), epoch };
}

/** A fresh symmetric key with the next epoch; the ObjectIdKey stays, so ObjectIds are stable. */
export function rotateZoneKey(previous: ZoneKey): ZoneKey {
  const key = new Uint8Array(randomBytes(32));
  return {
    zoneId: previous.zoneId,
    keyId: zoneKeyId(key),
    key,
    objectIdKey: previous.objectIdKey.slice(),
    epoch: requireSafeUint(previous.epoch + 1, 'epoch'),
  };
}

// Binary form: "FZK1" | epoch u64 BE | keyId 8 | key 32 | objectIdKey 32 | zoneLen u8 | zone ASCII.
const MAGIC = utf8('FZK1');
const FIXED = 4 + 8 + 8 + 32 + 32 + 1;

export function serializeZoneKey(zk: ZoneKey): Uint8Array {
  validateZoneId(zk.zoneId);
  requireBytes(zk.keyId, 8, 'keyId');
  requireBytes(zk.key, 32, 'key');
  requireBytes(zk.objectIdKey, 32, 'objectIdKey');
  const epoch = requireSafeUint(zk.epoch, 'epoch');
  const zone = utf8(zk.zoneId);
  const out = Buffer.alloc(FIXED + zone.length);
  out.set(MAGIC, 0);
  out.writeBigUInt64BE(BigInt(epoch), 4);
  out.set(zk.keyId, 12);
  out.set(zk.key, 20);
  out.set(zk.objectIdKey, 52);
  out[84] = zone.length;
  out.set(zone, 85);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Parses serializeZoneKey output; throws CRYPTO_BAD_KEY on anything malformed or inconsistent. */
export function parseZoneKey(bytes: Uint8Array): ZoneKey {
  const bad = (why: string) => new CryptoError('CRYPTO_BAD_KEY', `not a valid zone key file: ${why}`);
  if (!(bytes instanceof Uint8Array) || bytes.length < FIXED) throw bad('too short');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, 4).equals(MAGIC)) throw bad('wrong magic');
  const epoch = buf.readBigUInt64BE(4);
  if (epoch > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('epoch out of range');
  const zoneLen = buf[84]!;
  if (buf.length !== FIXED + zoneLen) throw bad('length does not match the zone id length');
  const zoneId = buf.subarray(85).toString('latin1');
  try {
    validateZoneId(zoneId);
  } catch {
    throw bad('invalid zone id');
  }
  const key = new Uint8Array(buf.subarray(20, 52));
  const keyId = new Uint8Array(buf.subarray(12, 20));
  if (!Buffer.from(zoneKeyId(key)).equals(keyId)) throw bad('key id does not match the key');
  return { zoneId, keyId, key, objectIdKey: new Uint8Array(buf.subarray(52, 84)), epoch: Number(epoch) };
}

const KEY_REQUEST_DOMAIN = utf8('FCP-ZONE-KEY-REQUEST-V1');

/**
 * What a member presents when it asks a peer for a newer epoch: keyed BLAKE3 under the zone's
 * ObjectIdKey (the one part of a zone key every epoch keeps) over its node id and the X25519 key
 * the answer is to be sealed to. Only a device that once joined the zone can make it.
 */
export function zoneKeyRequestProof(objectIdKey: Uint8Array, stableId: string, boxPublicKey: Uint8Array): Uint8Array {
  const id = utf8(stableId);
  return blake3
    .create({ key: requireBytes(objectIdKey, 32, 'objectIdKey') })
    .update(KEY_REQUEST_DOMAIN)
    .update(new Uint8Array([id.length >> 8, id.length & 0xff]))
    .update(id)
    .update(requireBytes(boxPublicKey, 32, 'boxPublicKey'))
    .digest();
}
