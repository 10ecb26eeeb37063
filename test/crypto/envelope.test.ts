// Symbol envelopes: round trip, byte-equality with an independent @noble/ciphers computation,
// and rejection of every kind of move, tamper and malformation with a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { blake3 } from '@noble/hashes/blake3.js';
import fc from 'fast-check';
import {
  CryptoError,
  forgetZoneKey,
  parseZoneKey,
  serializeZoneKey,
  ENVELOPE_HEADER_BYTES,
  ENVELOPE_OVERHEAD,
  SymbolSealer,
  envelopeHeader,
  generateZoneKey,
  openSymbol,
  rotateZoneKey,
  sealSymbol,
  sealSymbolRun,
  zoneIdHash,
  type SymbolHeader,
  type ZoneKey,
} from '../../src/crypto/index.js';

const zk = generateZoneKey('z:private', { epoch: 3 });
const objectId = new Uint8Array(randomBytes(32));
const symbol = new Uint8Array(randomBytes(1280));
const header: SymbolHeader = { objectId, sbn: 2, esi: 70000, k: 820, sourceId: 'nodeA1CNTRL', senderInstanceId: 0x0123456789abcdefn, frameSeq: 42n };
const expect = { objectId, sbn: 2, esi: 70000, zoneId: 'z:private' };

function expectCode(fn: () => unknown, code: string) {
  assert.throws(fn, (err: unknown) => err instanceof CryptoError && err.code === code);
}

test('seal then open returns the symbol; header is readable without the key', () => {
  const env = sealSymbol(zk, header, symbol);
  assert.equal(env.length, symbol.length + ENVELOPE_OVERHEAD);
  assert.deepEqual(openSymbol(zk, env, expect), symbol);
  const h = envelopeHeader(env);
  assert.equal(h.sbn, 2);
  assert.equal(h.esi, 70000);
  assert.equal(h.k, 820);
  assert.equal(h.epoch, 3);
  assert.deepEqual(h.keyId, zk.keyId);
  assert.equal(h.senderInstanceId, header.senderInstanceId);
  assert.equal(h.frameSeq, 42n);
  assert.equal(h.symbolLength, 1280);
  // The plaintext does not appear in the envelope.
  assert.equal(Buffer.from(env).includes(Buffer.from(symbol.subarray(0, 32))), false);
});

test('envelope is byte-equal to an independent @noble computation of the documented format', () => {
  const env = sealSymbol(zk, header, symbol);
  const head = env.subarray(0, ENVELOPE_HEADER_BYTES);
  const tag = blake3(new TextEncoder().encode('FCP2-SOURCE-ID-V1' + header.sourceId)).slice(0, 8);
  assert.deepEqual(head.subarray(24, 32), tag);
  const info = new Uint8Array(18 + 16);
  info.set(new TextEncoder().encode('FCP2-SENDER-KEY-V1'));
  info.set(tag, 18);
  new DataView(info.buffer).setBigUint64(26, header.senderInstanceId, true);
  const subkey = hkdf(sha256, zk.key, zk.keyId, info, 32);
  const nonce = new Uint8Array(12);
  const dv = new DataView(nonce.buffer);
  dv.setBigUint64(0, header.frameSeq, true);
  dv.setUint32(8, ((header.sbn << 24) | header.esi) >>> 0, true);
  const aad = new Uint8Array(112);
  aad.set(objectId, 0);
  aad.set(zoneIdHash('z:private'), 32);
  aad.set(head, 64);
  const expected = chacha20poly1305(subkey, nonce, aad).encrypt(symbol);
  assert.deepEqual(env.subarray(ENVELOPE_HEADER_BYTES), expected);
});

test('a symbol moved to another object, block, position or zone fails authentication', () => {
  const env = sealSymbol(zk, header, symbol);
  const otherObject = new Uint8Array(objectId);
  otherObject[0]! ^= 1;
  expectCode(() => openSymbol(zk, env, { ...expect, objectId: otherObject }), 'CRYPTO_AEAD_FAIL');
  expectCode(() => openSymbol(zk, env, { ...expect, sbn: 3 }), 'CRYPTO_AEAD_FAIL');
  expectCode(() => openSymbol(zk, env, { ...expect, esi: 70001 }), 'CRYPTO_AEAD_FAIL');
  // Same key material claimed for another zone: the zone hash in the AAD differs.
  expectCode(() => openSymbol(zk, env, { ...expect, zoneId: 'z:work' }), 'CRYPTO_AEAD_FAIL');
  // Relabelled header (sbn/esi rewritten to match the expectation) still fails.
  const relabelled = new Uint8Array(env);
  relabelled[2] = 3;
  expectCode(() => openSymbol(zk, relabelled, { ...expect, sbn: 3 }), 'CRYPTO_AEAD_FAIL');
});

