// ObjectId (FCP V2 §3.1): keyed BLAKE3 over a domain tag, the zone id, the schema hash and the content.
// The key is the zone's ObjectIdKey, so ids of low-entropy objects cannot be guessed by outsiders.
import { blake3 } from '@noble/hashes/blake3.js';
import { CryptoError } from './errors.js';
import { fromHex, requireBytes, toHex, utf8 } from './bytes.js';
import { keyedBlake3 } from './keyed-blake3.js';

export const OBJECT_ID_BYTES = 32;
const OBJECT_DOMAIN = utf8('FCP2-OBJECT-V2');
const SCHEMA_DOMAIN = utf8('FCP2-SCHEMA-V1');
const ZONE_DOMAIN = utf8('FCP2-ZONE-ID-V1');
const MAX_ZONE_BYTES = 64;
const MAX_SCHEMA_BYTES = 256;
const ZONE_PATTERN = /^[a-z0-9:_-]+$/;

/** ZoneId rule of FCP V2 §3.4: ASCII `[a-z0-9:_-]`, 1..64 bytes. Throws CRYPTO_BAD_ZONE otherwise. */
export function validateZoneId(zone: string): string {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > MAX_ZONE_BYTES || !ZONE_PATTERN.test(zone)) {
    throw new CryptoError(
      'CRYPTO_BAD_ZONE',
      `zone id ${JSON.stringify(String(zone).slice(0, 80))} is invalid: use 1..64 characters of [a-z0-9:_-], e.g. "z:private"`,
    );
  }
  return zone;
}

function validateSchema(schema: string): Uint8Array {
  const bytes = typeof schema === 'string' ? utf8(schema) : new Uint8Array(0);
  if (bytes.length === 0 || bytes.length > MAX_SCHEMA_BYTES) {
    throw new CryptoError('CRYPTO_BAD_INPUT', `schema must be a non-empty string of at most ${MAX_SCHEMA_BYTES} bytes, e.g. "fcp.mesh:blob@1"`);
  }
  return bytes;
}

// Zone hashes are needed for every symbol envelope; zones are few, so cache them (bounded).
const zoneHashCache = new Map<string, Uint8Array>();

/** Fixed-size zone hash (FCP V2 §3.4): BLAKE3("FCP2-ZONE-ID-V1" || zone). Used in AEAD associated data. */
export function zoneIdHash(zone: string): Uint8Array {
  const cached = zoneHashCache.get(zone);
  if (cached) return cached;
  validateZoneId(zone);
  const h = blake3.create().update(ZONE_DOMAIN).update(utf8(zone)).digest();
  if (zoneHashCache.size >= 1024) zoneHashCache.clear();
  zoneHashCache.set(zone, h);
  return h;
}

/** Schema hash (FCP V2 §3.3): BLAKE3("FCP2-SCHEMA-V1" || "namespace:name@version"). */
export function schemaHash(schema: string): Uint8Array {
  return blake3.create().update(SCHEMA_DOMAIN).update(validateSchema(schema)).digest();
}

export interface ObjectIdHasher {
  update(chunk: Uint8Array): ObjectIdHasher;
  digest(): Uint8Array;
}

/** Streaming ObjectId: feed the content in chunks (large files), then call digest() once. */
export function objectIdHasher(key: Uint8Array, zone: string, schema: string): ObjectIdHasher {
  requireBytes(key, 32, 'ObjectIdKey');
  validateZoneId(zone);
  const h = blake3.create({ key }).update(OBJECT_DOMAIN).update(utf8(zone)).update(schemaHash(schema));
  let done = false;
  const hasher: ObjectIdHasher = {
    update(chunk: Uint8Array) {
      if (done) throw new CryptoError('CRYPTO_BAD_INPUT', 'ObjectId hasher already finished; create a new one');
      if (!(chunk instanceof Uint8Array)) throw new CryptoError('CRYPTO_BAD_INPUT', 'content chunk must be a Uint8Array');
      h.update(chunk);
      return hasher;
    },
    digest() {
      if (done) throw new CryptoError('CRYPTO_BAD_INPUT', 'ObjectId hasher already finished; create a new one');
      done = true;
      return h.digest();
    },
  };
  return hasher;
}

// Large contents are fed in slices so the hasher never needs a second copy of the input.
const CHUNK = 1 << 20;

/** ObjectId = BLAKE3-keyed(ObjectIdKey, "FCP2-OBJECT-V2" || zone || schemaHash || content). */
export function objectId(key: Uint8Array, zone: string, schema: string, content: Uint8Array): Uint8Array {
  if (!(content instanceof Uint8Array)) throw new CryptoError('CRYPTO_BAD_INPUT', 'content must be a Uint8Array');
  const hasher = objectIdHasher(key, zone, schema);
  for (let at = 0; at < content.length; at += CHUNK) hasher.update(content.subarray(at, at + CHUNK));
  return hasher.digest();
}

export function objectIdToHex(id: Uint8Array): string {
  requireBytes(id, OBJECT_ID_BYTES, 'ObjectId');
  return toHex(id);
}

/** Parses a 64-character hex ObjectId; throws CryptoError CRYPTO_BAD_HEX on anything else. */
export function objectIdFromHex(hex: string): Uint8Array {
  return fromHex(hex, OBJECT_ID_BYTES);
}

/** ObjectId of `content`, byte-identical to objectId(), computed natively (or in WebAssembly). */
export async function computeObjectId(key: Uint8Array, zone: string, schema: string, content: Uint8Array): Promise<Uint8Array> {
  requireBytes(key, 32, 'ObjectIdKey');
  validateZoneId(zone);
  if (!(content instanceof Uint8Array)) throw new CryptoError('CRYPTO_BAD_INPUT', 'content must be a Uint8Array');
  return keyedBlake3(key, [OBJECT_DOMAIN, utf8(zone), schemaHash(schema), content]);
}
