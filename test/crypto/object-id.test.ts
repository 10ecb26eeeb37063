// ObjectId per FCP V2 §3.1: formula, sensitivity to every input, streaming, hex round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import { CryptoError, objectId, objectIdFromHex, objectIdHasher, objectIdToHex, schemaHash, zoneIdHash, validateZoneId } from '../../src/crypto/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const key = new Uint8Array(randomBytes(32));

test('ObjectId equals keyed BLAKE3 over "FCP2-OBJECT-V2" || zone || schemaHash || content', () => {
  const content = enc('hello mesh');
  const sHash = blake3(new Uint8Array([...enc('FCP2-SCHEMA-V1'), ...enc('fcp.mesh:blob@1')]));
  assert.deepEqual(schemaHash('fcp.mesh:blob@1'), sHash);
  const expected = blake3(new Uint8Array([...enc('FCP2-OBJECT-V2'), ...enc('z:private'), ...sHash, ...content]), { key });
  assert.deepEqual(objectId(key, 'z:private', 'fcp.mesh:blob@1', content), expected);
  assert.deepEqual(zoneIdHash('z:owner'), blake3(new Uint8Array([...enc('FCP2-ZONE-ID-V1'), ...enc('z:owner')])));
});

test('ObjectId changes with key, zone, schema and content', () => {
  const content = new Uint8Array(randomBytes(100));
  const base = objectIdToHex(objectId(key, 'z:private', 's:a@1', content));
  const otherKey = new Uint8Array(key);
  otherKey[0]! ^= 1;
  const flipped = new Uint8Array(content);
  flipped[99]! ^= 1;
  const variants = [
    objectId(otherKey, 'z:private', 's:a@1', content),
    objectId(key, 'z:work', 's:a@1', content),
    objectId(key, 'z:private', 's:a@2', content),
    objectId(key, 'z:private', 's:a@1', flipped),
  ].map(objectIdToHex);
  assert.equal(new Set([base, ...variants]).size, 5);
  assert.equal(objectIdToHex(objectId(key, 'z:private', 's:a@1', content)), base, 'deterministic');
});

test('streaming hasher over uneven chunks equals the one-shot id (3 MiB content)', () => {
  const content = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));
  const h = objectIdHasher(key, 'z:owner', 'fcp.mesh:file@1');
  for (let at = 0; at < content.length; at += 123457) h.update(content.subarray(at, at + 123457));
  assert.deepEqual(h.digest(), objectId(key, 'z:owner', 'fcp.mesh:file@1', content));
  assert.throws(() => h.digest(), { code: 'CRYPTO_BAD_INPUT' });
});

test('hex round trip and typed errors for bad hex', () => {
  const id = objectId(key, 'z:public', 'x@1', new Uint8Array(0));
  const hex = objectIdToHex(id);
  assert.match(hex, /^[0-9a-f]{64}$/);
  assert.deepEqual(objectIdFromHex(hex), id);
  assert.deepEqual(objectIdFromHex(hex.toUpperCase()), id);
  for (const bad of ['', 'abc', hex.slice(2), hex + '00', 'zz' + hex.slice(2), ' ' + hex.slice(1), 42 as unknown as string]) {
    assert.throws(() => objectIdFromHex(bad), (e: unknown) => e instanceof CryptoError && e.code === 'CRYPTO_BAD_HEX');
  }
  assert.throws(() => objectIdToHex(new Uint8Array(31)), { code: 'CRYPTO_BAD_INPUT' });
});

test('zone ids follow FCP V2 §3.4; bad zones, schemas and keys give typed errors', () => {
  for (const good of ['z:owner', 'z:private', 'z:my-team_2']) assert.equal(validateZoneId(good), good);
  for (const bad of ['', 'Z:owner', 'z:ów', 'z owner', 'z:' + 'a'.repeat(63)]) {
    assert.throws(() => validateZoneId(bad), { code: 'CRYPTO_BAD_ZONE' });
    assert.throws(() => objectId(key, bad, 's@1', new Uint8Array(1)), { code: 'CRYPTO_BAD_ZONE' });
  }
  assert.throws(() => objectId(key, 'z:owner', '', new Uint8Array(1)), { code: 'CRYPTO_BAD_INPUT' });
  assert.throws(() => objectId(key, 'z:owner', 'x'.repeat(300), new Uint8Array(1)), { code: 'CRYPTO_BAD_INPUT' });
  assert.throws(() => objectId(new Uint8Array(16), 'z:owner', 's@1', new Uint8Array(1)), { code: 'CRYPTO_BAD_INPUT' });
  assert.throws(() => objectId(key, 'z:owner', 's@1', 'text' as unknown as Uint8Array), { code: 'CRYPTO_BAD_INPUT' });
});
