// The peer directory over the emulator: paths, zones, latency from LocalAPI pings, ranking,
// changes seen through the watch stream, and what it costs a real tailscaled (watch mask, pings,
// idle paths, other people's devices, boot states, userspace networking).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startDevTailnet, type DevTailnet, type TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { LocalApiClient } from '../../src/tailscale/index.js';
import { ZoneRegistry } from '../../src/zones/index.js';
import { PeerDirectory, comparePeers, type PeerInfo, type TailscaledState } from '../../src/mesh/peers.js';
import { waitFor } from '../tailscale/fixture-daemon.js';

test('peers are ranked direct first, then by latency; watch notices a device going offline', async () => {
  const tailnet = await startDevTailnet({
    tailnet: 'rank.example',
    nodes: [
      { name: 'me', tags: ['tag:fcp-owner'], address: '127.77.9.1' },
      { name: 'slow', tags: ['tag:fcp-owner'], path: 'direct', latencyMs: 40, address: '127.77.9.2' },
      { name: 'fast', tags: ['tag:fcp-owner'], path: 'direct', latencyMs: 2, address: '127.77.9.3' },
      { name: 'relayed', tags: ['tag:fcp-private'], path: 'derp', latencyMs: 1, address: '127.77.9.4' },
      { name: 'via-peer', tags: ['tag:fcp-work'], path: 'peer-relay', latencyMs: 1, address: '127.77.9.5' },
    ],
  });
  const dir = new PeerDirectory({ client: new LocalApiClient({ socketPath: tailnet.device('me').socketPath }), zones: ZoneRegistry.builtin(), log: pino({ level: 'silent' }) });
  try {
    await dir.start();
    assert.deepEqual(dir.selfZones.map((z) => z.id), ['z:owner']);
    assert.equal(dir.selfAddress, '127.77.9.1');
    const ranked = dir.ranked().map((i) => i.peer.hostName);
    assert.deepEqual(ranked, ['fast', 'slow', 'via-peer', 'relayed']);
    assert.ok((dir.byIp('127.77.9.2')!.latencyMs ?? 0) >= 40, 'latency comes from the LocalAPI ping');
    const changed = new Promise<string[]>((resolve) => dir.once('change', resolve));
    tailnet.setOnline('fast', false);
    await changed;
    assert.deepEqual(dir.ranked().map((i) => i.peer.hostName), ['slow', 'via-peer', 'relayed']);
    assert.ok(dir.byIp('127.77.9.3')!.offlineSince! <= Date.now());
  } finally {
    dir.stop();
    await tailnet.stop();
  }
});

test('comparePeers breaks ties by free space, then by id', () => {
  const info = (id: string, freeBytes?: number): PeerInfo => ({
    peer: { stableId: id, nodeKey: '', hostName: id, dnsName: '', tailscaleIps: [], tags: [], os: '', online: true, path: 'direct', curAddr: 'x', relay: '', peerRelay: '', active: true },
    zones: [],
    latencyMs: 5,
    ...(freeBytes !== undefined ? { freeBytes } : {}),
  });
  assert.deepEqual([info('b', 10), info('a', 10), info('c', 99)].sort(comparePeers).map((i) => i.peer.stableId), ['c', 'a', 'b']);
});

// ---------------------------------------------------------------- against a strict tailscaled

const silent = pino({ level: 'silent' });
const ENGINE_BIT = 1;

function directory(net: DevTailnet, name: string, extra: Partial<ConstructorParameters<typeof PeerDirectory>[0]> = {}): PeerDirectory {
  return new PeerDirectory({ client: new LocalApiClient({ socketPath: net.device(name).socketPath, timeoutMs: 2000 }), zones: ZoneRegistry.builtin(), log: silent, ...extra });
}

async function withDirectory(
  desc: TailnetDescription,
  fn: (net: DevTailnet, dir: PeerDirectory) => Promise<void>,
  opts: { activeMs?: number; start?: boolean; pingIntervalMs?: number } = {},
): Promise<void> {
  const net = await startDevTailnet(desc, opts.activeMs !== undefined ? { activeMs: opts.activeMs } : {});
  const dir = directory(net, desc.nodes[0]!.name, opts.pingIntervalMs !== undefined ? { pingIntervalMs: opts.pingIntervalMs } : {});
  try {
    if (opts.start !== false) await dir.start();
    await fn(net, dir);
  } finally {
    dir.stop();
    await net.stop();
  }
}

