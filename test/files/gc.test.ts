// Deletion for real: rm + forget + gc frees the symbols on every holder; a device away during
// the collection erases its copy when it returns and nothing is resurrected; storing the same
// content again works; an upload that was never named is collected, but not while it is young.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LOCAL_LIBRARY } from '../../src/authz/index.js';
import { objectIdFromHex } from '../../src/crypto/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const P = LOCAL_LIBRARY;
const HOLDERS = ['laptop', 'server', 'desktop', 'phone'];

describe('garbage collection with tombstones', () => {
  let mesh: InProcessMesh;
  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(57));
  });
  after(async () => mesh?.stop());

  /** Devices whose store still has any symbol or the manifest of `id`. */
  const holding = (id: string) => HOLDERS.filter((d) => {
    const s = mesh.stores.get(d)!;
    const oid = objectIdFromHex(id);
    return s.symbolKeys(oid).length > 0 || s.getManifest(oid) !== undefined;
  });

  test('rm, forget and gc free the content on every holder; a device away erases its copy on return', async () => {
    const n = mesh.node('laptop').services.names;
    const big = new Uint8Array(randomBytes(300_000));
    const { ref } = await n.putFile(P, 'big.bin', big);
    await n.putFile(P, 'small.txt', new TextEncoder().encode('stays'));
    assert.ok(holding(ref).length >= 2, 'the content is spread');
    const desktopHad = holding(ref).includes('desktop');
    assert.ok(desktopHad, 'the desktop holds some of it (the device that will be away)');
    await n.remove(P, 'big.bin');
    // Still in a snapshot: not collected.
    let r = await n.gc(P, { graceMs: 0 });
    assert.ok(!r.objects.includes(ref), 'a removed file kept by a snapshot stays');
    assert.deepEqual(Buffer.from(await n.readFile(P, 'big.bin@2')), Buffer.from(big));
    const usedBefore = mesh.stores.get('server')!.usage().bytes;

    await mesh.kill('desktop'); // away during the collection, with its copy
    const f = await n.forget(P, 1);
    assert.ok(f.forgotten >= 2, `older snapshots forgotten (${f.forgotten})`);
    r = await mesh.node('server').services.names.gc(P, { graceMs: 0 });
    assert.ok(r.objects.includes(ref), 'the content is collected');
    assert.ok(r.unreachable.includes('desktop'), 'the device away is reported');
    assert.deepEqual(holding(ref).filter((d) => d !== 'desktop'), [], 'erased on every holder online');
    assert.ok(mesh.stores.get('server')!.usage().bytes < usedBefore - 100_000, 'the space came back');
    assert.equal(holding(ref).includes('desktop'), desktopHad, 'the device away still has its copy');
    assert.deepEqual(Buffer.from(await n.readFile(P, 'small.txt')).toString(), 'stays', 'what is named is untouched');
    assert.equal((await n.snapshots(P)).length, 1, 'only the kept snapshot is left (numbered @1 now)');
    await assert.rejects(n.readFile(P, 'big.bin@1'), (e: Error) => (e as { code?: string }).code === 'FILES_NOT_FOUND');

    // It comes back: its repair pass learns the tombstones and erases its copy instead of
    // carrying it back to the others.
    await mesh.startNode('desktop');
    // Before anyone else does anything: it asks what was collected and erases its copy.
    for (let i = 0; i < 200 && holding(ref).includes('desktop'); i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(holding(ref), [], 'the returning device erased its copy itself');
    for (const d of HOLDERS) await mesh.node(d).node.repair.pass();
    assert.deepEqual(holding(ref), [], 'not resurrected anywhere by repair');
  });

  test('the same content stored again after collection is whole and readable', async () => {
    const n = mesh.node('desktop').services.names;
    const data = new Uint8Array(randomBytes(20_000));
    const { ref } = await n.putFile(P, 'again.bin', data);
    await n.remove(P, 'again.bin');
    await n.forget(P, 1);
    assert.ok((await n.gc(P, { graceMs: 0 })).objects.includes(ref));
    assert.deepEqual(holding(ref), []);
    const back = await mesh.node('phone').services.names.putFile(P, 'again.bin', data);
    assert.equal(back.ref, ref, 'same content, same id');
    assert.ok(holding(ref).length >= 2, 'stored again on several devices');
    for (const d of HOLDERS) await mesh.node(d).node.repair.pass();
    assert.ok(holding(ref).length >= 2, 'repair keeps it (the revival beat the tombstone)');
    assert.deepEqual(Buffer.from(await mesh.node('laptop').services.names.readFile(P, 'again.bin')), Buffer.from(data));
  });

  test('a device away during the collection stores the same content again: it is whole, not its stale share', async () => {
    const data = new Uint8Array(randomBytes(40_000));
    const { ref } = await mesh.node('laptop').services.names.putFile(P, 'stale.bin', data);
    assert.ok(holding(ref).includes('desktop'));
    const n = mesh.node('laptop').services.names;
    await n.remove(P, 'stale.bin');
    await n.forget(P, 1);
    await mesh.kill('desktop');
    assert.ok((await n.gc(P, { graceMs: 0 })).objects.includes(ref));
    await mesh.startNode('desktop');
    // At once, before it could have heard of the collection: the put waits for the tombstones
    // asked at start, so the stale share it holds is dropped, not taken for the whole object.
    const again = await mesh.node('desktop').services.names.putFile(P, 'stale.bin', data);
    assert.equal(again.ref, ref);
    for (const d of HOLDERS) await mesh.node(d).node.repair.pass();
    assert.ok(holding(ref).length >= 2, 'stored again on several devices');
    await mesh.kill('desktop');
    try {
      assert.deepEqual(Buffer.from(await mesh.node('laptop').services.names.readFile(P, 'stale.bin')), Buffer.from(data), 'readable without the device that re-put it');
    } finally {
      await mesh.startNode('desktop');
    }
  });

  test('repair erases a tombstoned copy instead of carrying it; peers refuse its symbols and manifest', async () => {
    const data = new Uint8Array(randomBytes(30_000));
    const id = await mesh.node('server').store(data, 'z:private', { schema: 'fcp.file.v1' });
    const oid = objectIdFromHex(id);
    const manifest = mesh.stores.get('server')!.getManifest(oid)!;
    const [symbol] = await mesh.stores.get('server')!.getSymbols(oid, undefined, 1);
    // The tombstone is kept on every holder but their copies stay (as if the erase never ran).
    for (const d of HOLDERS) await mesh.stores.get(d)!.putTombstone({ objectId: oid, zone: 'z:private', at: Date.now(), dead: true });
    const before = HOLDERS.map((d) => mesh.node(d).node.repair.stats.tombstonedErased).reduce((a, b) => a + b, 0);
    for (const d of HOLDERS) await mesh.node(d).node.repair.pass();
    assert.deepEqual(holding(id), [], 'erased, not repaired');
    assert.ok(HOLDERS.map((d) => mesh.node(d).node.repair.stats.tombstonedErased).reduce((a, b) => a + b, 0) > before);
    const t = mesh.tailnet.device('desktop');
    const desktop = { kind: 'device' as const, stableId: t.stableId, hostName: 'desktop', address: t.address, tags: t.tags, zones: [mesh.node('laptop').node.zones.get('z:private')], path: 'direct' as const };
    const refused = (e: unknown) => (e as { code?: string }).code === 'MESH_TOMBSTONED';
    await assert.rejects(mesh.node('laptop').services.peers.storeSymbols(desktop, oid, 'z:private', [symbol!]), refused);
    await assert.rejects(mesh.node('laptop').services.peers.putManifest(desktop, manifest), refused);
  });

  test('an upload never named (an interrupted put) is collected, but not within the grace period', async () => {
    const orphan = (await mesh.node('laptop').services.content.putStream(P, 'z:private', (async function* () { yield new Uint8Array(randomBytes(5_000)); })())).id;
    const blob = await mesh.node('laptop').store(new Uint8Array(randomBytes(5_000)), 'z:private');
    const n = mesh.node('laptop').services.names;
    assert.ok(!(await n.gc(P)).objects.includes(orphan), 'young: left alone under the default grace period');
    const r = await n.gc(P, { graceMs: 0 });
    assert.ok(r.objects.includes(orphan));
    assert.ok(!r.objects.includes(blob), 'objects stored by id (not file content) are never collected');
    assert.deepEqual(holding(orphan), []);
    assert.ok(holding(blob).length >= 2);
  });
});
