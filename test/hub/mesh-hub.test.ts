// The hub across devices, in one process with real FCP between the devices and real connector
// processes: profiles are learned, the connector runs on the device placement prefers, invokes
// from other devices are routed to it, its state lives in the mesh and survives a failover, and
// the device coming back does not start a second copy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_CONTROL } from '../../src/authz/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { InProcessMesh } from '../mesh/in-process.js';
import { testManifest } from './helpers.js';

const ctx = (ms = 5_000) => ({ deadline: Date.now() + ms });

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('hub across devices (in process)', () => {
  let mesh: InProcessMesh;
  const running = () => [...mesh.nodes.entries()].filter(([, n]) => n.hubMesh.placements().some((p) => p.id === 'testc' && p.runningOn === n.node.self.hostName)).map(([name]) => name);

  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(85), { hub: { leaseMs: 1500, pollMs: 200 } });
    await mesh.node('server').hubMesh.setProfile(LOCAL_CONTROL, { alwaysOn: true });
  });
  after(async () => {
    await mesh?.stop();
  });

  test('profiles travel; the connector runs once, on the always-on device; invokes route to it', async () => {
    const laptop = mesh.node('laptop');
    await until('laptop sees the server always-on', () => laptop.hubMesh.devices(LOCAL_CONTROL).find((d) => d.hostName === 'server' && d.profile?.alwaysOn));
    await laptop.services.hub.install(LOCAL_CONTROL, testManifest('testc'));
    await until('the connector runs somewhere', () => running().length === 1);
    assert.deepEqual(running(), ['server']);
    const first = (await laptop.services.hub.invoke(LOCAL_CONTROL, 'testc', 'state', { by: 'laptop' }, ctx())) as { n: number };
    assert.equal(first.n, 1);
    const desktop = mesh.node('desktop');
    await until('desktop knows the connector', () => desktop.hubMesh.installed().some((c) => c.id === 'testc'));
    assert.equal(((await desktop.services.hub.invoke(LOCAL_CONTROL, 'testc', 'state', { by: 'desktop' }, ctx())) as { n: number }).n, 2);
    const echo = (await desktop.services.hub.invoke(LOCAL_CONTROL, 'testc', 'echo', { msg: 'hi' }, ctx())) as { echo: { msg: string } };
    assert.equal(echo.echo.msg, 'hi');
    await assert.rejects(laptop.services.hub.invoke(LOCAL_CONTROL, 'nope', 'x', {}, ctx()), (e: Error & { code?: string }) => e.code === 'HUB_CONNECTOR_NOT_FOUND');
    await assert.rejects(laptop.services.hub.invoke(LOCAL_CONTROL, 'testc', 'sleep', { ms: 2000 }, ctx(300)), (e: Error & { code?: string }) => e.code === 'HUB_DEADLINE_TIMEOUT' || e.code === 'HUB_TIMEOUT');
    // The work laptop holds no z:private: its hub knows no such connector.
    await assert.rejects(mesh.node('worklaptop').services.hub.invoke(LOCAL_CONTROL, 'testc', 'echo', { msg: 'x' }, ctx()), (e: Error & { code?: string }) => e.code === 'HUB_CONNECTOR_NOT_FOUND');
  });

  test('the device running it stops: the next one takes over with the state intact; back, it runs no second copy', async () => {
    await mesh.kill('server');
    const next = await until('another device runs it', () => (running().length === 1 ? running()[0] : undefined));
    assert.notEqual(next, 'server');
    const laptop = mesh.node('laptop');
    const r = (await until('an invoke goes through', () => laptop.services.hub.invoke(LOCAL_CONTROL, 'testc', 'state', { by: 'after' }, ctx()).catch(() => undefined))) as { n: number };
    assert.equal(r.n, 3, 'the counter carried on from the state in the mesh');
    await mesh.startNode('server');
    await until('the server knows the connector again', () => mesh.node('server').hubMesh.placements().some((p) => p.id === 'testc' && p.runningOn === next));
    // Several lease periods later there is still one copy, on the same device.
    const deadline = Date.now() + 3 * 1500;
    while (Date.now() < deadline) {
      assert.deepEqual(running(), [next]);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(((await mesh.node('server').services.hub.invoke(LOCAL_CONTROL, 'testc', 'state', {}, ctx())) as { n: number }).n, 4);
  });
});
