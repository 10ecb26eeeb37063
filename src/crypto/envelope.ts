// Symbol envelope (FCP V2 §4.1, adapted to several source blocks): every RaptorQ symbol at rest
// and on the wire is ChaCha20-Poly1305 ciphertext under a per-sender subkey of the zone key.
// The associated data binds ObjectId, zone, SBN, ESI, K, key id and epoch, so a symbol cannot be
// replayed into another object, zone, key or position. Layout and derivations: docs/protocol.md.
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import { CryptoError } from './errors.js';
import { requireBytes, requireSafeUint, requireU64, utf8 } from './bytes.js';
import { OBJECT_ID_BYTES, zoneIdHash } from './object-id.js';
import { zoneKeyFor, type ZoneKey } from './zone-key.js';

export const ENVELOPE_VERSION = 1;
export const ALG_CHACHA20_POLY1305 = 1;
export const ENVELOPE_HEADER_BYTES = 48;
export const ENVELOPE_TAG_BYTES = 16;
export const ENVELOPE_OVERHEAD = ENVELOPE_HEADER_BYTES + ENVELOPE_TAG_BYTES;
export const MAX_SBN = 0xff;
export const MAX_ESI = 0xffffff;
export const MAX_K = 0xffff;

export interface SymbolHeader {
  objectId: Uint8Array;
  sbn: number;
  esi: number;
  /** Source symbols of this source block (K). */
  k: number;
  /** Node id of the sealing device (its Tailscale stable id). */
  sourceId: string;
  /** Random u64 chosen by the sender at start-up; makes nonces safe across restarts. */
  senderInstanceId: bigint;
  /** Unique per (sourceId, senderInstanceId, key): a counter the sender never repeats. */
  frameSeq: bigint;
}

export interface EnvelopeHeader {
  version: number;
  sbn: number;
  esi: number;
  k: number;
  keyId: Uint8Array;
  epoch: number;
  /** 8-byte tag of the sender's node id (BLAKE3 of it); enters the subkey derivation. */
  sourceTag: Uint8Array;
  senderInstanceId: bigint;
  frameSeq: bigint;
  /** Length of the plaintext symbol. */
  symbolLength: number;
}

export interface OpenExpectation {
  objectId: Uint8Array;
  sbn: number;
  esi: number;
  zoneId: string;
}

const SOURCE_DOMAIN = utf8('FCP2-SOURCE-ID-V1');
const SENDER_KEY_INFO = utf8('FCP2-SENDER-KEY-V1');
const sourceTagCache = new Map<string, Uint8Array>();

/** sourceTag = first 8 bytes of BLAKE3("FCP2-SOURCE-ID-V1" || sourceId). */
export function sourceTag(sourceId: string): Uint8Array {
  if (typeof sourceId !== 'string' || sourceId.length === 0 || sourceId.length > 256) {
    throw new CryptoError('CRYPTO_BAD_INPUT', 'sourceId must be a non-empty string of at most 256 characters');
  }
  const cached = sourceTagCache.get(sourceId);
  if (cached) return cached;
  const tag = blake3.create().update(SOURCE_DOMAIN).update(utf8(sourceId)).digest().slice(0, 8);
  if (sourceTagCache.size >= 4096) sourceTagCache.clear();
  sourceTagCache.set(sourceId, tag);
  return tag;
}

/**
 * Per-sender subkey (FCP V2 §4.3.1): HKDF-SHA256(ikm = zone key, salt = key id,
 * info = "FCP2-SENDER-KEY-V1" || sourceTag || senderInstanceId_le, 32 bytes).
 */
export function deriveSenderSubkey(zk: ZoneKey, tag: Uint8Array, senderInstanceId: bigint): Uint8Array {
  const info = Buffer.alloc(SENDER_KEY_INFO.length + 16);
  info.set(SENDER_KEY_INFO, 0);
  info.set(tag, SENDER_KEY_INFO.length);
  info.writeBigUInt64LE(senderInstanceId, SENDER_KEY_INFO.length + 8);
  return new Uint8Array(hkdfSync('sha256', zk.key, zk.keyId, info, 32));
}

