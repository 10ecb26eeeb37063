// Devices that go quiet and come back: a repairing daemon that dies while its device stays
// online is replaced by the next in line after the grace period; a device away past the grace
// period is repaired around, and the surplus is dropped when it returns.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DevMesh, fiveDevicesOn } from '../../src/devnet/index.js';

type Listed = Array<{ objectId: string; ok: boolean }>;

describe('repairer takeover', () => {
  let mesh: DevMesh;
  const objects = new Map<string, Uint8Array>();

  before(async () => {
    mesh = await DevMesh.start({
      description: fiveDevicesOn(7),
      env: { FCP_REPAIR_INTERVAL_MS: '500', FCP_REPAIR_GRACE_MS: '1500', FCP_SCRUB_INTERVAL_MS: '0' },
    });
    for (let i = 0; i < 20; i++) {
      const data = new Uint8Array(randomBytes(2000 + i * 300));
      objects.set(await mesh.put('laptop', data, 'z:private'), data);
    }
  });
  after(async () => {
    await mesh?.stop();
  });

  test('a silent repairer is replaced by the next eligible holder, and every object heals', async () => {
    const holders = ['laptop', 'server', 'desktop', 'phone'].map((n) => mesh.tailnet.devices.find((d) => d.name === n)!);
    holders.sort((a, b) => (a.stableId < b.stableId ? -1 : 1));
    const [first, second] = holders;
    await mesh.stopDaemon(first!.name, 'SIGKILL'); // the device stays online in the tailnet
    const reader = holders.find((h) => h.name !== first!.name && h.name !== 'phone')!.name;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const list = await mesh.device(reader).control.json<Listed>('/v1/objects?zone=z:private');
      if (list.length === objects.size && list.every((o) => o.ok)) break;
      assert.ok(Date.now() < deadline, 'objects healed within a minute');
      await new Promise((r) => setTimeout(r, 250));
    }
    const stats = await mesh.device(second!.name).control.json<{ repair: { repaired: number } }>('/v1/status');
    assert.ok(stats.repair.repaired > 0, `${second!.name}, next in line, did the repairs`);
    for (const [id, data] of objects) assert.deepEqual(Buffer.from(await mesh.get(reader, id)), Buffer.from(data));
  });
});

describe('a device that comes back', () => {
  let mesh: DevMesh;
  const objects = new Map<string, Uint8Array>();

  before(async () => {
    mesh = await DevMesh.start({
      description: fiveDevicesOn(8),
      env: { FCP_REPAIR_INTERVAL_MS: '400', FCP_REPAIR_GRACE_MS: '1000', FCP_SCRUB_INTERVAL_MS: '0' },
    });
    for (let i = 0; i < 10; i++) {
      const data = new Uint8Array(randomBytes(3000 + i * 500));
      objects.set(await mesh.put('laptop', data, 'z:private'), data);
    }
  });
  after(async () => {
    await mesh?.stop();
  });

  type Holders = Array<{ objectId: string; ok: boolean; holders: Array<{ hostName: string; symbols: number }> }>;
  const total = (list: Holders) => list.reduce((a, o) => a + o.holders.reduce((b, h) => b + h.symbols, 0), 0);
  const waitFor = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  test('away past the grace period: repaired without it; back: the surplus is dropped, the policy still holds', async () => {
    const list = () => mesh.device('laptop').control.json<Holders>('/v1/objects?zone=z:private');
    const onServer = (l: Holders) => l.reduce((a, o) => a + (o.holders.find((h) => h.hostName === 'server')?.symbols ?? 0), 0);
    const serverHeld = onServer(await list());
    assert.ok(serverHeld > 0);
    mesh.tailnet.setOnline('server', false);
    await waitFor('every object is healthy without the server', async () => {
      const l = await list();
      return l.every((o) => o.ok && !o.holders.some((h) => h.hostName === 'server'));
    });
    const whileAway = total(await list());
    mesh.tailnet.setOnline('server', true);
    const droppedSoFar = async () =>
      (await Promise.all(['laptop', 'server', 'desktop', 'phone'].map(async (n) => (await mesh.device(n).control.json<{ repair: { symbolsDropped: number } }>('/v1/status')).repair.symbolsDropped))).reduce((a, b) => a + b, 0);
    // With the server back its old symbols count again: more than the policy needs, so trimmed.
    await waitFor('surplus symbols are dropped', async () => (await droppedSoFar()) > 0 && (await list()).every((o) => o.ok));
    const after = await list();
    assert.ok(after.every((o) => o.ok), 'every object still meets its policy');
    assert.ok(total(after) < whileAway + serverHeld, 'fewer symbols than the repaired ones plus everything the server brought back');
    for (const [id, data] of objects) assert.deepEqual(Buffer.from(await mesh.get('desktop', id)), Buffer.from(data));
  });
});
