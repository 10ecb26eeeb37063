// Five real fcpd processes on the dev tailnet, talking real TCP, storing in real LMDB.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DevMesh, fiveDevicesOn } from '../../src/devnet/index.js';
import { ControlError } from '../../src/daemon/index.js';

type Status = { storage: { symbols: number }; objects: number; counters: Record<string, number> };

async function symbolsOn(mesh: DevMesh, name: string): Promise<number> {
  return (await mesh.device(name).control.json<Status>('/v1/status')).storage.symbols;
}

async function listed(mesh: DevMesh, name: string): Promise<string[]> {
  const list = await mesh.device(name).control.json<Array<{ objectId: string }>>('/v1/objects');
  return list.map((o) => o.objectId);
}

describe('mesh of five fcpd daemons', () => {
  let mesh: DevMesh;
  const files = new Map<string, { data: Uint8Array; zone: string }>();

  before(async () => {
    mesh = await DevMesh.start({ description: fiveDevicesOn(1) });
  });
  after(async () => {
    await mesh?.stop();
  });

  test('stores objects in several zones and every eligible device rebuilds them byte-identical', async () => {
    const cases: Array<[string, string, number]> = [
      ['laptop', 'z:owner', 300_000],
      ['laptop', 'z:private', 1 << 20],
      ['desktop', 'z:private', 5_000],
      ['server', 'z:private', 1],
      ['laptop', 'z:private', 0],
    ];
    for (const [writer, zone, size] of cases) {
      const data = new Uint8Array(randomBytes(size));
      const id = await mesh.put(writer, data, zone);
      assert.match(id, /^[0-9a-f]{64}$/);
      files.set(id, { data, zone });
    }
    const readers: Record<string, string[]> = {
      'z:owner': ['laptop', 'server'],
      'z:private': ['laptop', 'server', 'desktop', 'phone'],
    };
    for (const [id, f] of files) {
      for (const reader of readers[f.zone]!) {
        const back = await mesh.get(reader, id);
        assert.deepEqual(Buffer.from(back), Buffer.from(f.data), `${reader} rebuilding ${f.zone} object`);
      }
    }
  });

  test('a z:owner object is never placed on a lower-zone device nor on the DERP-relayed phone', async () => {
    const before = await Promise.all(['desktop', 'worklaptop', 'phone', 'laptop', 'server'].map((n) => symbolsOn(mesh, n)));
    const data = new Uint8Array(randomBytes(200_000));
    const id = await mesh.put('laptop', data, 'z:owner');
    const afterCounts = await Promise.all(['desktop', 'worklaptop', 'phone', 'laptop', 'server'].map((n) => symbolsOn(mesh, n)));
    assert.equal(afterCounts[0], before[0], 'desktop (z:private) got z:owner symbols');
    assert.equal(afterCounts[1], before[1], 'worklaptop (z:work) got z:owner symbols');
    assert.equal(afterCounts[2], before[2], 'phone (owner, but only over DERP) got z:owner symbols');
    assert.ok(afterCounts[3]! > before[3]! && afterCounts[4]! > before[4]!, 'owner devices on direct paths hold the symbols');
    assert.ok(!(await listed(mesh, 'desktop')).includes(id), 'desktop must not even hold the manifest');
    // The phone is an owner device, but owner data may not reach it over DERP: its read is refused.
    await assert.rejects(mesh.get('phone', id), (err: ControlError) => err.code === 'AUTHZ_DENIED' || err.code === 'MESH_UNAVAILABLE');
    files.set(id, { data, zone: 'z:owner' });
  });

  test('a z:work device asking for z:private data gets a typed refusal', async () => {
    const id = [...files].find(([, f]) => f.zone === 'z:private')![0];
    await assert.rejects(mesh.get('worklaptop', id), (err: ControlError) => {
      assert.equal(err.code, 'AUTHZ_DENIED');
      assert.match(err.message, /z:private/);
      return true;
    });
    await assert.rejects(mesh.put('worklaptop', new Uint8Array([1, 2, 3]), 'z:private'), (err: ControlError) => err.code === 'AUTHZ_DENIED');
  });

  test('z:work data needs devices the work zone can reach: one work device cannot give redundancy', async () => {
    // The generated ACLs let z:work devices reach z:work devices only, so only the work laptop
    // may hold z:work symbols, and it alone cannot survive its own loss.
    for (const writer of ['laptop', 'worklaptop']) {
      await assert.rejects(mesh.put(writer, new Uint8Array(randomBytes(1000)), 'z:work'), (err: ControlError) => {
        assert.equal(err.code, 'MESH_TOO_FEW_DEVICES');
        return true;
      });
    }
  });

  test('with any two daemons down, objects stored to tolerate two losses still rebuild', async () => {
    // Large enough that rebuilding from repair symbols runs in the coding worker.
    const data = new Uint8Array(randomBytes(3_000_000));
    const id = await mesh.put('desktop', data, 'z:private', { tolerate: 2 });
    const pairs: Array<[string, string, string]> = [
      ['laptop', 'server', 'desktop'],
      ['desktop', 'phone', 'server'],
      ['server', 'desktop', 'laptop'],
      ['laptop', 'phone', 'desktop'],
    ];
    for (const [a, b, reader] of pairs) {
      await mesh.stopDaemon(a, 'SIGKILL');
      await mesh.stopDaemon(b, 'SIGKILL');
      try {
        const back = await mesh.get(reader, id);
        assert.deepEqual(Buffer.from(back), Buffer.from(data), `with ${a} and ${b} down, ${reader} rebuilds`);
      } finally {
        await mesh.startDaemon(a);
        await mesh.startDaemon(b);
      }
    }
  });

  test('symbols survive a restart of every daemon', async () => {
    for (const d of mesh.devices) await mesh.stopDaemon(d.name);
    for (const d of mesh.devices) await mesh.startDaemon(d.name);
    for (const [id, f] of files) {
      if (f.zone === 'z:owner') continue; // owner objects are read from owner devices below
      const back = await mesh.get('laptop', id);
      assert.deepEqual(Buffer.from(back), Buffer.from(f.data));
    }
    const owner = [...files].filter(([, f]) => f.zone === 'z:owner');
    for (const [id, f] of owner) assert.deepEqual(Buffer.from(await mesh.get('server', id)), Buffer.from(f.data));
  });

  test('a holder killed mid-store: the store places the object again without it, whole', async () => {
    const data = new Uint8Array(randomBytes(24 << 20));
    const putting = mesh.put('laptop', data, 'z:private');
    await new Promise((r) => setTimeout(r, 150));
    await mesh.stopDaemon('server', 'SIGKILL');
    try {
      const id = await putting;
      assert.deepEqual(Buffer.from(await mesh.get('desktop', id)), Buffer.from(data));
      const h = await mesh.device('laptop').control.json<{ ok: boolean }>(`/v1/objects/${id}/health`);
      assert.ok(h.ok, 'it meets its policy on the devices left');
    } finally {
      await mesh.startDaemon('server');
    }
  });

  test('the writer killed mid-store: no device reports a half-stored object', async () => {
    const data = new Uint8Array(randomBytes((40 << 20) + 777)); // a length no other object has
    // Settle the promise at once: it fails while the daemon is being killed.
    const putting = mesh.put('desktop', data, 'z:private').then((id) => id, (err: Error) => err);
    await new Promise((r) => setTimeout(r, 100));
    await mesh.stopDaemon('desktop', 'SIGKILL');
    const outcome = await putting;
    await mesh.startDaemon('desktop');
    if (typeof outcome === 'string') {
      // On a fast machine the store can finish before the kill: then it must be whole.
      assert.deepEqual(Buffer.from(await mesh.get('laptop', outcome)), Buffer.from(data));
      return;
    }
    for (const d of ['laptop', 'server', 'desktop', 'phone']) {
      const list = await mesh.device(d).control.json<Array<{ length: number; ok: boolean }>>('/v1/objects');
      assert.ok(!list.some((o) => o.length === data.length), `${d} lists the half-stored object`);
    }
  });
});
