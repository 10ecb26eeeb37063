import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalApiClient, NotifyWatch, peersFromStatus, selfFromStatus, TailscaleError, type IpnNotify } from '../../src/tailscale/index.js';
import {
  DevTailnetControlClient,
  DevTailnetError,
  startControlServer,
  startDevTailnet,
  validateDescription,
  type DevTailnet,
  type TailnetDescription,
} from '../../src/tailscale/emulator/index.js';
import { waitFor } from './fixture-daemon.js';

const FIVE: TailnetDescription = {
  tailnet: 'alice.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS' },
    { name: 'desktop', tags: ['tag:fcp-owner'], os: 'windows' },
    { name: 'server', tags: ['tag:fcp-owner'], path: 'peer-relay' },
    { name: 'phone', tags: ['tag:fcp-private'], os: 'android', path: 'derp' },
    { name: 'work', tags: ['tag:fcp-work'], online: false },
  ],
};

const client = (net: DevTailnet, name: string, timeoutMs = 2000): LocalApiClient =>
  new LocalApiClient({ socketPath: net.device(name).socketPath, timeoutMs, pingTimeoutMs: timeoutMs });

async function withNet(fn: (net: DevTailnet) => Promise<void>, desc: TailnetDescription = FIVE): Promise<void> {
  const net = await startDevTailnet(desc);
  try {
    await fn(net);
  } finally {
    await net.stop();
  }
}

function code(c: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof TailscaleError || e instanceof DevTailnetError, String(e));
    assert.equal(e.code, c, e.message);
    return true;
  };
}

