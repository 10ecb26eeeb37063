// A reset device's earlier node key is kept as a former key (a key history), not forgotten: the
// tombstones it signed with it before the reset are still taken, by the device itself (its former
// keys come with `fcp join` from the member that lets it in) and by a device whose user trusted
// its new key since; a key never trusted, or the former key used after it was superseded, is not.
import { after, before, describe, test } from 'node:test';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { LOCAL_CONTROL } from '../../src/authz/index.js';
import { generateNodeKeys, type Tombstone } from '../../src/crypto/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { FORMER_KEY_SKEW_MS, signTombstone, SignerKeys } from '../../src/mesh/index.js';
import { InProcessMesh } from './in-process.js';

const ZONE = 'z:private';
const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

describe('key history: records signed by a superseded but trusted key', () => {
  let mesh: InProcessMesh;
  const id = (name: string) => mesh.tailnet.device(name).stableId;
  const zone = () => mesh.node('desktop').node.zones.get(ZONE);
  const objectId = () => new Uint8Array(randomBytes(32));
  let oldSecret: Uint8Array;
  let oldPublic: Uint8Array;
  let before1: Uint8Array;

  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(160));
    // Every device pins server's key (first use) by a read of its info.
    for (const n of ['laptop', 'desktop', 'phone']) await mesh.node(n).node.signers.keyOf(id('server'));
    oldSecret = mesh.node('server').node.keyring.node.signingSecretKey;
    oldPublic = mesh.node('server').node.keyring.node.signingPublicKey;
  });
  after(async () => mesh?.stop());

  test('the reset device takes back its own tombstones; a device that trusted its new key takes them too', async () => {
    // laptop is away when server collects an object: the tombstone (signed by server's key now) reaches the others.
    await mesh.kill('laptop');
    before1 = objectId();
    await mesh.node('server').node.records.spreadTombstones(zone(), [{ objectId: before1, zone: ZONE, at: Date.now(), dead: true }]);
    assert.equal(mesh.node('desktop').node.store.getTombstone(before1)?.dead, true);

    await mesh.reset('server', 'desktop');
    const server = mesh.node('server').node;
    assert.notDeepEqual(server.keyring.node.signingPublicKey, oldPublic, 'a new node key');
    assert.deepEqual(server.signers.formerKeys(id('server')).map((f) => f.key), [oldPublic], 'its old key came with the join, as its own former key');
    const pulled = await server.records.pullTombstones(zone());
    assert.equal(pulled.refused, 0, 'nothing refused');
    assert.equal(server.store.getTombstone(before1)?.dead, true, 'its own tombstone, signed by its old key, is taken back');

    await mesh.startNode('laptop');
    const laptop = mesh.node('laptop').node;
    await mesh.node('laptop').services.lifecycle.trustDevice(LOCAL_CONTROL, 'server');
    assert.deepEqual(laptop.signers.pinned(id('server')), server.keyring.node.signingPublicKey);
    assert.deepEqual(laptop.signers.formerKeys(id('server')).map((f) => f.key), [oldPublic], 'the replaced pin is a former key now');
    const r = await laptop.records.pullTombstones(zone());
    assert.equal(r.refused, 0);
    assert.equal(laptop.store.getTombstone(before1)?.dead, true, 'a tombstone of the old key, learnt after the new key was trusted, is taken');
    // The history is on disk.
    const reread = new SignerKeys({ path: join(mesh.dir, 'laptop', 'signer-keys.json'), self: { stableId: 'x', signingPublicKey: new Uint8Array(32) }, ask: () => Promise.reject(new Error('no')), log: pino({ level: 'silent' }) });
    assert.deepEqual(reread.formerKeys(id('server')).map((f) => f.key), [oldPublic]);
  });

  test('refused: a key the owner never trusted, and the former key signing after it was superseded', async () => {
    const laptop = mesh.node('laptop').node;
    const stranger = generateNodeKeys();
    const forged: Tombstone = signTombstone({ objectId: objectId(), zone: ZONE, at: Date.now(), dead: true }, id('server'), stranger.signingSecretKey);
    await assert.rejects(laptop.records.acceptTombstones([forged]), code('MESH_BAD_SIGNATURE'));
    const until = laptop.signers.formerKeys(id('server'))[0]!.until;
    const late = signTombstone({ objectId: objectId(), zone: ZONE, at: until + FORMER_KEY_SKEW_MS + 60_000, dead: true }, id('server'), oldSecret);
    await assert.rejects(laptop.records.acceptTombstones([late]), code('MESH_BAD_SIGNATURE'), 'the old key may not sign anything dated after it was superseded');
    const server = mesh.node('server').node;
    await assert.rejects(server.records.acceptTombstones([forged]), code('MESH_BAD_SIGNATURE'), 'nor does the reset device take a stranger\'s key for its own');
    const inTime = signTombstone({ objectId: objectId(), zone: ZONE, at: until - 1_000, dead: true }, id('server'), oldSecret);
    await laptop.records.acceptTombstones([inTime]);
    assert.equal(laptop.store.getTombstone(inTime.objectId)?.dead, true, 'one dated while the old key was server\'s is taken');
  });
});

test('signer-keys.json: an older file (pins only) still loads; a replaced pin becomes a former key dated by the clock', () => {
  const dir = join(tmpdir(), `fcp-signers-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  try {
    const path = join(dir, 'signer-keys.json');
    const [a, b] = [generateNodeKeys().signingPublicKey, generateNodeKeys().signingPublicKey];
    writeFileSync(path, JSON.stringify({ nX: Buffer.from(a).toString('base64') }));
    let now = 1_000_000;
    const open = () => new SignerKeys({ path, self: { stableId: 'nSELF', signingPublicKey: new Uint8Array(32) }, ask: () => Promise.reject(new Error('no')), log: pino({ level: 'silent' }), now: () => now });
    const keys = open();
    assert.deepEqual(keys.pinned('nX'), a, 'the old format is read');
    now = 2_000_000;
    keys.replace('nX', b, 'local-user');
    assert.deepEqual(keys.formerKeys('nX'), [{ key: a, until: 2_000_000 }]);
    assert.deepEqual(keys.keysAt('nX', 2_000_000), [b, a], 'a record of that time verifies under either');
    assert.deepEqual(keys.keysAt('nX', 2_000_000 + FORMER_KEY_SKEW_MS + 1), [b], 'a later one only under the pin');
    assert.deepEqual(open().formerKeys('nX'), [{ key: a, until: 2_000_000 }], 'kept on disk');
    keys.replace('nX', a, 'local-user');
    assert.deepEqual(keys.formerKeys('nX').map((f) => f.key), [b], 'a key trusted again is no former key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
