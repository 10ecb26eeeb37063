import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyPath, parseStatus, parseJsonLossless, peersFromStatus, selfFromStatus, resolveSocketPath, LINUX_SOCKET, MACOS_SOCKET, platformDefaultSocket } from '../../src/tailscale/index.js';
import { fixture } from './fixture-daemon.js';

test('path classification: offline, then CurAddr, then PeerRelay, else DERP', () => {
  const cases: Array<[boolean, string, string, string]> = [
    [false, '1.2.3.4:41641', '', 'offline'],
    [false, '', 'r:1:vni:2', 'offline'],
    [true, '1.2.3.4:41641', '', 'direct'],
    [true, '1.2.3.4:41641', 'r:1:vni:2', 'direct'],
    [true, '', 'r:1:vni:2', 'peer-relay'],
    [true, '', '', 'derp'],
  ];
  for (const [online, curAddr, peerRelay, want] of cases) assert.equal(classifyPath({ online, curAddr, peerRelay }), want);
});

test('recorded status: absent Tags means none; Relay alone is not relaying; users keyed by exact ID', () => {
  const st = parseStatus(parseJsonLossless(fixture('status-running.json')));
  const peers = peersFromStatus(st);
  const tablet = peers.find((p) => p.hostName === 'old-tablet');
  assert.deepEqual(tablet?.tags, []);
  const desktop = peers.find((p) => p.hostName === 'desktop');
  assert.equal(desktop?.relay, 'fra');
  assert.equal(desktop?.path, 'direct');
  assert.equal(desktop?.nodeId, '12345678901234567');
  assert.deepEqual(Object.keys(st.users).sort(), ['31337', '9007199254740993']);
  assert.equal(st.users['9007199254740993']?.loginName, 'tagged-devices');
  const self = selfFromStatus(st);
  assert.equal(self.hostName, 'laptop');
  assert.deepEqual(self.tailscaleIps, ['100.101.1.1', 'fd7a:115c:a1e0::1']);
  assert.deepEqual(Object.keys(st.self.capMap).sort(), ['funnel', 'funnel-ports?ports=443,8443,10000', 'https://tailscale.com/cap/file-sharing']);
  assert.equal(st.currentTailnet?.magicDnsSuffix, 'tail4c2a9.ts.net');
});

test('socket path: explicit, then TS_SOCKET, then the platform default', () => {
  assert.equal(resolveSocketPath('/x.sock', { TS_SOCKET: '/y.sock' }), '/x.sock');
  assert.equal(resolveSocketPath(undefined, { TS_SOCKET: '/y.sock' }), '/y.sock');
  assert.equal(resolveSocketPath(undefined, {}), platformDefaultSocket());
  assert.equal(platformDefaultSocket('darwin'), MACOS_SOCKET);
  assert.equal(platformDefaultSocket('linux'), LINUX_SOCKET);
});