// Subkeys are cached per zone key object: HKDF per symbol would dominate the hot path. The last
// subkey used is kept aside because a sealer, and a burst of symbols from one peer, reuse it.
interface SubkeyCache {
  lastTag: Uint8Array | undefined;
  lastInstance: bigint;
  lastKeyId: Uint8Array | undefined;
  last: KeyObject | undefined;
  byId: Map<string, KeyObject>;
}
const subkeyCache = new WeakMap<Uint8Array, SubkeyCache>();
const SUBKEY_CACHE_LIMIT = 4096;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function cachedSubkey(zk: ZoneKey, tag: Uint8Array, senderInstanceId: bigint): KeyObject {
  let cache = subkeyCache.get(zk.key);
  if (!cache) {
    cache = { lastTag: undefined, lastInstance: 0n, lastKeyId: undefined, last: undefined, byId: new Map() };
    subkeyCache.set(zk.key, cache);
  }
  if (
    cache.last &&
    cache.lastInstance === senderInstanceId &&
    sameBytes(cache.lastTag!, tag) &&
    sameBytes(cache.lastKeyId!, zk.keyId)
  ) {
    return cache.last;
  }
  const id = Buffer.from(zk.keyId).toString('hex') + Buffer.from(tag).toString('hex') + senderInstanceId.toString(16);
  let subkey = cache.byId.get(id);
  if (!subkey) {
    const raw = deriveSenderSubkey(zk, tag, senderInstanceId);
    subkey = createSecretKey(raw);
    raw.fill(0);
    if (cache.byId.size >= SUBKEY_CACHE_LIMIT) cache.byId.clear();
    cache.byId.set(id, subkey);
  }
  cache.last = subkey;
  cache.lastTag = tag.slice();
  cache.lastInstance = senderInstanceId;
  cache.lastKeyId = zk.keyId.slice();
  return subkey;
}

/** Drops the subkeys derived from a zone key and zeroes its key material (after rotation or removal). */
export function forgetZoneKey(zk: ZoneKey): void {
  subkeyCache.delete(zk.key);
  zk.key.fill(0);
  zk.objectIdKey.fill(0);
}

/** nonce12 = frameSeq_le(8) || fecPayloadId_le(4), where fecPayloadId = SBN << 24 | ESI (RFC 6330 §3.2). */
export function symbolNonce(frameSeq: bigint, sbn: number, esi: number, out: Buffer = Buffer.alloc(12)): Buffer {
  out.writeBigUInt64LE(frameSeq, 0);
  out.writeUInt32LE(((sbn << 24) | esi) >>> 0, 8);
  return out;
}

/** aad = objectId(32) || zoneIdHash(32) || envelope header(48). */
export function symbolAad(objectId: Uint8Array, zoneId: string, header: Uint8Array, out: Buffer = Buffer.alloc(112)): Buffer {
  out.set(objectId, 0);
  out.set(zoneIdHash(zoneId), 32);
  out.set(header.subarray(0, ENVELOPE_HEADER_BYTES), 64);
  return out;
}

// Scratch buffers reused by the synchronous seal/open calls (no per-call allocation besides the output).
const nonceScratch = Buffer.alloc(12);
const aadScratch = Buffer.alloc(OBJECT_ID_BYTES * 2 + ENVELOPE_HEADER_BYTES);

function checkSymbolHeader(zk: ZoneKey, h: SymbolHeader): void {
  requireBytes(h.objectId, OBJECT_ID_BYTES, 'objectId');
  requireSafeUint(h.sbn, 'sbn', MAX_SBN);
  requireSafeUint(h.esi, 'esi', MAX_ESI);
  requireSafeUint(h.k, 'k', MAX_K);
  requireU64(h.senderInstanceId, 'senderInstanceId');
  requireU64(h.frameSeq, 'frameSeq');
  requireBytes(zk.key, 32, 'zone key');
  requireBytes(zk.keyId, 8, 'zone key id');
  requireSafeUint(zk.epoch, 'epoch');
}