test('no engine updates are asked for, and status is re-read only when peers change', async () => {
  await withDirectory(
    {
      tailnet: 'mask.example',
      nodes: [
        { name: 'me', tags: ['tag:fcp-owner'], address: '127.77.9.11' },
        { name: 'other', tags: ['tag:fcp-owner'], address: '127.77.9.12' },
      ],
    },
    async (net, dir) => {
      await waitFor(() => net.stats('me').watchMasks.length === 1, 2000, 'the watch stream');
      const mask = net.stats('me').watchMasks[0]!;
      assert.equal(mask & ENGINE_BIT, 0, 'with the engine bit tailscaled polls and broadcasts every 2 s');
      // tailscaled's 2 s engine poll reaches nobody.
      for (let i = 0; i < 3; i++) assert.equal(net.pushEngineUpdate('me'), 0);
      const changed = new Promise<string[]>((resolve) => dir.once('change', resolve));
      net.setOnline('other', false);
      await changed;
      // One read at boot (the watch's initial status is used as it is), one for the change.
      assert.equal(net.stats('me').statusRequests, 2);
    },
  );
});

test('an idle direct peer keeps its observed path; confirmPath re-checks it before owner traffic', async () => {
  await withDirectory(
    {
      tailnet: 'idle.example',
      nodes: [
        { name: 'me', tags: ['tag:fcp-owner'], address: '127.77.9.21' },
        { name: 'lan', tags: ['tag:fcp-owner'], path: 'direct', address: '127.77.9.22' },
        { name: 'far', tags: ['tag:fcp-owner'], path: 'derp', address: '127.77.9.23' },
      ],
    },
    async (net, dir) => {
      const lan = net.device('lan');
      const c = new LocalApiClient({ socketPath: net.device('me').socketPath });
      assert.equal(dir.byStableId(lan.stableId)?.peer.path, 'direct', 'the boot ping showed the direct path');
      assert.equal(dir.byStableId(lan.stableId)?.pathEvidence?.source, 'ping');
      assert.equal(dir.byStableId(net.device('far').stableId)?.peer.path, 'derp');
      // The path goes idle: tailscaled drops CurAddr, and the status alone would say DERP.
      let idle = false;
      while (!idle) {
        const ps = (await c.status()).peers.find((p) => p.hostName === 'lan');
        idle = ps?.curAddr === '' && ps.active === false;
      }
      await dir.refresh();
      assert.equal(dir.byStableId(lan.stableId)?.peer.path, 'direct', 'an idle LAN peer is still direct');
      assert.deepEqual(dir.ranked().map((i) => i.peer.hostName), ['lan', 'far']);
      // The peer moves behind a relay: the check before owner traffic sees it.
      net.setPath('lan', 'derp');
      assert.equal(await dir.confirmPath(lan.stableId, { maxAgeMs: 0 }), 'derp');
      assert.equal(dir.byStableId(lan.stableId)?.peer.path, 'derp');
      net.setPath('lan', 'direct');
      assert.equal(await dir.confirmPath(lan.stableId, { maxAgeMs: 0 }), 'direct');
      // Fresh evidence needs no new ping.
      const pings = net.stats('me').pings['lan'] ?? 0;
      assert.equal(await dir.confirmPath(lan.stableId), 'direct');
      assert.equal(net.stats('me').pings['lan'] ?? 0, pings);
    },
    { activeMs: 40 },
  );
});

const MIXED: TailnetDescription = {
  tailnet: 'mixed.example',
  users: [{ loginName: 'alice@example.com' }, { loginName: 'bob@example.com' }],
  nodes: [
    { name: 'me', tags: ['tag:fcp-owner'], address: '127.77.9.31' },
    { name: 'member', tags: ['tag:fcp-owner'], address: '127.77.9.32' },
    { name: 'phone', tags: ['tag:fcp-owner'], os: 'iOS', address: '127.77.9.33' },
    { name: 'printer', address: '127.77.9.34' },
    { name: 'bobs-laptop', user: 'bob@example.com', address: '127.77.9.35' },
    { name: 'shared', tags: ['tag:fcp-owner'], share: 'shared-in', address: '127.77.9.36' },
    { name: 'sharee', tags: ['tag:fcp-owner'], share: 'sharee', address: '127.77.9.37' },
  ],
};

test('pings go only to fcp members; a phone once when it appears, then only when its path is needed', async () => {
  await withDirectory(MIXED, async (net, dir) => {
    const phone = net.device('phone').stableId;
    assert.deepEqual(net.stats('me').pings, { member: 1, phone: 1 }, 'one boot ping per member, none to anyone else');
    assert.equal(dir.byStableId(phone)?.peer.path, 'direct');
    // Evidence in hand: the check before owner traffic needs no new ping.
    assert.equal(await dir.confirmPath(phone), 'direct');
    assert.equal(net.stats('me').pings['phone'], 1);
    assert.equal(await dir.confirmPath(phone, { maxAgeMs: 0 }), 'direct');
    assert.ok(net.stats('me').pings['phone']! <= 2, 'asked for, at most one more ping');
    dir.noteRoundTrip(net.device('member').stableId, 0.25);
    assert.equal(dir.byStableId(net.device('member').stableId)?.latencyMs, 0.25);
  });
});

