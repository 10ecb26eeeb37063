// Failover with real fcpd daemons (dev tailnet, LMDB, connector child processes): the device
// running a singleton is killed, the connector comes up on another device within the grace
// period with its state intact, and the killed device, restarted, does not run a second copy.
import { after, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { DevMesh, fiveDevicesOn } from '../../src/devnet/index.js';
import type { Placement } from '../../src/hub/mesh-hub.js';
import { testManifest } from './helpers.js';

const LEASE_MS = 2000;
const FCP = fileURLToPath(new URL('../../../bin/fcp.js', import.meta.url));
const fcp = (dataDir: string, ...args: string[]) => spawnSync(process.execPath, [FCP, '--data-dir', dataDir, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('hub failover between real daemons', () => {
  let mesh: DevMesh;
  const body = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const invoke = (device: string, op: string, input: unknown) =>
    mesh.device(device).control.json<{ result: { n: number } }>('/v1/hub/invoke', { method: 'POST', body: body({ connector: 'testc', operation: op, input, timeoutMs: 5000 }) });
  /** Devices that say they run the connector themselves. */
  const runners = async () => {
    const out: string[] = [];
    for (const d of mesh.devices) {
      if (!d.process || d.name === 'worklaptop') continue;
      const list = await d.control.json<Placement[]>('/v1/hub/placements').catch(() => [] as Placement[]);
      if (list.some((p) => p.id === 'testc' && p.runningOn === d.name)) out.push(d.name);
    }
    return out;
  };
  const until = async <T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    mesh = await DevMesh.start({
      description: fiveDevicesOn(86),
      env: { FCP_HUB_LEASE_MS: String(LEASE_MS), FCP_HUB_POLL_MS: '250', FCP_REPAIR_INTERVAL_MS: '0', FCP_SCRUB_INTERVAL_MS: '0' },
    });
  });
  after(async () => {
    await mesh?.stop();
  });

  test('fcp device set is taken up by the running daemon and peers learn it', async () => {
    const set = fcp(mesh.device('server').dataDir, 'device', 'set', 'always-on=true', 'name=homeserver', '--json');
    assert.equal(set.status, 0, set.stderr);
    assert.equal((JSON.parse(set.stdout) as { alwaysOn: boolean }).alwaysOn, true);
    const seen = await until('the laptop sees the server profile', async () => {
      const list = await mesh.device('laptop').control.json<Array<{ hostName: string; alive: boolean; profile?: { alwaysOn: boolean; name: string } }>>('/v1/devices');
      const s = list.find((d) => d.hostName === 'server');
      return s?.profile?.alwaysOn ? s : undefined;
    });
    assert.equal(seen.profile!.name, 'homeserver');
    assert.equal(seen.alive, true);
    const ls = fcp(mesh.device('laptop').dataDir, 'device', 'ls');
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /^server\s+homeserver\s+yes\s+always-on/m);
    assert.match(ls.stdout, /^laptop \(this\)/m);
    await assert.rejects(
      mesh.device('laptop').control.json('/v1/device', { method: 'POST', body: body({ set: ['always-on=maybe'] }) }),
      (e: Error & { code?: string }) => e.code === 'HUB_BAD_SETTING',
    );
  });

  test('killed: the connector comes up elsewhere within the grace period, state intact; back: no second copy', async () => {
    await mesh.device('laptop').control.json('/v1/hub/connectors', { method: 'POST', body: body(testManifest('testc')) });
    await until('the server runs the connector', async () => ((await runners()).join() === 'server' ? true : undefined));
    assert.equal((await invoke('laptop', 'state', { by: 'laptop' })).result.n, 1);
    assert.equal((await invoke('desktop', 'state', { by: 'desktop' })).result.n, 2);

    const killedAt = Date.now();
    await mesh.stopDaemon('server', 'SIGKILL');
    const next = await until('another device runs it', async () => {
      const r = await runners();
      return r.length === 1 ? r[0] : undefined;
    });
    const took = Date.now() - killedAt;
    assert.notEqual(next, 'server');
    // Grace: the lease runs out (LEASE_MS), then the next device's poll claims it and starts it.
    assert.ok(took < LEASE_MS * 3, `took over in ${took} ms`);
    const after = await until('an invoke goes through after the failover', async () => (await invoke('laptop', 'state', { by: 'after' }).catch(() => undefined))?.result.n);
    assert.equal(after, 3, 'the counter carried on from the state in the mesh');

    await mesh.startDaemon('server');
    await until('the restarted server knows where it runs', async () => {
      const list = await mesh.device('server').control.json<Placement[]>('/v1/hub/placements');
      return list.some((p) => p.id === 'testc' && p.runningOn === next) ? true : undefined;
    });
    const watchUntil = Date.now() + 2 * LEASE_MS;
    while (Date.now() < watchUntil) {
      assert.deepEqual(await runners(), [next], 'exactly one copy, where it failed over to');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await invoke('server', 'state', {})).result.n, 4, 'the server routes to the one copy');
  });

  test('fcp hub move: the device running it hands it over with its state; one copy, on the device named', async () => {
    const from = (await runners())[0]!;
    const to = from === 'desktop' ? 'laptop' : 'desktop';
    const moved = fcp(mesh.device('laptop').dataDir, 'hub', 'move', 'testc', to, '--json');
    assert.equal(moved.status, 0, moved.stderr);
    await until(`${to} runs it, and only ${to}`, async () => ((await runners()).join() === to ? true : undefined));
    assert.equal((await invoke('laptop', 'state', { by: 'moved' })).result.n, 5, 'the state came along');
    const watchUntil = Date.now() + 2 * LEASE_MS;
    while (Date.now() < watchUntil) {
      assert.deepEqual(await runners(), [to], 'exactly one copy, where it was moved');
      await new Promise((r) => setTimeout(r, 200));
    }
    const bad = fcp(mesh.device('laptop').dataDir, 'hub', 'move', 'nosuch', to);
    assert.equal(bad.status, 4, 'an unknown connector is not found');
  });
});
