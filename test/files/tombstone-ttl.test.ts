// Tombstones expire after their TTL (gc.tombstoneTtlMs), and that stays safe: a device away longer
// than the TTL, which can no longer learn what was collected meanwhile, holds back its copies of
// objects no other device holds and no name needs (MESH_UNRECONCILED) instead of re-spreading
// them, until the collection pass tombstones them again; what others hold or a name needs is not
// held. The wall clock of expiry and sync records is injected and moved on by the test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LOCAL_LIBRARY, type DevicePrincipal } from '../../src/authz/index.js';
import { objectIdFromHex, objectIdToHex } from '../../src/crypto/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { NameRecords, TombSync } from '../../src/mesh/index.js';
import { MemorySymbolStore } from '../../src/store/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const P = LOCAL_LIBRARY;
const ZONE = 'z:private';
const TTL = 60_000;
const HOLDERS = ['laptop', 'server', 'desktop', 'phone'];
const OTHERS = ['laptop', 'server', 'desktop'];
const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

describe('tombstones expire after their TTL without resurrecting anything', () => {
  let mesh: InProcessMesh;
  let skew = 0;
  const now = () => Date.now() + skew;
  const manifests = (d: string) => new Set(mesh.stores.get(d)!.listManifests(ZONE).map((m) => objectIdToHex(m.objectId)));
  const holding = (id: string) => HOLDERS.filter((d) => mesh.stores.get(d)!.getManifest(objectIdFromHex(id)) !== undefined || mesh.stores.get(d)!.symbolKeys(objectIdFromHex(id)).length > 0);
  const passes = async (devices: string[]) => {
    for (const d of devices) await mesh.node(d).node.repair.pass();
  };
  const principal = (name: string): DevicePrincipal => {
    const d = mesh.tailnet.device(name);
    const zones = mesh.node('server').node.zones;
    return { kind: 'device', stableId: d.stableId, hostName: name, address: d.address, tags: d.tags, zones: zones.zonesForTags(d.tags), path: 'direct' };
  };

  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(155), { tombstoneTtlMs: TTL, now });
  });
  after(async () => mesh?.stop());

  test('a tombstone past its TTL is forgotten, never served and never taken back', async () => {
    const n = mesh.node('laptop').services.names;
    const { ref } = await n.putFile(P, 'old.bin', new Uint8Array(randomBytes(20_000)));
    await n.remove(P, 'old.bin');
    await n.forget(P, 1);
    assert.ok((await n.gc(P, { graceMs: 0 })).objects.includes(ref));
    const oid = objectIdFromHex(ref);
    for (const d of HOLDERS) assert.equal(mesh.stores.get(d)!.getTombstone(oid)?.dead, true, `${d} holds the tombstone`);
    const t = mesh.stores.get('laptop')!.getTombstone(oid)!;

    skew = TTL / 2;
    await passes(['server']);
    assert.ok(mesh.stores.get('server')!.getTombstone(oid), 'kept within the TTL');

    skew = TTL + 5_000;
    await passes(['server']);
    assert.equal(mesh.stores.get('server')!.getTombstone(oid), undefined, 'forgotten on the device whose pass ran');
    assert.ok(mesh.stores.get('desktop')!.getTombstone(oid), 'desktop has not looked yet');
    const served = mesh.node('desktop').services.peers.listTombstones(principal('server'), ZONE);
    assert.ok(!served.some((x) => objectIdToHex(x.objectId) === ref), 'an expired tombstone is not served');
    await mesh.node('server').node.records.acceptTombstones([t]);
    assert.equal(mesh.stores.get('server')!.getTombstone(oid), undefined, 'nor taken back from a device that still has it');
    await passes(OTHERS);
    for (const d of OTHERS) assert.equal(mesh.stores.get(d)!.getTombstone(oid), undefined, `${d} forgot it`);
    assert.deepEqual(holding(ref), [], 'and the content stays gone');
    // The sync with each peer is recorded (tomb-sync.json).
    const sync = JSON.parse(readFileSync(join(mesh.dir, 'server', 'tomb-sync.json'), 'utf8')) as { zones: Record<string, { peers: Record<string, number> }> };
    assert.ok((sync.zones[ZONE]?.peers[mesh.tailnet.device('laptop').stableId] ?? 0) >= now() - 1_000, 'server recorded its sync with laptop');
  });

  test('a device away longer than the TTL holds back what was collected meanwhile; named objects are not held', async () => {
    skew = TTL * 3;
    await passes(HOLDERS); // everyone synced at this instant
    const n = mesh.node('laptop').services.names;
    const kept = await n.putFile(P, 'kept.txt', new Uint8Array(randomBytes(3_000)));
    const before = manifests('phone');
    const doomed = await n.putFile(P, 'doomed.bin', new Uint8Array(randomBytes(30_000)));
    const doomedIds = [...manifests('phone')].filter((id) => !before.has(id) && id !== kept.ref);
    assert.ok(doomedIds.includes(doomed.ref), 'phone holds a share of the file that will be collected');

    await mesh.kill('phone');
    await n.remove(P, 'doomed.bin');
    await n.forget(P, 1);
    const r = await n.gc(P, { graceMs: 0 });
    assert.ok(r.objects.includes(doomed.ref) && r.unreachable.includes('phone'));
    for (const d of OTHERS) assert.ok(!manifests(d).has(doomed.ref), `${d} erased its copy`);

    // Time passes (the others keep syncing), and the tombstones expire everywhere but on phone.
    skew = TTL * 3 + TTL * 0.6;
    await passes(OTHERS);
    skew = TTL * 3 + TTL * 1.2;
    await passes(OTHERS);
    for (const d of OTHERS) {
      assert.equal(mesh.stores.get(d)!.getTombstone(objectIdFromHex(doomed.ref)), undefined, `${d}'s tombstone expired`);
      assert.equal(mesh.node(d).node.records.sync.unreconciled(ZONE), false, `${d} kept syncing: not unreconciled`);
    }

    // phone comes back after more than the TTL without a sync.
    await mesh.startNode('phone');
    const outcomes = await mesh.node('phone').node.repair.pass();
    const records = mesh.node('phone').node.records;
    for (const id of doomedIds) {
      assert.equal(records.isHeld(objectIdFromHex(id)), true, `${id.slice(0, 8)} is held back`);
      assert.equal(outcomes.get(id), 'unreconciled', 'neither repaired nor re-spread');
    }
    assert.equal(records.isHeld(objectIdFromHex(kept.ref)), false, 'an object the others hold is not held');
    assert.notEqual(outcomes.get(kept.ref), 'unreconciled');
    for (const id of doomedIds) assert.deepEqual(holding(id), ['phone'], 'not resurrected on any other device');
    await assert.rejects(async () => mesh.node('phone').services.peers.getManifest(principal('server'), objectIdFromHex(doomed.ref)), code('MESH_UNRECONCILED'));
    assert.equal(records.sync.unreconciled(ZONE), false, 'every device answered and the names were read: reconciled');

    // The collection pass (it lists phone's manifests) tombstones them again; phone erases its copies.
    const again = await mesh.node('server').services.names.gc(P, { graceMs: 0 });
    assert.ok(again.objects.includes(doomed.ref), 'collected again, with a fresh tombstone');
    await passes(HOLDERS);
    for (const id of doomedIds) {
      assert.deepEqual(holding(id), [], 'gone everywhere');
      assert.equal(records.isHeld(objectIdFromHex(id)), false);
    }
    assert.equal(Buffer.from(await mesh.node('phone').services.names.readFile(P, 'kept.txt')).length, 3_000, 'what is named is untouched');
  });
});