test('periodic pings skip devices on battery and everything that is not a member', async () => {
  await withDirectory(
    MIXED,
    async (net) => {
      // With a 20 ms interval (instead of 5 min) the member's path goes stale again and again.
      await waitFor(() => (net.stats('me').pings['member'] ?? 0) >= 4, 5000, 'periodic member pings');
      const pings = net.stats('me').pings;
      assert.equal(pings['phone'], 1, 'the phone was pinged once, when it appeared');
      assert.deepEqual(Object.keys(pings).sort(), ['member', 'phone']);
    },
    { pingIntervalMs: 20 },
  );
});

test('other people\'s devices are never members: shared-in and sharee nodes are left out', async () => {
  await withDirectory(MIXED, async (net, dir) => {
    const names = dir.all().map((i) => i.peer.hostName).sort();
    assert.deepEqual(names, ['bobs-laptop', 'member', 'phone', 'printer']);
    assert.equal(dir.byIp(net.device('shared').address), undefined);
    assert.equal(dir.byStableId(net.device('sharee').stableId), undefined);
    assert.ok(!dir.ranked((i) => i.zones.length > 0).some((i) => i.peer.hostName === 'shared' || i.peer.hostName === 'sharee'));
  });
});

test('boot waits through Starting and NeedsMachineAuth, then follows NeedsLogin and Stopped plainly', async () => {
  await withDirectory(
    { tailnet: 'boot.example', nodes: [{ name: 'me', tags: ['tag:fcp-owner'], address: '127.77.9.41' }, { name: 'peer', tags: ['tag:fcp-owner'], address: '127.77.9.42' }] },
    async (net, dir) => {
      const states: string[] = [];
      const next = (): Promise<TailscaledState> => new Promise((resolve) => dir.once('tailscaled', resolve));
      dir.on('tailscaled', (s: TailscaledState) => states.push(s.state));
      await net.setFault('me', 'starting');
      let seen = next();
      const started = dir.start();
      const starting = await seen;
      assert.equal(starting.state, 'Starting');
      assert.equal(starting.transient, true);
      assert.equal(dir.tailscaled().running, false);
      seen = next();
      await net.setFault('me', 'needs-machine-auth');
      assert.match((await seen).advice, /admin to approve/);
      await net.setFault('me', 'none');
      await started;
      assert.equal(dir.tailscaled().running, true);
      assert.deepEqual(dir.ranked().map((i) => i.peer.hostName), ['peer']);

      seen = next();
      await net.setFault('me', 'logged-out');
      const out = await seen;
      assert.equal(out.state, 'NeedsLogin');
      assert.match(out.advice, /logged out of Tailscale: run "tailscale up"/);
      assert.deepEqual(dir.ranked(), [], 'no peer is reachable while logged out');
      assert.equal(dir.all().length, 1, 'a logged-out status lists no peers, and that is not every device leaving');
      assert.throws(() => dir.requireRunning(), (e: unknown) => (e as { code?: string }).code === 'MESH_TAILSCALED_DOWN' && /tailscale up/.test((e as Error).message));

      seen = next();
      await net.setFault('me', 'none');
      assert.equal((await seen).running, true);
      seen = next();
      await net.setFault('me', 'down');
      assert.equal((await seen).state, 'Stopped');
      seen = next();
      await net.setFault('me', 'stopped');
      const gone = await seen;
      assert.equal(gone.state, 'Unreachable');
      assert.equal(gone.errorCode, 'TS_NOT_RUNNING');
      seen = next();
      await net.setFault('me', 'none');
      assert.equal((await seen).running, true, 'the daemon comes back and is followed again');
      assert.deepEqual(states, ['Starting', 'NeedsMachineAuth', 'Running', 'NeedsLogin', 'Running', 'Stopped', 'Unreachable', 'Running']);
    },
    { start: false },
  );
});

test('userspace networking (TUN off) is refused with what to do', async () => {
  await withDirectory(
    { tailnet: 'netstack.example', nodes: [{ name: 'me', tags: ['tag:fcp-owner'], tun: false, address: '127.77.9.51' }] },
    async (_net, dir) => {
      await assert.rejects(dir.start(), (e: unknown) => (e as { code?: string }).code === 'TS_USERSPACE' && /--tun=userspace-networking/.test((e as Error).message));
    },
    { start: false },
  );
});
