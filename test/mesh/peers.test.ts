// The peer directory over the emulator: paths, zones, latency from LocalAPI pings, ranking,
// and changes seen through the watch stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startDevTailnet } from '../../src/tailscale/emulator/index.js';
import { LocalApiClient } from '../../src/tailscale/index.js';
import { ZoneRegistry } from '../../src/zones/index.js';
import { PeerDirectory, comparePeers, type PeerInfo } from '../../src/mesh/peers.js';

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
