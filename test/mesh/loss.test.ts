// Nothing reported stored is lost: after the loss of any one device, every object that met its
// policy (tolerate 1) reads back; reads hedge around a frozen holder; repair carries manifests
// to a device that missed them and does not count a holder that cannot produce its symbols.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { objectIdFromHex } from '../../src/crypto/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { InProcessMesh } from './in-process.js';

/** Seeded sizes so a failure can be replayed. */
function sizes(seed: number, n: number): number[] {
  let x = seed >>> 0;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return 1 + (x % 400_000);
  });
}

describe('every object meeting its policy reads after the loss of any one device', () => {
  let mesh: InProcessMesh;
  const objects: Array<{ id: string; data: Uint8Array; zone: string }> = [];
  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(23));
    const seed = 9091;
    for (const [i, size] of sizes(seed, 36).entries()) {
      const data = new Uint8Array(randomBytes(size));
      const zone = i % 4 === 0 ? 'z:owner' : 'z:private';
      objects.push({ id: await mesh.node(i % 2 ? 'laptop' : 'server').store(data, zone), data, zone });
    }
    for (const o of objects) {
      const h = await mesh.node('laptop').services.objects.inspect({ kind: 'local', via: 'library' }, o.id);
      assert.ok(h.ok, `object ${o.id} meets its policy after the put`);
    }
  });
  after(async () => mesh?.stop());

  for (const lost of ['laptop', 'server', 'desktop', 'phone']) {
    test(`${lost} lost`, async () => {
      await mesh.kill(lost);
      try {
        const reader = lost === 'laptop' ? 'server' : 'laptop';
        for (const o of objects) {
          const back = await mesh.node(reader).retrieve(o.id, { verify: true });
          assert.ok(Buffer.from(back).equals(Buffer.from(o.data)), `${o.zone} ${o.id} after losing ${lost}`);
        }
      } finally {
        await mesh.startNode(lost);
      }
    });
  }

  test('listing many objects twice in a row calls each healthy both times (no busy fan-out)', async () => {
    const a = await mesh.node('laptop').list();
    const b = await mesh.node('laptop').list();
    assert.equal(a.filter((o) => o.ok).length, objects.length);
    assert.equal(b.filter((o) => o.ok).length, objects.length);
  });
});

describe('a frozen holder (online, accepting connections, never answering)', () => {
  let mesh: InProcessMesh;
  let hole: net.Server;
  const sockets = new Set<net.Socket>();
  const objects: Array<{ id: string; data: Uint8Array }> = [];
  before(async () => {
    // Request deadlines far above the hedge: a read that waited for the frozen holder would take minutes.
    mesh = await InProcessMesh.start(fiveDevicesOn(24), { requestTimeoutMs: 60_000, hedgeMs: 200 });
    for (let i = 0; i < 8; i++) {
      const data = new Uint8Array(randomBytes(50_000 + i * 20_000));
      objects.push({ id: await mesh.node('laptop').store(data, 'z:private'), data });
    }
    await mesh.kill('desktop');
    hole = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => hole.listen(9473, mesh.tailnet.device('desktop').address, () => r()));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => hole?.close(() => r()));
    await mesh?.stop();
  });

  test('reads hedge around it and mark it slow', { timeout: 45_000 }, async () => {
    for (const o of objects) {
      const back = await mesh.node('server').retrieve(o.id);
      assert.ok(Buffer.from(back).equals(Buffer.from(o.data)));
    }
    const desktop = mesh.tailnet.device('desktop').stableId;
    assert.ok(mesh.node('server').node.marks.isSlow(desktop), 'the frozen holder is marked slow');
  });
});

