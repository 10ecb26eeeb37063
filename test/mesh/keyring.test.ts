// Zone key epochs in the keyring: rotation keeps the older key on disk beside the new one, a
// received epoch is taken only with the zone's ObjectIdKey, dropping forgets the older key, and
// the current key (with its older ones attached) opens symbols of either epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateZoneKey, openSymbol, sealSymbol, zoneKeyRequestProof, rotateZoneKey, type CryptoError } from '../../src/crypto/index.js';
import { Keyring, type MeshError } from '../../src/mesh/index.js';

async function withKeyring(fn: (dir: string, k: Keyring) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fcp-keyring-'));
  try {
    await Keyring.init(dir);
    const k = await Keyring.load(dir);
    await k.saveZoneKey(generateZoneKey('z:private'));
    await fn(dir, k);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const header = (objectId: Uint8Array) => ({ objectId, sbn: 0, esi: 3, k: 10, sourceId: 'node-a', senderInstanceId: 7n, frameSeq: 1n });

test('rotate: the new epoch is current, the older kept on disk and after a reload; both open their symbols', () =>
  withKeyring(async (dir, k) => {
    const e0 = k.requireZoneKey('z:private');
    const objectId = new Uint8Array(randomBytes(32));
    const oldEnv = sealSymbol(e0, header(objectId), new Uint8Array([1, 2, 3]));
    const e1 = await k.rotate('z:private');
    assert.equal(e1.epoch, 1);
    assert.deepEqual(e1.objectIdKey, e0.objectIdKey, 'ObjectIds stay stable across epochs');
    assert.deepEqual(k.olderKeys('z:private').map((o) => o.epoch), [0]);
    const newEnv = sealSymbol(e1, header(objectId), new Uint8Array([4, 5]));
    const expect = { objectId, sbn: 0, esi: 3, zoneId: 'z:private' };
    assert.deepEqual(openSymbol(e1, oldEnv, expect), new Uint8Array([1, 2, 3]), 'the current key opens the older epoch while it is kept');
    assert.deepEqual(openSymbol(e1, newEnv, expect), new Uint8Array([4, 5]));
    assert.throws(() => openSymbol(e0, newEnv, expect), (e: CryptoError) => e.code === 'CRYPTO_KEY_ID_MISMATCH', 'the old key opens nothing of the new epoch');
    assert.deepEqual(await readdir(join(dir, 'zones', 'older')), ['z_private.0.key']);
    const again = await Keyring.load(dir);
    assert.equal(again.requireZoneKey('z:private').epoch, 1);
    assert.deepEqual(again.olderKeys('z:private').map((o) => o.epoch), [0]);

    assert.equal(await k.dropOlder('z:private'), 1);
    assert.deepEqual(k.olderKeys('z:private'), []);
    assert.deepEqual(await readdir(join(dir, 'zones', 'older')), []);
    assert.throws(() => openSymbol(k.requireZoneKey('z:private'), oldEnv, expect), (e: CryptoError) => e.code === 'CRYPTO_KEY_ID_MISMATCH', 'once dropped, the older epoch no longer opens');
    assert.deepEqual((await Keyring.load(dir)).olderKeys('z:private'), []);
  }));

test('accept: only a newer epoch of the same zone lineage; a key of another mesh is refused', () =>
  withKeyring(async (_dir, k) => {
    const e0 = k.requireZoneKey('z:private');
    const foreign = rotateZoneKey(generateZoneKey('z:private'));
    await assert.rejects(k.accept(foreign), (e: MeshError) => e.code === 'MESH_KEY_MISMATCH');
    assert.equal(await k.accept({ ...e0 }), false, 'the same epoch changes nothing');
    const e1 = rotateZoneKey(e0);
    assert.equal(await k.accept(e1), true);
    assert.equal(k.requireZoneKey('z:private').epoch, 1);
    assert.deepEqual(k.olderKeys('z:private').map((o) => o.epoch), [0]);
    await assert.rejects(k.accept(rotateZoneKey(generateZoneKey('z:work'))), (e: MeshError) => e.code === 'MESH_NO_ZONE_KEY', 'a zone never joined is not taken');
  }));

test('the key request proof binds the node id and the box key to the zone ObjectIdKey', () => {
  const oik = new Uint8Array(randomBytes(32));
  const box = new Uint8Array(randomBytes(32));
  const p = zoneKeyRequestProof(oik, 'node-a', box);
  assert.equal(p.length, 32);
  assert.deepEqual(zoneKeyRequestProof(oik, 'node-a', box), p);
  assert.notDeepEqual(zoneKeyRequestProof(oik, 'node-b', box), p);
  assert.notDeepEqual(zoneKeyRequestProof(oik, 'node-a', new Uint8Array(randomBytes(32))), p);
  assert.notDeepEqual(zoneKeyRequestProof(new Uint8Array(randomBytes(32)), 'node-a', box), p);
});

test('keepOlder: a joining device keeps the earlier epochs a member still holds; newer or foreign keys are ignored', () =>
  withKeyring(async (dir, k) => {
    const e0 = k.requireZoneKey('z:private');
    const e1 = rotateZoneKey(e0);
    const e2 = rotateZoneKey(e1);
    await k.saveZoneKey(e2, { force: true });
    assert.equal(await k.keepOlder(e1), true);
    assert.equal(await k.keepOlder(e1), false, 'kept once');
    assert.equal(await k.keepOlder(rotateZoneKey(e2)), false, 'a newer epoch is not an older one');
    assert.equal(await k.keepOlder({ ...generateZoneKey('z:private'), epoch: 0 }), false, 'another mesh');
    assert.deepEqual(k.olderKeys('z:private').map((o) => o.epoch), [1]);
    assert.deepEqual((await Keyring.load(dir)).olderKeys('z:private').map((o) => o.epoch), [1]);
  }));
