// Signed heads and tombstones: a member cannot forge another device's head or tombstone, by a
// direct put or by serving it in a pull; a tampered signature is refused; refused records leave
// nothing behind; honest heads still merge across devices; records of an older data dir are
// adopted at start; keys are pinned on first use and a changed key is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LOCAL_LIBRARY, type DevicePrincipal } from '../../src/authz/index.js';
import { generateNodeKeys, objectIdFromHex, objectIdToHex, sign, type RefRecord, type Tombstone } from '../../src/crypto/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { NameRecords, SignerKeys, keyFingerprint, refSignatureValid, signRef, signTombstone, tombstoneSignatureValid } from '../../src/mesh/index.js';
import { MemorySymbolStore } from '../../src/store/index.js';
import { kindOf } from '../../src/errors/index.js';
import { InProcessMesh } from './in-process.js';

const P = LOCAL_LIBRARY;
const ZONE = 'z:private';
const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;
const silent = pino({ level: 'silent' });

describe('signed heads and tombstones across five devices', () => {
  let mesh: InProcessMesh;
  const id = (name: string) => mesh.tailnet.device(name).stableId;
  const secret = (name: string) => mesh.node(name).node.keyring.node.signingSecretKey;
  const publicKey = (name: string) => mesh.node(name).node.keyring.node.signingPublicKey;
  const headOf = (holder: string, device: string): RefRecord | undefined => mesh.node(holder).node.store.listRefs(ZONE).find((r) => r.device === id(device));
  const principal = (name: string): DevicePrincipal => {
    const d = mesh.tailnet.device(name);
    const zones = mesh.node('server').node.zones;
    return { kind: 'device', stableId: d.stableId, hostName: name, address: d.address, tags: d.tags, zones: zones.zonesForTags(d.tags), path: 'direct' };
  };
  const files = new Map<string, Uint8Array>([
    ['a.txt', new Uint8Array(randomBytes(5_000))],
    ['b/c.bin', new Uint8Array(randomBytes(40_000))],
  ]);

  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(148));
    for (const [path, data] of files) await mesh.node('laptop').services.names.putFile(P, path, data);
  });
  after(async () => mesh?.stop());

  test('honest heads are signed by their device and merge across devices', async () => {
    await mesh.node('desktop').services.names.putFile(P, 'from-desktop.txt', new Uint8Array([1, 2, 3]));
    const listing = await mesh.node('phone').services.names.list(P, '', { recursive: true });
    assert.deepEqual(listing.entries.filter((e) => e.kind === 'file').map((e) => e.path), ['a.txt', 'b/c.bin', 'from-desktop.txt']);
    for (const holder of ['phone', 'server']) {
      for (const writer of ['laptop', 'desktop']) {
        const h = headOf(holder, writer);
        assert.ok(h, `${holder} holds ${writer}'s head`);
        assert.ok(refSignatureValid(h, publicKey(writer)), `${writer}'s head on ${holder} verifies with ${writer}'s key`);
        assert.equal(refSignatureValid(h, publicKey('server')), false, 'and with no other key');
      }
    }
  });

  test("a direct put of another device's head is refused by authorize(); a bad signature by the signature check; nothing changes", async () => {
    const peers = mesh.node('server').services.peers;
    const honest = headOf('server', 'laptop')!;
    const forged = (key: Uint8Array) => signRef({ zone: ZONE, device: id('laptop'), seq: honest.seq + 10, commit: new Uint8Array(32).fill(9), forgotten: [], time: Date.now() }, key);
    // desktop (a z:private member) pushes a head "of laptop", signed by its own key.
    await assert.rejects(peers.putRef(principal('desktop'), forged(secret('desktop'))), (e: unknown) => code('AUTHZ_DENIED')(e) && (e as { reason?: string }).reason === 'not-own-record');
    // Even as laptop's own push, a head signed by another key is refused...
    await assert.rejects(peers.putRef(principal('laptop'), forged(secret('desktop'))), code('MESH_BAD_SIGNATURE'));
    // ...and so is laptop's genuine signature over other fields (seq raised after signing).
    await assert.rejects(peers.putRef(principal('laptop'), { ...signRef({ ...honest, seq: honest.seq + 1 }, secret('laptop')), seq: honest.seq + 10 }), code('MESH_BAD_SIGNATURE'));
    // ...or a flipped bit of the signature, or none at all.
    const real = signRef({ ...honest, seq: honest.seq + 1 }, secret('laptop'));
    const flipped = Uint8Array.from(real.sig!);
    flipped[7]! ^= 1;
    await assert.rejects(peers.putRef(principal('laptop'), { ...real, sig: flipped }), code('MESH_BAD_SIGNATURE'));
    const { sig: _sig, ...unsigned } = real;
    await assert.rejects(peers.putRef(principal('laptop'), unsigned), code('MESH_BAD_SIGNATURE'));
    const now = headOf('server', 'laptop')!;
    assert.deepEqual([now.seq, objectIdToHex(now.commit)], [honest.seq, objectIdToHex(honest.commit)], 'the head held is the honest one');
    // The genuine, newer head of laptop is taken (the check is not simply refusing everything).
    await peers.putRef(principal('laptop'), real);
    assert.equal(headOf('server', 'laptop')!.seq, honest.seq + 1);
    await peers.putRef(principal('laptop'), honest); // and older ones change nothing
    assert.equal(headOf('server', 'laptop')!.seq, honest.seq + 1);
  });

  test("a forged head served in a pull is refused and changes nothing; the names read the same", async () => {
    const phoneZone = mesh.node('phone').node.zones.get(ZONE);
    await mesh.node('phone').node.records.pullRefs(phoneZone); // every honest head first (server has a newer one of laptop)
    const honest = headOf('phone', 'laptop')!;
    const before = await mesh.node('phone').services.names.list(P, '', { recursive: true });
    // desktop holds (and so serves) a forged head of laptop, a tampered copy of laptop's, and
    // a head of a device that is no member at all.
    const hostile = mesh.stores.get('desktop')!;
    await hostile.putRef(signRef({ zone: ZONE, device: id('laptop'), seq: honest.seq + 50, commit: new Uint8Array(32).fill(3), forgotten: [honest.commit], time: Date.now() }, secret('desktop')));
    await hostile.putRef(signRef({ zone: ZONE, device: 'nGhost0CNTRL', seq: 1, commit: new Uint8Array(32).fill(4), forgotten: [], time: Date.now() }, secret('desktop')));
    assert.equal(mesh.node('desktop').services.peers.listRefs(principal('phone'), ZONE).find((r) => r.device === id('laptop'))!.seq, honest.seq + 50, 'desktop serves the forged head');
    const report = await mesh.node('phone').node.records.pullRefs(phoneZone);
    assert.ok(report.refused >= 2, `refused ${report.refused}`);
    assert.equal(headOf('phone', 'laptop')!.seq, honest.seq, "phone keeps laptop's honest head");
    assert.ok(refSignatureValid(headOf('phone', 'laptop')!, publicKey('laptop')));
    assert.equal(mesh.node('phone').node.store.listRefs(ZONE).some((r) => r.device === 'nGhost0CNTRL'), false, 'nothing of an unknown signer is kept');
    const afterList = await mesh.node('phone').services.names.list(P, '', { recursive: true });
    assert.deepEqual(afterList.entries.map((e) => e.path), before.entries.map((e) => e.path));
    assert.deepEqual(Buffer.from(await mesh.node('phone').services.names.readFile(P, 'b/c.bin')), Buffer.from(files.get('b/c.bin')!));
    // Undo on desktop: its genuine laptop head back, for the tests after this one.
    await hostile.deleteRef(ZONE, id('laptop'));
    await hostile.deleteRef(ZONE, 'nGhost0CNTRL');
    await hostile.putRef(honest);
  });

  test('a forged tombstone erases nothing: not pushed, not pulled; a tampered one neither', async () => {
    const zone = mesh.node('server').node.zones.get(ZONE);
    const objects = mesh.stores.get('server')!.listManifests(ZONE).map((m) => m.objectId);
    assert.ok(objects.length >= 3, 'the files, trees and commits of the zone');
    const forged = (objectId: Uint8Array, by: string, key: Uint8Array): Tombstone => signTombstone({ objectId, zone: ZONE, at: Date.now() + 60_000, dead: true }, by, key);
    const peers = mesh.node('server').services.peers;
    // Pushed by desktop as laptop's decisions: authorize() refuses (not its own records).
    await assert.rejects(peers.putTombstones(principal('desktop'), objects.map((o) => forged(o, id('laptop'), secret('desktop')))), (e: unknown) => code('AUTHZ_DENIED')(e) && (e as { reason?: string }).reason === 'not-own-record');
    // Pushed as desktop's own but signed by another key: refused, and the whole batch with it
    // (the first one is genuine).
    const batch = [forged(objects[0]!, id('desktop'), secret('desktop')), ...objects.slice(1).map((o) => forged(o, id('desktop'), secret('phone')))];
    await assert.rejects(peers.putTombstones(principal('desktop'), batch), code('MESH_BAD_SIGNATURE'));
    // A genuine signature over another verdict (alive, then turned dead).
    const alive = signTombstone({ objectId: objects[0]!, zone: ZONE, at: Date.now() + 60_000, dead: false }, id('desktop'), secret('desktop'));
    await assert.rejects(peers.putTombstones(principal('desktop'), [{ ...alive, dead: true }]), code('MESH_BAD_SIGNATURE'));
    for (const o of objects) assert.equal(mesh.stores.get('server')!.getTombstone(o), undefined, 'no tombstone kept on server');
    // Served in a pull: desktop holds tombstones "of laptop", signed by desktop's key.
    for (const o of objects) await mesh.stores.get('desktop')!.putTombstone(forged(o, id('laptop'), secret('desktop')));
    const report = await mesh.node('server').node.records.pullTombstones(zone);
    assert.ok(report.refused >= objects.length, `refused ${report.refused}`);
    for (const o of objects) {
      assert.equal(mesh.stores.get('server')!.getTombstone(o), undefined, 'no tombstone kept on server');
      assert.ok(mesh.stores.get('server')!.getManifest(o), 'and the object is still held (a kept dead tombstone erases at once here: quarantine 0)');
    }
    await mesh.node('server').node.repair.pass();
    for (const [path, data] of files) assert.deepEqual(Buffer.from(await mesh.node('server').services.names.readFile(P, path)), Buffer.from(data), path);
    // Undo on desktop (its store was written behind its back): later, genuine alive records.
    for (const o of objects) await mesh.stores.get('desktop')!.putTombstone(signTombstone({ objectId: o, zone: ZONE, at: Date.now() + 120_000, dead: false }, id('desktop'), secret('desktop')));
  });

  test("a genuine tombstone still spreads: pulled and verified against the decider's key", async () => {
    // A blob of its own, collected by laptop (signed), reaches phone by a pull only.
    const blob = await mesh.node('laptop').store(new Uint8Array(randomBytes(2_000)), ZONE);
    const oid = objectIdFromHex(blob);
    const t = signTombstone({ objectId: oid, zone: ZONE, at: Date.now(), dead: true }, id('laptop'), secret('laptop'));
    await mesh.stores.get('laptop')!.putTombstone(t);
    assert.equal(mesh.stores.get('phone')!.getTombstone(oid), undefined);
    await mesh.node('phone').node.records.pullTombstones(mesh.node('phone').node.zones.get(ZONE));
    const kept = mesh.stores.get('phone')!.getTombstone(oid);
    assert.ok(kept?.dead, 'phone took the signed tombstone');
    assert.equal(kept.by, id('laptop'));
    assert.ok(tombstoneSignatureValid(kept, publicKey('laptop')));
  });

  test('restart on an older data dir: own unsigned records are signed, others\' unsigned heads dropped and pulled again', async () => {
    const honestLaptop = headOf('phone', 'laptop')!;
    await mesh.kill('phone');
    const store = mesh.stores.get('phone')!;
    const strip = <T extends { sig?: Uint8Array; by?: string }>(r: T): T => {
      const { sig: _s, by: _b, ...rest } = r;
      return rest as T;
    };
    // As an older version stored them: no signatures, tombstones without a deciding device.
    await store.deleteRef(ZONE, id('laptop'));
    await store.putRef(strip(honestLaptop));
    await store.putRef({ zone: 'z:community', device: id('phone'), seq: 4, commit: new Uint8Array(32).fill(5), forgotten: [], time: 1 });
    // Recent (within the tombstone TTL): an old data dir, not an expired decision.
    const oldAt = Date.now() - 1_000;
    const oldTomb = { objectId: new Uint8Array(32).fill(6), zone: ZONE, at: oldAt, dead: true };
    await store.putTombstone(oldTomb);
    await mesh.startNode('phone');
    const own = store.listRefs('z:community').find((r) => r.device === id('phone'))!;
    assert.equal(own.seq, 4, 'own head kept, same seq');
    assert.ok(refSignatureValid(own, publicKey('phone')), 'and signed now');
    const t = store.getTombstone(oldTomb.objectId)!;
    assert.deepEqual([t.dead, t.at, t.by], [true, oldAt, id('phone')], 'an old tombstone is kept as this device\'s decision');
    assert.ok(tombstoneSignatureValid(t, publicKey('phone')));
    assert.equal(headOf('phone', 'laptop'), undefined, "laptop's unsigned head is dropped");
    // The next read pulls it again, signed.
    const listing = await mesh.node('phone').services.names.list(P, '', { recursive: true });
    assert.ok(listing.entries.some((e) => e.path === 'a.txt'));
    assert.ok(refSignatureValid(headOf('phone', 'laptop')!, publicKey('laptop')));
  });
});

