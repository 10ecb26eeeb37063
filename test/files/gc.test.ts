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
    await mesh.node('desktop').node.repair.pass();
    for (const d of HOLDERS) await mesh.node(d).node.repair.pass();
    assert.deepEqual(holding(ref), [], 'not resurrected anywhere');
    assert.ok(mesh.node('desktop').node.repair.stats.tombstonedErased > 0, 'the returning device erased its copy itself');
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
