// Self-healing over five real daemons: devices leave for good, symbols rot on disk, and the
// repairing daemon is killed mid-way; every object ends up meeting its policy and readable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DevMesh, fiveDevicesOn } from '../../src/devnet/index.js';
import { LmdbSymbolStore } from '../../src/store/index.js';
import { objectIdFromHex } from '../../src/crypto/index.js';

const OBJECTS = 200;

type Listed = Array<{ objectId: string; ok: boolean; holders: Array<{ hostName: string; symbols: number }> }>;
type RepairReply = { outcomes: Record<string, number>; stats: { repaired: number; corruptFound: number; symbolsAdded: number } };

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('placement repair and scrubbing', () => {
  let mesh: DevMesh;
  const objects = new Map<string, Uint8Array>();

  before(async () => {
    mesh = await DevMesh.start({
      description: fiveDevicesOn(3),
      // The loop runs on its own every half second; a daemon that stops answering is written off after
      // a minute (far longer than a restart, even on a loaded machine, so the restarted repairer keeps its work);
      // repair traffic is throttled so that it is still running when the repairer is killed.
      env: { FCP_REPAIR_INTERVAL_MS: '500', FCP_REPAIR_GRACE_MS: '60000', FCP_SCRUB_INTERVAL_MS: '0', FCP_REPAIR_BYTES_PER_SEC: '200000' },
    });
    for (let i = 0; i < OBJECTS; i++) {
      const data = new Uint8Array(randomBytes(500 + ((i * 7919) % 6000)));
      const writer = i % 2 === 0 ? 'laptop' : 'desktop';
      objects.set(await mesh.put(writer, data, 'z:private'), data);
    }
  });
  after(async () => {
    await mesh?.stop();
  });

  const allHealthy = async (reader: string) => {
    const list = await mesh.device(reader).control.json<Listed>('/v1/objects?zone=z:private');
    return list.length === OBJECTS && list.every((o) => o.ok);
  };

  test('a device leaves; the repairing daemon is killed mid-way and finishes the work after restarting', async () => {
    assert.ok(await allHealthy('laptop'), 'all objects start healthy');
    await mesh.stopDaemon('phone', 'SIGKILL');
    mesh.tailnet.removeNode('phone');
    // The repairer is the eligible holder with the smallest stable id.
    const leader = ['laptop', 'server', 'desktop'].map((n) => mesh.tailnet.devices.find((d) => d.name === n)!).sort((a, b) => (a.stableId < b.stableId ? -1 : 1))[0]!.name;
    const repaired = async () => (await mesh.device(leader).control.json<{ repair: { repaired: number } }>('/v1/status')).repair.repaired;
    await waitUntil(`${leader} has repaired some objects`, async () => (await repaired()) >= 10);
    await mesh.stopDaemon(leader, 'SIGKILL');
    await mesh.startDaemon(leader);
    await waitUntil('every object meets its policy again', () => allHealthy('laptop'));
    const afterRestart = await repaired();
    assert.ok(afterRestart > 0 && afterRestart < OBJECTS, `the restarted ${leader} resumed the remaining work (${afterRestart} objects), not all of it`);
    for (const other of ['laptop', 'server', 'desktop'].filter((n) => n !== leader)) {
      assert.equal(await (async () => (await mesh.device(other).control.json<{ repair: { repaired: number } }>('/v1/status')).repair.repaired)(), 0, `${other} never repaired: one repairer per object`);
    }
  });

  test('a second device leaves for good: every policy holds on the two left, and a third loss still reads all', async () => {
    await mesh.stopDaemon('server', 'SIGKILL');
    mesh.tailnet.removeNode('server');
    await waitUntil('every object meets its policy on the two devices left', () => allHealthy('laptop'));
    const list = await mesh.device('laptop').control.json<Listed>('/v1/objects?zone=z:private');
    for (const o of list) assert.deepEqual(o.holders.map((h) => h.hostName).sort(), ['desktop', 'laptop']);
    // Lose one more device: each survivor alone holds enough of every object.
    await mesh.stopDaemon('desktop', 'SIGKILL');
    for (const [id, data] of objects) assert.deepEqual(Buffer.from(await mesh.get('laptop', id)), Buffer.from(data));
    await mesh.startDaemon('desktop');
  });

  test('symbols corrupted on disk are found by the scrubber and replaced', async () => {
    // Rot some stored values of the desktop while its daemon is down.
    await mesh.stopDaemon('desktop');
    const store = await LmdbSymbolStore.open(join(mesh.device('desktop').dataDir, 'store'));
    const victims = [...objects.keys()].slice(0, 20);
    let rotted = 0;
    for (const id of victims) {
      const [first] = await store.getSymbols(objectIdFromHex(id), undefined, 1);
      if (!first) continue;
      const env = Uint8Array.from(first.env);
      env[env.length - 20]! ^= 0x40;
      // The store never overwrites a symbol; rot is what the disk does behind its back.
      await store.deleteSymbols(objectIdFromHex(id), [[first.sbn, first.esi]]);
      await store.putSymbols(objectIdFromHex(id), [{ sbn: first.sbn, esi: first.esi, env }]);
      rotted++;
    }
    await store.close();
    assert.ok(rotted > 0);
    await mesh.startDaemon('desktop');
    const scrub = await mesh.device('desktop').control.json<{ corrupt: number }>('/v1/scrub', { method: 'POST' });
    assert.equal(scrub.corrupt, rotted, 'the scrubber finds exactly the rotted symbols');
    const again = await mesh.device('desktop').control.json<{ corrupt: number }>('/v1/scrub', { method: 'POST' });
    assert.equal(again.corrupt, 0, 'they were removed');
    await waitUntil('the leader replaced the removed symbols', () => allHealthy('laptop'));
    for (const id of victims) assert.deepEqual(Buffer.from(await mesh.get('desktop', id)), Buffer.from(objects.get(id)!));
  });
});