describe('signer keys: pinned on first use, a changed key refused', () => {
  test('the refusals are typed: a bad signature is damaged data, an unknown signer a later try, a changed key a conflict', () => {
    assert.deepEqual(['MESH_BAD_SIGNATURE', 'MESH_SIGNER_UNKNOWN', 'MESH_SIGNER_CHANGED'].map((c) => kindOf(c)), ['damaged', 'unavailable', 'conflict']);
  });

  test('first key pinned and kept across restarts; another key for the device is refused; unknown devices are not trusted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcp-signers-'));
    try {
      const self = generateNodeKeys();
      const a = generateNodeKeys();
      const b = generateNodeKeys();
      let answer: Uint8Array | Error = a.signingPublicKey;
      let asked = 0;
      const make = () =>
        new SignerKeys({
          path: join(dir, 'signer-keys.json'),
          self: { stableId: 'nSelf', signingPublicKey: self.signingPublicKey },
          ask: async () => {
            asked++;
            if (answer instanceof Error) throw answer;
            return answer;
          },
          log: silent,
        });
      const keys = make();
      assert.deepEqual(await keys.keyOf('nSelf'), self.signingPublicKey, 'own key from the keyring, never asked');
      assert.equal(asked, 0);
      const [k1, k2] = await Promise.all([keys.keyOf('nA'), keys.keyOf('nA')]);
      assert.deepEqual([k1, k2], [a.signingPublicKey, a.signingPublicKey]);
      assert.equal(asked, 1, 'one question for concurrent lookups');
      assert.equal(keys.offer('nA', b.signingPublicKey), 'changed');
      assert.deepEqual(keys.pinned('nA'), a.signingPublicKey, 'the pin stays');
      answer = b.signingPublicKey;
      assert.deepEqual(await make().keyOf('nB'), b.signingPublicKey, 'another device: its own first key');
      const again = make();
      assert.deepEqual(again.pinned('nA'), a.signingPublicKey, 'pins survive a restart');
      assert.equal(again.offer('nA', b.signingPublicKey), 'changed');
      answer = new Error('offline');
      await assert.rejects(again.keyOf('nC'), code('MESH_SIGNER_UNKNOWN'));
      assert.equal(again.pinned('nC'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('renewal: a vouched key replaces the pin (reported), an unvouched one does not; the local user replaces it; asking again is bounded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcp-signers-'));
    try {
      const a = generateNodeKeys();
      const b = generateNodeKeys();
      let t = 1_000_000;
      let asked = 0;
      let present: { key: Uint8Array; grant?: Uint8Array } = { key: a.signingPublicKey };
      const keys = new SignerKeys({
        path: join(dir, 'signer-keys.json'),
        self: { stableId: 'nSelf', signingPublicKey: generateNodeKeys().signingPublicKey },
        ask: async () => (asked++, present),
        log: silent,
        now: () => t,
      });
      const renewed: unknown[] = [];
      keys.onRenewed = (r) => renewed.push(r);
      assert.deepEqual(await keys.keyOf('nA'), a.signingPublicKey);
      const grant = new Uint8Array([7]);
      keys.vouchWith((id, key, g) => id === 'nA' && key === b.signingPublicKey && g === grant);
      assert.equal(keys.offer('nA', b.signingPublicKey), 'changed', 'no grant: refused');
      assert.equal(keys.offer('nA', b.signingPublicKey, new Uint8Array([8])), 'changed', 'a grant that does not vouch: refused');
      assert.deepEqual(renewed, []);
      // The device presents its grant now; a failed record makes it be asked again, once per 10 s.
      present = { key: b.signingPublicKey, grant };
      assert.deepEqual(await keys.recheck('nA'), b.signingPublicKey, 'asked again: renewed');
      assert.deepEqual(renewed, [{ stableId: 'nA', oldFingerprint: keyFingerprint(a.signingPublicKey), newFingerprint: keyFingerprint(b.signingPublicKey), by: 'owner-grant' }]);
      const n = asked;
      await keys.recheck('nA');
      assert.equal(asked, n + 1, 'a renewal clears the bound');
      await keys.recheck('nA');
      assert.equal(asked, n + 1, 'within 10 s it is not asked again');
      t += 10_000;
      await keys.recheck('nA');
      assert.equal(asked, n + 2);
      keys.replace('nA', a.signingPublicKey, 'local-user');
      assert.deepEqual(keys.pinned('nA'), a.signingPublicKey);
      assert.equal((renewed[1] as { by: string }).by, 'local-user');
      assert.throws(() => keys.replace('nSelf', a.signingPublicKey, 'local-user'), code('MESH_REFUSED'), 'this device has no pin of its own');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('NameRecords: a refused batch keeps nothing; a signature binds every field and the domain', async () => {
    const store = new MemorySymbolStore();
    const self = generateNodeKeys();
    const other = generateNodeKeys();
    const records = new NameRecords({
      store,
      eligibility: { holdersFor: () => [] },
      log: silent,
      signer: { stableId: 'nSelf', signingSecretKey: self.signingSecretKey },
      keyOf: async (d) => (d === 'nOther' ? other.signingPublicKey : d === 'nSelf' ? self.signingPublicKey : Promise.reject(new Error('unknown'))),
      quarantineMs: 0,
    });
    const oid = (n: number) => new Uint8Array(32).fill(n);
    const T = Date.now(); // tombstones past their TTL (90 days) are dropped unchecked: these are recent
    const good = signTombstone({ objectId: oid(1), zone: ZONE, at: T, dead: true }, 'nOther', other.signingSecretKey);
    const bad = signTombstone({ objectId: oid(2), zone: ZONE, at: T, dead: true }, 'nOther', self.signingSecretKey);
    await assert.rejects(records.acceptTombstones([good, bad]), code('MESH_BAD_SIGNATURE'));
    assert.deepEqual(store.listTombstones(), [], 'nothing of the batch');
    await records.acceptTombstones([good]);
    assert.equal(store.listTombstones().length, 1);
    for (const change of [{ zone: 'z:work' }, { at: T + 1 }, { objectId: oid(3) }, { by: 'nSelf' }]) {
      await assert.rejects(records.acceptTombstones([{ ...good, ...change, at: (change as { at?: number }).at ?? T + 10 }]), code('MESH_BAD_SIGNATURE'), JSON.stringify(change));
    }
    // Another domain: a signature over the same bytes without the head domain does not verify.
    const head = { zone: ZONE, device: 'nOther', seq: 1, commit: oid(4), forgotten: [], time: 5 };
    await assert.rejects(records.acceptRef({ ...head, sig: sign(new TextEncoder().encode(JSON.stringify(head)), other.signingSecretKey) }), code('MESH_BAD_SIGNATURE'));
    assert.equal(await records.acceptRef(signRef(head, other.signingSecretKey)), true);
    await assert.rejects(records.publishRef({ id: ZONE } as never, head), code('MESH_REFUSED'), 'this device publishes its own head only');
  });
});