describe('repair', () => {
  test('a pass over an empty store does not stop later passes', async () => {
    const mesh = await InProcessMesh.start(fiveDevicesOn(25));
    try {
      const r = mesh.node('laptop').node.repair;
      await r.pass();
      await r.pass();
      await r.pass();
      assert.equal(r.stats.passes, 3);
    } finally {
      await mesh.stop();
    }
  });

  test('leadership goes to a device that has the manifest, and repair carries it to one that missed it', async () => {
    const mesh = await InProcessMesh.start(fiveDevicesOn(26));
    try {
      const holders = ['laptop', 'server', 'desktop', 'phone'].map((n) => ({ n, id: mesh.tailnet.device(n).stableId })).sort((a, b) => (a.id < b.id ? -1 : 1));
      const first = holders[0]!.n;
      const writer = holders[1]!.n;
      const leaving = holders[2]!.n;
      await mesh.kill(first);
      const data = new Uint8Array(randomBytes(200_000));
      const id = await mesh.node(writer).store(data, 'z:private');
      // Another holder leaves the tailnet for good, so the object needs repair; the first device returns.
      await mesh.kill(leaving);
      mesh.tailnet.removeNode(leaving);
      await mesh.startNode(first);
      for (const h of holders) if (h.n !== leaving) await mesh.node(h.n).node.directory.refresh();
      assert.equal(mesh.stores.get(first)!.getManifest(objectIdFromHex(id)), undefined, 'the first device missed the put');
      for (const h of holders) if (h.n !== leaving) await mesh.node(h.n).node.repair.pass();
      assert.ok(mesh.stores.get(first)!.getManifest(objectIdFromHex(id)), 'repair carried the manifest');
      assert.ok(mesh.stores.get(first)!.symbolKeys(objectIdFromHex(id)).length > 0, 'and symbols');
      const h = await mesh.node(first).services.objects.inspect({ kind: 'local', via: 'library' }, id);
      assert.ok(h.ok);
    } finally {
      await mesh.stop();
    }
  });

  test('a holder that acknowledges symbols but keeps none fails its challenge and is repaired around', async () => {
    const mesh = await InProcessMesh.start(fiveDevicesOn(27), { liars: ['desktop'] });
    try {
      const objects: Array<{ id: string; data: Uint8Array }> = [];
      for (let i = 0; i < 6; i++) {
        const data = new Uint8Array(randomBytes(40_000 + i * 10_000));
        objects.push({ id: await mesh.node('laptop').store(data, 'z:private'), data });
      }
      // Every honest device verifies (whoever leads repair), then repair runs everywhere.
      const honest = ['laptop', 'server', 'phone'];
      for (let round = 0; round < 10 && !honest.every((n) => mesh.node(n).node.marks.isDistrusted(mesh.tailnet.device('desktop').stableId)); round++) {
        for (const n of honest) await mesh.node(n).node.repair.verifyStep(objects.length);
      }
      for (const n of honest) assert.ok(mesh.node(n).node.marks.isDistrusted(mesh.tailnet.device('desktop').stableId), `${n} caught the liar`);
      const outcomes: string[] = [];
      for (const n of ['laptop', 'server', 'desktop', 'phone']) outcomes.push(`${n}: ${[...(await mesh.node(n).node.repair.pass()).values()].join(',')}`);
      const listed = await mesh.node('laptop').list();
      assert.ok(listed.every((o) => o.ok && !o.holders.some((h) => h.hostName === 'desktop')), `health counts no symbols of the liar: ${outcomes.join('; ')} ${JSON.stringify(listed.map((o) => [o.ok, o.holders]))}`);
      // Lose an honest device: every object must still read without the liar's symbols.
      await mesh.kill('server');
      for (const o of objects) assert.ok(Buffer.from(await mesh.node('laptop').retrieve(o.id)).equals(Buffer.from(o.data)));
    } finally {
      await mesh.stop();
    }
  });

  test('a zone left with fewer devices than its policy tolerates still gets every object onto each device left', async () => {
    const mesh = await InProcessMesh.start(fiveDevicesOn(158));
    try {
      // Two losses tolerated: that needs three devices; z:private is down to laptop and server.
      const data = new Uint8Array(randomBytes(300_000));
      const id = await mesh.node('laptop').store(data, 'z:private', { policy: { tolerate: 2 } });
      for (const n of ['desktop', 'phone']) {
        await mesh.kill(n);
        mesh.tailnet.removeNode(n);
      }
      await mesh.node('server').node.directory.refresh();
      await mesh.node('laptop').node.directory.refresh();
      const outcomes = async () => [...(await mesh.node('laptop').node.repair.pass()).values(), ...(await mesh.node('server').node.repair.pass()).values()];
      const first = await outcomes();
      assert.ok(first.includes('repaired'), `repair made what it could of it: ${first.join(',')}`);
      assert.deepEqual((await outcomes()).sort(), ['degraded', 'not-leader'], 'then its leader says it is as safe as two devices allow');
      const h = await mesh.node('laptop').services.objects.inspect({ kind: 'local', via: 'library' }, id);
      assert.equal(h.ok, false, 'the policy is still not met');
      assert.deepEqual(h.holders.map((x) => x.hostName).sort(), ['laptop', 'server']);
      // Either one alone now rebuilds it.
      await mesh.kill('server');
      assert.ok(Buffer.from(await mesh.node('laptop').retrieve(id)).equals(Buffer.from(data)));
    } finally {
      await mesh.stop();
    }
  });

  test('symbols of an interrupted store are collected after the grace period; a missed manifest is adopted instead', async () => {
    const mesh = await InProcessMesh.start(fiveDevicesOn(28), { repair: { orphanGraceMs: 0 } });
    try {
      const data = new Uint8Array(randomBytes(90_000));
      const id = await mesh.node('laptop').store(data, 'z:private');
      const oid = objectIdFromHex(id);
      // The desktop "missed" the manifest of a real object; it also holds symbols of a store that never finished.
      const desktop = mesh.stores.get('desktop')!;
      const kept = await desktop.getSymbols(oid);
      await desktop.deleteObject(oid);
      await desktop.putSymbols(oid, kept);
      const ghost = new Uint8Array(randomBytes(32));
      await desktop.putSymbols(ghost, kept.slice(0, 3).map((s) => ({ ...s })));
      const before = desktop.usage().symbols;
      await mesh.node('desktop').node.repair.pass();
      const stats = mesh.node('desktop').node.repair.stats;
      assert.equal(stats.manifestsAdopted, 1);
      assert.ok(desktop.getManifest(oid), 'the missed manifest was adopted');
      assert.equal(desktop.symbolKeys(ghost).length, 0, 'the interrupted store was collected');
      assert.equal(desktop.usage().symbols, before - 3);
      assert.equal(stats.orphansCollected, 1);
      assert.ok(Buffer.from(await mesh.node('desktop').retrieve(id)).equals(Buffer.from(data)));
    } finally {
      await mesh.stop();
    }
  });
});