/** Seals one symbol into a self-describing envelope: header(48) || ciphertext || tag(16). */
export function sealSymbol(zk: ZoneKey, h: SymbolHeader, symbol: Uint8Array): Uint8Array {
  checkSymbolHeader(zk, h);
  if (!(symbol instanceof Uint8Array)) throw new CryptoError('CRYPTO_BAD_INPUT', 'symbol must be a Uint8Array');
  const tag = sourceTag(h.sourceId);
  // Unpooled: the envelope owns its ArrayBuffer, so callers may keep or transfer it.
  const out = Buffer.allocUnsafeSlow(ENVELOPE_OVERHEAD + symbol.length);
  const fixed = { keyId: zk.keyId, epoch: zk.epoch, sourceTag: tag, senderInstanceId: h.senderInstanceId, objectId: h.objectId, zoneHash: zoneIdHash(zk.zoneId) };
  sealInto(cachedSubkey(zk, tag, h.senderInstanceId), fixed, h.sbn, h.esi, h.k, h.frameSeq, symbol, out);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * What sealing a run of symbols of one object needs, as plain bytes: it crosses to the coding
 * worker, which seals as it encodes. It carries the sender subkey (never the zone key itself)
 * and the first frame sequence number of a range the sealer has reserved.
 */
export interface SealRun {
  subkey: Uint8Array;
  keyId: Uint8Array;
  epoch: number;
  sourceTag: Uint8Array;
  senderInstanceId: bigint;
  objectId: Uint8Array;
  zoneHash: Uint8Array;
  firstFrameSeq: bigint;
}

type SealFixed = Omit<SealRun, 'subkey' | 'firstFrameSeq'>;

/** Writes the envelope of one symbol into `out` (exactly ENVELOPE_OVERHEAD + symbol bytes). */
function sealInto(key: KeyObject, f: SealFixed, sbn: number, esi: number, k: number, frameSeq: bigint, symbol: Uint8Array, out: Buffer): void {
  out[0] = ENVELOPE_VERSION;
  out[1] = ALG_CHACHA20_POLY1305;
  out[2] = sbn;
  out.writeUIntBE(esi, 3, 3);
  out.writeUInt16BE(k, 6);
  out.set(f.keyId, 8);
  out.writeBigUInt64BE(BigInt(f.epoch), 16);
  out.set(f.sourceTag, 24);
  out.writeBigUInt64BE(f.senderInstanceId, 32);
  out.writeBigUInt64BE(frameSeq, 40);
  const cipher = createCipheriv('chacha20-poly1305', key, symbolNonce(frameSeq, sbn, esi, nonceScratch), { authTagLength: ENVELOPE_TAG_BYTES });
  aadScratch.set(f.objectId, 0);
  aadScratch.set(f.zoneHash, 32);
  aadScratch.set(out.subarray(0, ENVELOPE_HEADER_BYTES), 64);
  cipher.setAAD(aadScratch, { plaintextLength: symbol.length });
  cipher.update(symbol).copy(out, ENVELOPE_HEADER_BYTES);
  cipher.final();
  cipher.getAuthTag().copy(out, ENVELOPE_HEADER_BYTES + symbol.length);
}

/**
 * Seals `count` symbols of `symbolSize` bytes, back to back in `symbols`, into one buffer of
 * envelopes back to back (count x (symbolSize + ENVELOPE_OVERHEAD)): one allocation for the lot,
 * which crosses threads without a copy. Symbol i gets frame sequence firstFrameSeq + i.
 */
export function sealSymbolRun(run: SealRun, symbolSize: number, sbns: Int32Array, esis: Int32Array, kOf: (sbn: number) => number, symbols: Uint8Array): Uint8Array {
  const size = symbolSize + ENVELOPE_OVERHEAD;
  const out = new Uint8Array(Buffer.allocUnsafeSlow(sbns.length * size).buffer);
  for (let i = 0; i < sbns.length; i++) out.set(symbols.subarray(i * symbolSize, (i + 1) * symbolSize), i * size + ENVELOPE_HEADER_BYTES);
  sealSymbolRunInPlace(run, symbolSize, sbns, esis, kOf, out);
  return out;
}

/**
 * The same, for symbols already placed where their envelopes carry them (envelope i's symbol at
 * i * (symbolSize + ENVELOPE_OVERHEAD) + ENVELOPE_HEADER_BYTES): the coder writes them there,
 * so a store needs no second buffer the size of all its symbols.
 */
export function sealSymbolRunInPlace(run: SealRun, symbolSize: number, sbns: Int32Array, esis: Int32Array, kOf: (sbn: number) => number, envelopes: Uint8Array): void {
  requireBytes(run.subkey, 32, 'sender subkey');
  requireBytes(run.objectId, OBJECT_ID_BYTES, 'objectId');
  const count = sbns.length;
  const size = symbolSize + ENVELOPE_OVERHEAD;
  if (envelopes.length !== count * size) throw new RangeError(`a run of ${count} envelopes of ${size} bytes needs ${count * size} bytes, got ${envelopes.length}`);
  const out = Buffer.from(envelopes.buffer, envelopes.byteOffset, envelopes.byteLength);
  const key = createSecretKey(run.subkey);
  for (let i = 0; i < count; i++) {
    const sbn = sbns[i]!;
    const esi = esis[i]!;
    requireSafeUint(sbn, 'sbn', MAX_SBN);
    requireSafeUint(esi, 'esi', MAX_ESI);
    const env = out.subarray(i * size, (i + 1) * size);
    // sealInto encrypts into a new buffer before copying back, so the symbol may sit in `env`.
    sealInto(key, run, sbn, esi, requireSafeUint(kOf(sbn), 'k', MAX_K), run.firstFrameSeq + BigInt(i), env.subarray(ENVELOPE_HEADER_BYTES, ENVELOPE_HEADER_BYTES + symbolSize), env);
  }
}

function checkedEnvelope(envelope: Uint8Array): Buffer {
  if (!(envelope instanceof Uint8Array) || envelope.length < ENVELOPE_OVERHEAD) {
    throw new CryptoError('CRYPTO_BAD_ENVELOPE', `symbol envelope must be at least ${ENVELOPE_OVERHEAD} bytes`);
  }
  const buf = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  if (buf[0] !== ENVELOPE_VERSION) {
    throw new CryptoError('CRYPTO_BAD_ENVELOPE', `unsupported symbol envelope version ${buf[0]}; expected ${ENVELOPE_VERSION}`);
  }
  if (buf[1] !== ALG_CHACHA20_POLY1305) {
    throw new CryptoError('CRYPTO_BAD_ENVELOPE', `unsupported symbol envelope algorithm ${buf[1]}`);
  }
  return buf;
}

/** Reads the clear header of an envelope without decrypting; throws CRYPTO_BAD_ENVELOPE if malformed. */
export function envelopeHeader(envelope: Uint8Array): EnvelopeHeader {
  const buf = checkedEnvelope(envelope);
  const epoch = buf.readBigUInt64BE(16);
  if (epoch > BigInt(Number.MAX_SAFE_INTEGER)) throw new CryptoError('CRYPTO_BAD_ENVELOPE', 'envelope epoch out of range');
  return {
    version: buf[0]!,
    sbn: buf[2]!,
    esi: buf.readUIntBE(3, 3),
    k: buf.readUInt16BE(6),
    keyId: new Uint8Array(buf.subarray(8, 16)),
    epoch: Number(epoch),
    sourceTag: new Uint8Array(buf.subarray(24, 32)),
    senderInstanceId: buf.readBigUInt64BE(32),
    frameSeq: buf.readBigUInt64BE(40),
    symbolLength: buf.length - ENVELOPE_OVERHEAD,
  };
}

/**
 * Opens an envelope expected to hold symbol (sbn, esi) of objectId in zoneId.
 * Throws CRYPTO_BAD_ENVELOPE (malformed), CRYPTO_KEY_ID_MISMATCH (sealed under another key or
 * epoch) or CRYPTO_AEAD_FAIL (tampered, forged, or moved to another object/zone/position).
 */
export function openSymbol(current: ZoneKey, envelope: Uint8Array, expect: OpenExpectation): Uint8Array {
  const buf = checkedEnvelope(envelope);
  requireBytes(expect.objectId, OBJECT_ID_BYTES, 'expected objectId');
  requireBytes(current.keyId, 8, 'zone key id');
  // During re-sealing after a rotation, symbols of the older epochs still kept open too.
  const zk = (current.older?.length ? zoneKeyFor(current, buf.subarray(8, 16)) : undefined) ?? current;
  for (let i = 0; i < 8; i++) {
    if (buf[8 + i] !== zk.keyId[i]) {
      throw new CryptoError('CRYPTO_KEY_ID_MISMATCH', 'symbol was sealed under another zone key id; load the matching zone key');
    }
  }
  const epoch = buf.readUInt32BE(16) * 2 ** 32 + buf.readUInt32BE(20);
  if (epoch !== zk.epoch) {
    throw new CryptoError('CRYPTO_KEY_ID_MISMATCH', `symbol names key epoch ${epoch} but the zone key is epoch ${zk.epoch}`);
  }
  const sbn = buf[2]!;
  const esi = buf.readUIntBE(3, 3);
  if (sbn !== expect.sbn || esi !== expect.esi) {
    throw new CryptoError('CRYPTO_AEAD_FAIL', `symbol is labelled (${sbn}, ${esi}) but was expected at (${expect.sbn}, ${expect.esi})`);
  }
  // nonce = frameSeq_le || (sbn << 24 | esi)_le; the header holds frameSeq big-endian.
  for (let i = 0; i < 8; i++) nonceScratch[i] = buf[47 - i]!;
  nonceScratch.writeUInt32LE(((sbn << 24) | esi) >>> 0, 8);
  const subkey = cachedSubkey(zk, buf.subarray(24, 32), buf.readBigUInt64BE(32));
  const decipher = createDecipheriv('chacha20-poly1305', subkey, nonceScratch, { authTagLength: ENVELOPE_TAG_BYTES });
  const ctEnd = buf.length - ENVELOPE_TAG_BYTES;
  decipher.setAuthTag(buf.subarray(ctEnd));
  decipher.setAAD(symbolAad(expect.objectId, expect.zoneId, buf, aadScratch), { plaintextLength: ctEnd - ENVELOPE_HEADER_BYTES });
  const plain = decipher.update(buf.subarray(ENVELOPE_HEADER_BYTES, ctEnd));
  try {
    decipher.final();
  } catch {
    plain.fill(0);
    throw new CryptoError('CRYPTO_AEAD_FAIL', 'symbol failed authentication: it was tampered with, forged, or belongs to another object, zone or position');
  }
  return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
}

/**
 * Holds one sender's identity for sealing: a random instance id per process start and a frame
 * counter, so (subkey, nonce) pairs never repeat. Use one per daemon and zone key.
 */
export class SymbolSealer {
  readonly sourceId: string;
  readonly senderInstanceId: bigint;
  private nextFrameSeq = 0n;

  constructor(sourceId: string, senderInstanceId: bigint = randomBytes(8).readBigUInt64BE(0)) {
    sourceTag(sourceId);
    this.sourceId = sourceId;
    this.senderInstanceId = requireU64(senderInstanceId, 'senderInstanceId');
  }

  /**
   * Everything needed to seal `count` symbols of one object elsewhere (the coding worker), with
   * a range of frame numbers reserved for them: no other seal of this sealer reuses one.
   */
  reserveRun(zk: ZoneKey, objectId: Uint8Array, count: number): SealRun {
    requireBytes(zk.key, 32, 'zone key');
    requireBytes(zk.keyId, 8, 'zone key id');
    requireSafeUint(zk.epoch, 'epoch');
    requireBytes(objectId, OBJECT_ID_BYTES, 'objectId');
    const tag = sourceTag(this.sourceId);
    const firstFrameSeq = this.nextFrameSeq;
    this.nextFrameSeq += BigInt(count);
    return {
      subkey: deriveSenderSubkey(zk, tag, this.senderInstanceId),
      keyId: zk.keyId.slice(),
      epoch: zk.epoch,
      sourceTag: tag.slice(),
      senderInstanceId: this.senderInstanceId,
      objectId: objectId.slice(),
      zoneHash: zoneIdHash(zk.zoneId).slice(),
      firstFrameSeq,
    };
  }

  seal(zk: ZoneKey, h: { objectId: Uint8Array; sbn: number; esi: number; k: number }, symbol: Uint8Array): Uint8Array {
    const frameSeq = this.nextFrameSeq;
    this.nextFrameSeq += 1n;
    return sealSymbol(
      zk,
      { objectId: h.objectId, sbn: h.sbn, esi: h.esi, k: h.k, sourceId: this.sourceId, senderInstanceId: this.senderInstanceId, frameSeq },
      symbol,
    );
  }
}