/** Collects notifications from a device's ipn bus until aborted. */
function collect(c: LocalApiClient, mask?: number): { seen: IpnNotify[]; stop: () => Promise<void>; done: Promise<void> } {
  const ac = new AbortController();
  const seen: IpnNotify[] = [];
  const done = (async () => {
    for await (const n of c.watch({ signal: ac.signal, ...(mask !== undefined ? { mask } : {}) })) seen.push(n);
  })();
  return {
    seen,
    done,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}

test('each socket is its own device: Self, address and peers differ per socket', async () => {
  await withNet(async (net) => {
    assert.equal(net.devices.length, 5);
    for (const [i, d] of net.devices.entries()) {
      assert.equal(d.address, `127.77.0.${i + 1}`);
      const st = await client(net, d.name).status();
      const self = selfFromStatus(st);
      assert.equal(self.hostName, d.name);
      assert.equal(self.stableId, d.stableId);
      assert.equal(self.nodeId, d.nodeId);
      assert.deepEqual(self.tailscaleIps, [d.address, d.address6]);
      assert.match(d.address6, /^fd7a:115c:a1e0::[0-9a-f]+$/);
      assert.deepEqual(peersFromStatus(st).map((p) => p.hostName).sort(), net.devices.filter((x) => x !== d).map((x) => x.name).sort());
    }
    const ids = new Set(net.devices.map((d) => d.nodeId));
    assert.equal(ids.size, 5);
    for (const id of ids) assert.ok(BigInt(id) > 2n ** 53n && !Number.isSafeInteger(Number(id)));
  });
});

test('whois answers for every device on any port, from every device; tagged nodes belong to tagged-devices', async () => {
  await withNet(async (net) => {
    for (const asker of net.devices) {
      const c = client(net, asker.name);
      for (const d of net.devices) {
        const w = await c.whois(`${d.address}:${1024 + d.address.length}`);
        assert.ok(w);
        assert.equal(w.node.stableId, d.stableId);
        assert.equal(w.node.key, d.nodeKey);
        assert.deepEqual(w.node.tags, d.tags);
        assert.equal(w.userProfile.loginName, d.tags.length > 0 ? 'tagged-devices' : 'alice@example.com');
      }
      assert.equal(await c.whois('127.77.0.200:9473'), null);
      assert.equal(await c.whois('127.0.0.1:9473'), null);
    }
  });
});

test('setOnline is seen in every other device\'s status and watch stream', async () => {
  await withNet(async (net) => {
    const watchers = ['laptop', 'server'].map((n) => collect(client(net, n)));
    await waitFor(() => watchers.every((w) => w.seen.length >= 1), 2000, 'initial notifications');
    net.setOnline('desktop', false);
    for (const other of ['laptop', 'server', 'phone', 'work']) {
      const p = peersFromStatus(await client(net, other).status()).find((x) => x.hostName === 'desktop');
      assert.equal(p?.path, 'offline');
      assert.equal(p?.online, false);
      assert.ok(p?.lastSeen);
    }
    const desktopId = net.device('desktop').nodeId;
    const offlineSeen = (w: { seen: IpnNotify[] }): boolean =>
      w.seen.some((n) => n.peerChangedPatch?.some((p) => p.nodeId === desktopId && p.online === false) ?? false);
    await waitFor(() => watchers.every(offlineSeen), 2000, 'offline notifications');
    net.setOnline('desktop', true);
    const back = peersFromStatus(await client(net, 'laptop').status()).find((x) => x.hostName === 'desktop');
    assert.equal(back?.online, true);
    await waitFor(() => watchers.every((w) => w.seen.some((n) => n.peerChangedPatch?.some((p) => p.nodeId === desktopId && p.online === true))), 2000, 'online again');
    for (const w of watchers) await w.stop();
  });
});

test('setPath moves a node from direct to DERP in status, ping and the engine stream', async () => {
  await withNet(async (net) => {
    const c = client(net, 'laptop');
    const w = collect(c, NotifyWatch.engineUpdates | NotifyWatch.initialState);
    await waitFor(() => w.seen.length >= 1, 2000, 'initial notification');
    assert.equal(net.pushEngineUpdate('laptop'), 1, 'the engine watcher is reached');
    await waitFor(() => w.seen.some((n) => n.engine !== undefined), 2000, 'engine update');
    assert.equal(w.seen.find((n) => n.engine)?.engine?.liveDerps, 1, 'phone is on DERP from the start');
    const idle = peersFromStatus(await c.status()).find((p) => p.hostName === 'desktop');
    assert.equal(idle?.curAddr, '', 'an idle direct peer shows no CurAddr');
    assert.equal(idle?.active, false);
    assert.equal((await c.ping('127.77.0.2')).path, 'direct');
    const before = peersFromStatus(await c.status()).find((p) => p.hostName === 'desktop');
    assert.equal(before?.path, 'direct');
    assert.notEqual(before?.curAddr, '', 'a ping wakes the path: CurAddr shows');
    net.setPath('desktop', 'derp');
    const after = peersFromStatus(await c.status()).find((p) => p.hostName === 'desktop');
    assert.equal(after?.path, 'derp');
    assert.equal(after?.curAddr, '');
    assert.equal(after?.relay, 'fra');
    const ping = await c.ping('127.77.0.2');
    assert.equal(ping.path, 'derp');
    assert.equal(ping.derpRegionCode, 'fra');
    net.setPath('desktop', 'peer-relay');
    const relayed = peersFromStatus(await c.status()).find((p) => p.hostName === 'desktop');
    assert.equal(relayed?.path, 'peer-relay');
    assert.match(relayed?.peerRelay ?? '', /:vni:\d+$/);
    await w.stop();
  });
});

test('setLatency shows in ping latency and in the time a ping takes', async () => {
  await withNet(async (net) => {
    const c = client(net, 'laptop');
    net.setLatency('desktop', 60);
    const t0 = Date.now();
    const r = await c.ping('127.77.0.2');
    assert.ok(Date.now() - t0 >= 55);
    assert.equal(r.latencyMs, 60);
    net.setLatency('desktop', 0);
    assert.equal((await c.ping('127.77.0.2')).latencyMs, 0);
  });
});

test('pings: offline peer never answers (our timeout fires), self is local, unknown IP is an error result', async () => {
  await withNet(async (net) => {
    const c = client(net, 'laptop', 300);
    await assert.rejects(c.ping('127.77.0.5'), code('TS_TIMEOUT'));
    const self = await c.ping('127.77.0.1');
    assert.equal(self.isLocalIp, true);
    assert.notEqual(self.err, '');
    assert.equal((await c.ping('127.77.0.99')).err, 'no matching peer');
    for (const type of ['TSMP', 'ICMP', 'peerapi'] as const) {
      const r = await c.ping('127.77.0.2', type);
      assert.equal(r.err, '');
      if (type === 'peerapi') assert.match(r.peerApiUrl ?? '', /^http:\/\/127\.77\.0\.2:\d+$/);
    }
  });
});

test('faults: error, hang, stopped and logged-out hit one daemon only and clear again', async () => {
  await withNet(async (net) => {
    const laptop = client(net, 'laptop', 300);
    const desktop = client(net, 'desktop', 300);
    await net.setFault('laptop', 'error');
    await assert.rejects(laptop.status(), code('TS_HTTP'));
    await assert.rejects(laptop.whois('127.77.0.2:1'), code('TS_HTTP'));
    assert.equal((await desktop.status()).backendState, 'Running');

    await net.setFault('laptop', 'hang');
    await assert.rejects(laptop.status(), code('TS_TIMEOUT'));
    await assert.rejects(laptop.watch().next(), code('TS_TIMEOUT'));

    const w = collect(laptop);
    await net.setFault('laptop', 'none');
    await waitFor(() => w.seen.length >= 1, 2000, 'watch after hang');
    await net.setFault('laptop', 'stopped');
    await assert.rejects(w.done, code('TS_WATCH_CLOSED'));
    await assert.rejects(laptop.status(), code('TS_NOT_RUNNING'));
    assert.equal(existsSync(net.device('laptop').socketPath), false);
    // Others still see the laptop as a peer: only its daemon is down.
    assert.ok(peersFromStatus(await desktop.status()).some((p) => p.hostName === 'laptop'));

    await net.setFault('laptop', 'logged-out');
    await assert.rejects(laptop.status(), code('TS_NOT_LOGGED_IN'));
    assert.equal((await laptop.status({ allowNotRunning: true })).backendState, 'NeedsLogin');
    await net.setFault('laptop', 'none');
    assert.equal((await laptop.status()).backendState, 'Running');
  });
});

test('removeNode: gone from every status, whois unknown, PeersRemoved on the bus', async () => {
  await withNet(async (net) => {
    const w = collect(client(net, 'laptop'));
    await waitFor(() => w.seen.length >= 1, 2000, 'initial notification');
    const phone = net.device('phone');
    net.removeNode('phone');
    for (const d of ['laptop', 'desktop', 'server', 'work']) {
      const c = client(net, d);
      assert.ok(!peersFromStatus(await c.status()).some((p) => p.hostName === 'phone'));
      assert.equal(await c.whois(`${phone.address}:9473`), null);
    }
    await waitFor(() => w.seen.some((n) => n.peersRemoved?.includes(phone.nodeId) ?? false), 2000, 'PeersRemoved');
    await w.stop();
    // The removed device's own daemon is logged out.
    await assert.rejects(client(net, 'phone').status(), code('TS_NOT_LOGGED_IN'));
    assert.throws(() => net.setOnline('phone', true), code('DEV_TAILNET_UNKNOWN_DEVICE'));
  });
});

test('custom addresses and a fixed socket directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-dev-'));
  try {
    const net = await startDevTailnet(
      { tailnet: 't', nodes: [{ name: 'a', address: '127.77.1.10' }, { name: 'b', address: '127.77.1.20' }] },
      { dir },
    );
    assert.equal(net.device('b').socketPath, join(dir, 'b.sock'));
    const w = await client(net, 'a').whois('127.77.1.20:9473');
    assert.equal(w?.node.hostName, 'b');
    await net.stop();
    assert.equal(existsSync(join(dir, 'a.sock')), false);
    assert.equal(existsSync(dir), true, 'a directory we were given is left in place');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stop() removes its sockets and temporary directory; a stopped tailnet refuses changes', async () => {
  const net = await startDevTailnet(FIVE);
  const dir = net.dir;
  assert.ok(existsSync(net.device('laptop').socketPath));
  await net.stop();
  assert.equal(existsSync(dir), false);
  assert.throws(() => net.setOnline('laptop', false), code('DEV_TAILNET_STOPPED'));
  await net.stop();
});

