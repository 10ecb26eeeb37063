// The device lifecycle on an in-process mesh (real FCP over TCP between five devices): a device
// is removed while another member is away; the removed device is refused, the member that was away
// learns of the removal and the new key epoch when it is back, repair restores redundancy without
// the removed device, and re-sealing moves every symbol to the new epoch before the old key goes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LOCAL_CONTROL } from '../../src/authz/index.js';
import { bytesEqual, envelopeHeader, openSymbol, objectIdFromHex, CryptoError, type ZoneKey } from '../../src/crypto/index.js';
import type { FcpError } from '../../src/errors/index.js';
import type { MeshError } from '../../src/mesh/index.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from './in-process.js';

const ZONE = 'z:private';
const DEVICES: TailnetDescription = {
  tailnet: 'lifecycle.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1, address: '127.77.130.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 2, address: '127.77.130.2' },
    { name: 'nas', tags: ['tag:fcp-private'], os: 'linux', path: 'direct', latencyMs: 3, address: '127.77.130.3' },
    { name: 'desktop', tags: ['tag:fcp-private'], os: 'windows', path: 'direct', latencyMs: 4, address: '127.77.130.4' },
    { name: 'phone', tags: ['tag:fcp-private'], os: 'android', path: 'direct', latencyMs: 5, address: '127.77.130.5' },
  ],
};
const MEMBERS = ['laptop', 'server', 'nas', 'desktop'];

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('removing a device and rotating zone keys', () => {
  let mesh: InProcessMesh;
  const objects = new Map<string, Uint8Array>();
  let phoneId = '';
  let oldKey: ZoneKey;
  let newEpoch = 0;
  let afterRotation = '';

  before(async () => {
    // One object a re-sealing step, so a test can look at the mesh while re-sealing runs.
    mesh = await InProcessMesh.start(DEVICES, { reseal: { objectsPerStep: 1 } });
    for (let i = 0; i < 6; i++) {
      const data = new Uint8Array(randomBytes(3000 + i * 700));
      objects.set(await mesh.node('laptop').store(data, ZONE), data);
    }
    phoneId = mesh.tailnet.device('phone').stableId;
    oldKey = mesh.node('phone').node.keyring.requireZoneKey(ZONE);
  });
  after(async () => {
    await mesh?.stop();
  });

  test('unknown names, this device itself and a plain typo are refused with typed errors', async () => {
    const life = mesh.node('laptop').services.lifecycle;
    await assert.rejects(life.removeDevice(LOCAL_CONTROL, 'phnoe'), (e: FcpError) => e.code === 'DEVICE_NOT_FOUND' && /did you mean phone\?/.test(e.message));
    await assert.rejects(life.removeDevice(LOCAL_CONTROL, 'toaster'), (e: FcpError) => e.code === 'DEVICE_NOT_FOUND' && !/did you mean/.test(e.message) && /phone/.test(e.message));
    await assert.rejects(life.removeDevice(LOCAL_CONTROL, 'laptop'), (e: FcpError) => e.code === 'DEVICE_IS_SELF' && e.exitCode === 3);
    // A z:private device may not remove an owner device (it cannot write z:owner).
    await assert.rejects(mesh.node('nas').services.lifecycle.removeDevice(LOCAL_CONTROL, 'server'), (e: FcpError) => e.code === 'AUTHZ_DENIED');
    assert.equal(mesh.node('laptop').node.removed.list().length, 0, 'nothing was removed');
  });

  test('the phone is removed while the desktop is away: refused at once, its key epoch retired', async () => {
    await mesh.kill('desktop');
    mesh.tailnet.setOnline('desktop', false);
    await waitFor('laptop sees the desktop offline', () => mesh.node('laptop').node.directory.byStableId(mesh.tailnet.device('desktop').stableId)?.peer.online === false);

    const plan = mesh.node('laptop').services.lifecycle.planRemoval(LOCAL_CONTROL, 'phone');
    assert.deepEqual(plan.zones, [ZONE]);
    assert.ok(plan.rotate.includes(ZONE) && !plan.rotate.includes('z:owner'), `rotates the zones the phone could hold: ${plan.rotate.join(', ')}`);

    const r = await mesh.node('laptop').services.lifecycle.removeDevice(LOCAL_CONTROL, 'phone');
    assert.equal(r.changed, true);
    assert.equal(r.removed.stableId, phoneId);
    assert.deepEqual(r.told, ['nas', 'server']);
    assert.deepEqual(r.notReached, ['desktop']);
    const rotated = r.rotated.find((x) => x.zone === ZONE)!;
    assert.equal(rotated.epoch, oldKey.epoch + 1);
    assert.deepEqual(rotated.told, ['nas', 'server'], 'the new epoch went to the online members only, never to the phone');
    newEpoch = rotated.epoch;

    // The members told now no longer trust the phone, and hold the new epoch (the old one kept while re-sealing).
    for (const name of ['laptop', 'server', 'nas']) {
      const n = mesh.node(name).node;
      assert.ok(n.removed.has(phoneId), `${name} knows of the removal`);
      assert.equal(n.directory.byStableId(phoneId), undefined, `${name} no longer counts the phone as a peer`);
      assert.ok(!n.eligibility.holdersFor(n.zones.get(ZONE)).some((h) => h.stableId === phoneId), `${name} places nothing on the phone`);
      assert.ok(!mesh.node(name).hubMesh.devices(LOCAL_CONTROL).some((d) => d.stableId === phoneId), `${name}'s hub no longer places connectors or grants leases with the phone`);
      assert.equal(n.keyring.requireZoneKey(ZONE).epoch, newEpoch, `${name} has the new epoch`);
      assert.deepEqual(n.keyring.olderKeys(ZONE).map((k) => k.epoch), [oldKey.epoch]);
    }
    // Every FCP request of the phone is refused in authorize().
    const laptopId = mesh.tailnet.device('laptop').stableId;
    await assert.rejects(mesh.node('phone').node.call(laptopId, { t: 'info' }), (e: MeshError) => e.details?.peerCode === 'AUTHZ_DENIED' && /removed/.test(e.message));
    assert.deepEqual(((await mesh.node('phone').node.call(laptopId, { t: 'list', zone: ZONE })) as { manifests: unknown[] }).manifests, [], 'a listing shows it nothing');
    await assert.rejects(mesh.node('phone').node.call(laptopId, { t: 'removed_list' }), (e: MeshError) => e.details?.peerCode === 'AUTHZ_DENIED');
    // Removing it again changes nothing.
    const again = await mesh.node('server').services.lifecycle.removeDevice(LOCAL_CONTROL, 'phone');
    assert.equal(again.changed, false);
    assert.deepEqual(again.rotated, []);
  });

  test('the desktop, back, learns of the removal and the new epoch; repair restores redundancy without the phone', async () => {
    mesh.tailnet.setOnline('desktop', true);
    await mesh.startNode('desktop');
    const desktop = mesh.node('desktop').node;
    await waitFor('the desktop learned of the removal', () => desktop.removed.has(phoneId));
    await waitFor('the desktop took the new epoch', () => desktop.keyring.requireZoneKey(ZONE).epoch === newEpoch);
    assert.equal(desktop.directory.byStableId(phoneId), undefined);

    const healthy = async () => {
      const list = await mesh.node('laptop').list(ZONE);
      return list.length === objects.size && list.every((o) => o.ok && o.holders.every((h) => h.hostName !== 'phone'));
    };
    let added = 0;
    for (let i = 0; i < 10 && !(await healthy()); i++) {
      for (const name of MEMBERS) {
        await mesh.node(name).node.repair.pass();
        added = MEMBERS.reduce((a, n) => a + mesh.node(n).node.repair.stats.symbolsAdded, 0);
      }
    }
    assert.ok(await healthy(), 'every object meets its policy on the four members');
    assert.ok(added > 0, 'repair wrote the symbols the phone took with it');
  });

  test('new writes use the new epoch, old objects read while re-sealing runs, and the removed key opens nothing new', async () => {
    const data = new Uint8Array(randomBytes(5000));
    afterRotation = await mesh.node('server').store(data, ZONE);
    objects.set(afterRotation, data);
    const m = mesh.node('server').node.store.getManifest(objectIdFromHex(afterRotation))!;
    assert.equal(m.epoch, newEpoch);
    assert.ok(mesh.node('laptop').node.keyring.olderKeys(ZONE).length > 0, 're-sealing has not finished yet');
    for (const [id, bytes] of objects) assert.deepEqual(Buffer.from(await mesh.node('nas').retrieve(id)), Buffer.from(bytes), `nas reads ${id.slice(0, 8)}`);
    // The phone's (old) key cannot open a symbol written after the rotation.
    const [sym] = await mesh.stores.get('laptop')!.getSymbols(objectIdFromHex(afterRotation), undefined, 1);
    assert.ok(sym);
    assert.throws(() => openSymbol(oldKey, sym.env, { objectId: objectIdFromHex(afterRotation), sbn: sym.sbn, esi: sym.esi, zoneId: ZONE }), (e: CryptoError) => e.code === 'CRYPTO_KEY_ID_MISMATCH');
    // Nor can the phone ask for it.
    await assert.rejects(mesh.node('phone').retrieve(afterRotation));
  });

  test('re-sealing finishes on every member; then the old key is gone and every object still reads', async () => {
    const done = () => MEMBERS.every((n) => mesh.node(n).node.keyring.olderKeys(ZONE).length === 0);
    for (let i = 0; i < 200 && !done(); i++) for (const n of MEMBERS) await mesh.node(n).node.resealer.step();
    assert.ok(done(), 'every member dropped the old epoch');
    const newKey = mesh.node('laptop').node.keyring.requireZoneKey(ZONE);
    for (const n of MEMBERS) {
      const store = mesh.stores.get(n)!;
      for (const m of store.listManifests(ZONE)) {
        assert.ok(bytesEqual(m.keyId, newKey.keyId), `${n}: manifest points at the new key`);
        for (const s of await store.getSymbols(m.objectId)) assert.ok(bytesEqual(envelopeHeader(s.env).keyId, newKey.keyId), `${n}: every symbol re-sealed`);
      }
      const progress = mesh.node(n).node.resealer.progress().find((p) => p.zone === ZONE);
      assert.equal(progress?.state, 'done');
    }
    for (const [id, bytes] of objects) for (const n of ['laptop', 'desktop']) assert.deepEqual(Buffer.from(await mesh.node(n).retrieve(id)), Buffer.from(bytes));
  });

  test('re-sealing resumes after a restart, from its saved place', async () => {
    await mesh.node('laptop').services.lifecycle.rotateZone(LOCAL_CONTROL, ZONE);
    const laptop = () => mesh.node('laptop').node;
    assert.ok(laptop().keyring.olderKeys(ZONE).length > 0);
    const before = laptop().resealer.progress().find((p) => p.zone === ZONE)!;
    assert.equal(before.state, 'resealing');
    await mesh.kill('laptop');
    await mesh.startNode('laptop');
    assert.ok(laptop().keyring.olderKeys(ZONE).length > 0, 'the older key survived the restart');
    await laptop().resealer.step();
    const resumed = laptop().resealer.progress().find((p) => p.zone === ZONE)!;
    assert.ok(resumed.done >= before.done + 1, `resumed after object ${before.done}, now ${resumed.done}`);
    await assert.rejects(mesh.node('laptop').services.lifecycle.rotateZone(LOCAL_CONTROL, 'z:privat'), (e: FcpError) => e.code === 'ZONE_UNKNOWN' && /did you mean z:private/.test(e.message));
  });
});
