// Node keys, zone key files, sealed boxes and key-file permissions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateNodeKeys,
  generateZoneKey,
  openSealed,
  parseNodeKeys,
  parseZoneKey,
  readKeyFile,
  rotateZoneKey,
  sealTo,
  serializeNodeKeys,
  serializeZoneKey,
  sign,
  verify,
  writeKeyFile,
  zeroize,
} from '../../src/crypto/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

test('node keys sign and verify; a serialized key file re-derives the same public keys', () => {
  const keys = generateNodeKeys();
  const msg = enc('join request');
  const sig = sign(msg, keys.signingSecretKey);
  assert.equal(verify(sig, msg, keys.signingPublicKey), true);
  assert.equal(verify(sig, msg, generateNodeKeys().signingPublicKey), false);
  assert.equal(verify(sig.subarray(0, 63), msg, keys.signingPublicKey), false);
  assert.equal(verify(sig, msg, new Uint8Array(31)), false);
  const back = parseNodeKeys(serializeNodeKeys(keys));
  assert.deepEqual(back, keys);
  assert.throws(() => parseNodeKeys(new Uint8Array(68)), { code: 'CRYPTO_BAD_KEY' });
});

test('zone keys serialize and parse; rotation keeps the ObjectIdKey and bumps the epoch', () => {
  const zk = generateZoneKey('z:owner', { epoch: 7 });
  assert.equal(zk.keyId.length, 8);
  const back = parseZoneKey(serializeZoneKey(zk));
  assert.deepEqual(back, zk);
  const next = rotateZoneKey(zk);
  assert.equal(next.epoch, 8);
  assert.deepEqual(next.objectIdKey, zk.objectIdKey);
  assert.notDeepEqual(next.key, zk.key);
  assert.notDeepEqual(next.keyId, zk.keyId);
  const bytes = serializeZoneKey(zk);
  for (const bad of [bytes.subarray(0, 20), new Uint8Array(bytes.length), Uint8Array.from(bytes, (b, i) => (i === 30 ? b ^ 1 : b))]) {
    assert.throws(() => parseZoneKey(bad), { code: 'CRYPTO_BAD_KEY' });
  }
  assert.throws(() => generateZoneKey('Not A Zone'), { code: 'CRYPTO_BAD_ZONE' });
});

test('sealTo opens only with the recipient key and the same associated data', () => {
  const device = generateNodeKeys();
  const zk = generateZoneKey('z:private');
  const aad = enc('FCP2-ZONE-KEY|z:private|node-7');
  const box = sealTo(device.encryptionPublicKey, serializeZoneKey(zk), aad);
  assert.deepEqual(parseZoneKey(openSealed(device.encryptionSecretKey, box, aad)), zk);
  assert.throws(() => openSealed(generateNodeKeys().encryptionSecretKey, box, aad), { code: 'CRYPTO_AEAD_FAIL' });
  assert.throws(() => openSealed(device.encryptionSecretKey, box, enc('other')), { code: 'CRYPTO_AEAD_FAIL' });
  assert.throws(() => openSealed(device.encryptionSecretKey, box), { code: 'CRYPTO_AEAD_FAIL' });
  for (const at of [10, box.length - 1, box.length - 20]) {
    const bad = new Uint8Array(box);
    bad[at]! ^= 0x80;
    assert.throws(() => openSealed(device.encryptionSecretKey, bad, aad), { code: 'CRYPTO_AEAD_FAIL' });
  }
  const badSuite = new Uint8Array(box);
  badSuite[2] = 0x21;
  assert.throws(() => openSealed(device.encryptionSecretKey, badSuite, aad), { code: 'CRYPTO_BAD_ENVELOPE' });
  assert.throws(() => openSealed(device.encryptionSecretKey, box.subarray(0, 40), aad), { code: 'CRYPTO_BAD_ENVELOPE' });
  // Two seals of the same plaintext differ (fresh ephemeral key each time).
  assert.notDeepEqual(sealTo(device.encryptionPublicKey, enc('x')), sealTo(device.encryptionPublicKey, enc('x')));
  assert.throws(() => sealTo(new Uint8Array(32), enc('x')), { code: 'CRYPTO_BAD_KEY' });
});

test('key files are written 0600 and refused when group or others can read them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcp-keyfile-'));
  try {
    const path = join(dir, 'keys', 'node.key');
    const secret = serializeNodeKeys(generateNodeKeys());
    await writeKeyFile(path, secret);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'keys'))).mode & 0o777, 0o700);
    assert.deepEqual(await readKeyFile(path), secret);
    await writeKeyFile(path, enc('replaced'));
    assert.deepEqual(await readKeyFile(path), enc('replaced'));
    await chmod(path, 0o644);
    await assert.rejects(readKeyFile(path), { code: 'CRYPTO_KEY_FILE_PERMS' });
    const loose = join(dir, 'loose.key');
    await writeFile(loose, 'x', { mode: 0o640 });
    await chmod(loose, 0o640);
    await assert.rejects(readKeyFile(loose), { code: 'CRYPTO_KEY_FILE_PERMS' });
    await assert.rejects(readKeyFile(join(dir, 'absent.key')), { code: 'CRYPTO_KEY_FILE_MISSING' });
    await assert.rejects(readKeyFile(join(dir, 'keys')), { code: 'CRYPTO_BAD_KEY' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('zeroize clears a buffer in place', () => {
  const b = new Uint8Array([1, 2, 3]);
  zeroize(b);
  assert.deepEqual(b, new Uint8Array(3));
});