test('bad arguments and unknown devices are typed errors', async () => {
  await withNet(async (net) => {
    assert.throws(() => net.device('toaster'), code('DEV_TAILNET_UNKNOWN_DEVICE'));
    assert.throws(() => net.setPath('laptop', 'carrier-pigeon' as 'derp'), code('DEV_TAILNET_BAD_ARGUMENT'));
    assert.throws(() => net.setLatency('laptop', -5), code('DEV_TAILNET_BAD_ARGUMENT'));
    await assert.rejects(net.setFault('laptop', 'melt' as 'hang'), code('DEV_TAILNET_BAD_ARGUMENT'));
    assert.equal((await client(net, 'laptop').status()).backendState, 'Running');
  });
});

test('tailnet descriptions are validated with messages naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /JSON object/],
    [{ nodes: [{ name: 'a' }] }, /"tailnet"/],
    [{ tailnet: 't', nodes: [] }, /"nodes"/],
    [{ tailnet: 't', nodes: [{ name: 'Bad Name' }] }, /nodes\[0\]\.name/],
    [{ tailnet: 't', nodes: [{ name: 'a' }, { name: 'a' }] }, /appears twice/],
    [{ tailnet: 't', nodes: [{ name: 'a', tags: ['fcp-owner'] }] }, /tags/],
    [{ tailnet: 't', nodes: [{ name: 'a', path: 'wifi' }] }, /path/],
    [{ tailnet: 't', nodes: [{ name: 'a', latencyMs: -1 }] }, /latencyMs/],
    [{ tailnet: 't', nodes: [{ name: 'a', address: '10.0.0.1' }] }, /loopback/],
    [{ tailnet: 't', nodes: [{ name: 'a' }, { name: 'b', address: '127.77.0.1' }] }, /used twice/],
    [{ tailnet: 't', nodes: [{ name: 'a', user: 'bob@x' }] }, /not listed/],
    [{ tailnet: 't', nodes: [{ name: 'a', online: 'yes' }] }, /online/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(() => validateDescription(input), (e: unknown) => code('DEV_TAILNET_BAD_DESCRIPTION')(e) && pattern.test((e as Error).message), JSON.stringify(input));
  }
});