describe('tomb-sync records', () => {
  test('a device alone in a zone is never "away"; one whose peers are offline is; held objects survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcp-tombsync-'));
    try {
      let t = 1_000_000;
      let alone = true;
      const sync = new TombSync(join(dir, 'tomb-sync.json'), () => t);
      const records = new NameRecords({
        store: new MemorySymbolStore(),
        eligibility: { holdersFor: () => [] },
        log: pino({ level: 'silent' }),
        signer: { stableId: 'nSelf', signingSecretKey: new Uint8Array(32) },
        keyOf: () => Promise.reject(new Error('none')),
        tombstoneTtlMs: TTL,
        now: () => t,
        sync,
        alone: () => alone,
      });
      const zone = { id: ZONE } as never;
      t += TTL * 2;
      assert.equal((await records.pullTombstones(zone)).stale, false, 'alone: each pull is a sync');
      alone = false; // another device may hold the zone, but none is online
      t += TTL * 2;
      assert.equal((await records.pullTombstones(zone)).stale, false, 'no peer answered: no sync, and nothing decided yet');
      assert.equal(sync.unreconciled(ZONE), false);
      assert.equal(sync.noteSync(ZONE, ['nPeer'], TTL), true, 'the first sync after more than the TTL makes the zone unreconciled');
      assert.equal(sync.unreconciled(ZONE), true);
      assert.equal(sync.noteSync(ZONE, ['nPeer'], TTL), false, 'the next sync is recent');
      sync.hold(ZONE, ['ab'.repeat(32)]);
      const again = new TombSync(join(dir, 'tomb-sync.json'), () => t);
      assert.equal(again.isHeld('ab'.repeat(32)), true, 'held across a restart');
      assert.equal(again.unreconciled(ZONE), true);
      again.reconciled(ZONE);
      assert.equal(again.isHeld('ab'.repeat(32)), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