test('another zone key, a rotated key, or a changed epoch is refused', () => {
  const env = sealSymbol(zk, header, symbol);
  expectCode(() => openSymbol(generateZoneKey('z:private', { epoch: 3 }), env, expect), 'CRYPTO_KEY_ID_MISMATCH');
  expectCode(() => openSymbol(rotateZoneKey(zk), env, expect), 'CRYPTO_KEY_ID_MISMATCH');
  const otherEpoch: ZoneKey = { ...zk, epoch: 4 };
  expectCode(() => openSymbol(otherEpoch, env, expect), 'CRYPTO_KEY_ID_MISMATCH');
  // A zone key with the same key id but different key bytes (forgery attempt) fails the AEAD.
  const forged: ZoneKey = { ...zk, key: new Uint8Array(randomBytes(32)) };
  const forgedEnv = sealSymbol(forged, header, symbol);
  expectCode(() => openSymbol(zk, forgedEnv, expect), 'CRYPTO_AEAD_FAIL');
});

test('every single-bit flip anywhere in the envelope is detected', () => {
  const small = new Uint8Array(randomBytes(40));
  const env = sealSymbol(zk, header, small);
  for (let bit = 0; bit < env.length * 8; bit++) {
    const bad = new Uint8Array(env);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.throws(
      () => openSymbol(zk, bad, expect),
      (err: unknown) => err instanceof CryptoError && ['CRYPTO_AEAD_FAIL', 'CRYPTO_KEY_ID_MISMATCH', 'CRYPTO_BAD_ENVELOPE'].includes(err.code),
      `bit ${bit}`,
    );
  }
});

test('malformed envelopes give CRYPTO_BAD_ENVELOPE', () => {
  const env = sealSymbol(zk, header, symbol);
  expectCode(() => openSymbol(zk, env.subarray(0, ENVELOPE_OVERHEAD - 1), expect), 'CRYPTO_BAD_ENVELOPE');
  expectCode(() => envelopeHeader(new Uint8Array(0)), 'CRYPTO_BAD_ENVELOPE');
  const badVersion = new Uint8Array(env);
  badVersion[0] = 9;
  expectCode(() => openSymbol(zk, badVersion, expect), 'CRYPTO_BAD_ENVELOPE');
  const badAlg = new Uint8Array(env);
  badAlg[1] = 0;
  expectCode(() => envelopeHeader(badAlg), 'CRYPTO_BAD_ENVELOPE');
  expectCode(() => envelopeHeader('nope' as unknown as Uint8Array), 'CRYPTO_BAD_ENVELOPE');
});

test('seal rejects out-of-range header fields with CRYPTO_BAD_INPUT', () => {
  expectCode(() => sealSymbol(zk, { ...header, sbn: 256 }, symbol), 'CRYPTO_BAD_INPUT');
  expectCode(() => sealSymbol(zk, { ...header, esi: 1 << 24 }, symbol), 'CRYPTO_BAD_INPUT');
  expectCode(() => sealSymbol(zk, { ...header, k: 70000 }, symbol), 'CRYPTO_BAD_INPUT');
  expectCode(() => sealSymbol(zk, { ...header, frameSeq: -1n }, symbol), 'CRYPTO_BAD_INPUT');
  expectCode(() => sealSymbol(zk, { ...header, senderInstanceId: 1n << 64n }, symbol), 'CRYPTO_BAD_INPUT');
  expectCode(() => sealSymbol(zk, { ...header, objectId: new Uint8Array(31) }, symbol), 'CRYPTO_BAD_INPUT');
  expectCode(() => sealSymbol(zk, { ...header, sourceId: '' }, symbol), 'CRYPTO_BAD_INPUT');
});

test('SymbolSealer never repeats a nonce: same symbol sealed twice gives different ciphertexts', () => {
  const sealer = new SymbolSealer('nodeB');
  const a = sealer.seal(zk, { objectId, sbn: 0, esi: 1, k: 10 }, symbol);
  const b = sealer.seal(zk, { objectId, sbn: 0, esi: 1, k: 10 }, symbol);
  assert.notDeepEqual(a.subarray(ENVELOPE_HEADER_BYTES), b.subarray(ENVELOPE_HEADER_BYTES));
  assert.equal(envelopeHeader(b).frameSeq, envelopeHeader(a).frameSeq + 1n);
  const other = new SymbolSealer('nodeB');
  assert.notEqual(other.senderInstanceId, sealer.senderInstanceId);
  for (const env of [a, b]) assert.deepEqual((openSymbol(zk, env, { objectId, sbn: 0, esi: 1, zoneId: 'z:private' })), symbol);
});