test('the daemon refuses a foreign Host header like tailscaled does', async () => {
  await withNet(async (net) => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: net.device('laptop').socketPath, path: '/localapi/v0/status', headers: { Host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
  });
});

test('control API drives a running tailnet from outside', async () => {
  await withNet(async (net) => {
    const sock = join(net.dir, 'control.sock');
    const server = await startControlServer(net, sock, () => undefined);
    try {
      const ctl = new DevTailnetControlClient(sock);
      const list = await ctl.devices();
      assert.equal(list.devices.length, 5);
      await ctl.setOnline('desktop', false);
      await ctl.setPath('server', 'derp');
      await ctl.setLatency('phone', 33);
      await ctl.setFault('work', 'error');
      const after = (await ctl.devices()).devices;
      assert.equal(after.find((d) => d.name === 'desktop')?.online, false);
      assert.equal(after.find((d) => d.name === 'server')?.path, 'derp');
      assert.equal(after.find((d) => d.name === 'phone')?.latencyMs, 33);
      assert.equal(after.find((d) => d.name === 'work')?.fault, 'error');
      const peers = peersFromStatus(await client(net, 'laptop').status());
      assert.equal(peers.find((p) => p.hostName === 'desktop')?.path, 'offline');
      await assert.rejects(ctl.setOnline('toaster', true), code('DEV_TAILNET_UNKNOWN_DEVICE'));
      await assert.rejects(ctl.setPath('laptop', 'pigeon' as 'derp'), code('DEV_TAILNET_BAD_ARGUMENT'));
      await ctl.removeNode('work');
      assert.equal((await ctl.devices()).devices.find((d) => d.name === 'work')?.removed, true);
    } finally {
      await server.close();
    }
    await assert.rejects(new DevTailnetControlClient(sock, 500).devices(), code('DEV_TAILNET_CONTROL'));
  });
});