test('a receiver holding its own copy of the zone key opens what the sender sealed', () => {
  const env = sealSymbol(zk, header, symbol);
  const receiverCopy = parseZoneKey(serializeZoneKey(zk));
  assert.deepEqual(openSymbol(receiverCopy, env, expect), symbol);
});

test('forgetZoneKey drops cached subkeys: the forgotten key object no longer opens anything', () => {
  const local = parseZoneKey(serializeZoneKey(zk));
  const env = sealSymbol(local, header, symbol);
  assert.deepEqual(openSymbol(local, env, expect), symbol);
  forgetZoneKey(local);
  assert.deepEqual(local.key, new Uint8Array(32));
  expectCode(() => openSymbol(local, env, expect), 'CRYPTO_AEAD_FAIL');
  assert.deepEqual(openSymbol(zk, env, expect), symbol, 'other copies are unaffected');
});

test('property: any symbol at any position round-trips, and opening at any other position fails', () => {
  const sealer = new SymbolSealer('node-prop');
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xffffff }),
      fc.integer({ min: 1, max: 0xffff }),
      fc.integer({ min: 1, max: 0xffffff }),
      (data, sbn, esi, k, delta) => {
        const env = sealer.seal(zk, { objectId, sbn, esi, k }, data);
        assert.deepEqual(openSymbol(zk, env, { objectId, sbn, esi, zoneId: 'z:private' }), data);
        const h = envelopeHeader(env);
        assert.equal(h.k, k);
        assert.equal(h.symbolLength, data.length);
        expectCode(() => openSymbol(zk, env, { objectId, sbn, esi: (esi + delta) % 0x1000000, zoneId: 'z:private' }), 'CRYPTO_AEAD_FAIL');
      },
    ),
    { numRuns: 300 },
  );
});

test('a sealed run is byte-equal to sealing each symbol alone at the reserved frame numbers; the sealer never reuses them', () => {
  const sealer = new SymbolSealer('nodeB2CNTRL', 0x1111n);
  const before = sealer.seal(zk, { objectId, sbn: 0, esi: 0, k: 3 }, symbol);
  const count = 5;
  const run = sealer.reserveRun(zk, objectId, count);
  const after = sealer.seal(zk, { objectId, sbn: 0, esi: 0, k: 3 }, symbol);
  assert.equal(envelopeHeader(before).frameSeq, 0n);
  assert.equal(run.firstFrameSeq, 1n);
  assert.equal(envelopeHeader(after).frameSeq, 1n + BigInt(count), 'the next seal starts after the reserved range');
  const t = 64;
  const symbols = new Uint8Array(randomBytes(count * t));
  const sbns = Int32Array.from([0, 0, 1, 1, 1]);
  const esis = Int32Array.from([0, 7, 0, 1, 70000]);
  const kOf = (sbn: number) => (sbn === 0 ? 3 : 820);
  const out = sealSymbolRun(run, t, sbns, esis, kOf, symbols);
  assert.equal(out.length, count * (t + ENVELOPE_OVERHEAD));
  for (let i = 0; i < count; i++) {
    const env = out.subarray(i * (t + ENVELOPE_OVERHEAD), (i + 1) * (t + ENVELOPE_OVERHEAD));
    const alone = sealSymbol(zk, { objectId, sbn: sbns[i]!, esi: esis[i]!, k: kOf(sbns[i]!), sourceId: 'nodeB2CNTRL', senderInstanceId: 0x1111n, frameSeq: 1n + BigInt(i) }, symbols.subarray(i * t, (i + 1) * t));
    assert.deepEqual(Buffer.from(env), Buffer.from(alone), `envelope ${i}`);
    assert.deepEqual(Buffer.from(openSymbol(zk, env, { objectId, sbn: sbns[i]!, esi: esis[i]!, zoneId: 'z:private' })), Buffer.from(symbols.subarray(i * t, (i + 1) * t)));
  }
  expectCode(() => sealSymbolRun(run, t, Int32Array.from([256]), Int32Array.from([0]), kOf, symbols.subarray(0, t)), 'CRYPTO_BAD_INPUT');
  expectCode(() => sealSymbolRun({ ...run, subkey: new Uint8Array(31) }, t, sbns, esis, kOf, symbols), 'CRYPTO_BAD_INPUT');
});
