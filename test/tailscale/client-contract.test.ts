import { clientContract, type ContractTarget } from './contract.js';
import { fixture, startFixtureDaemon } from './fixture-daemon.js';
import { startDevTailnet } from '../../src/tailscale/emulator/index.js';

// The emulator, laid out like the recorded tailnet.
clientContract('emulator', async (): Promise<ContractTarget> => {
  const net = await startDevTailnet({
    tailnet: 'alice@example.com',
    nodes: [
      { name: 'laptop', tags: ['tag:fcp-owner'] },
      { name: 'desktop', tags: ['tag:fcp-owner'], os: 'windows', path: 'direct' },
      { name: 'phone', tags: ['tag:fcp-private'], os: 'android', path: 'derp' },
      { name: 'server', tags: ['tag:fcp-owner'], path: 'peer-relay' },
      { name: 'old-tablet', os: 'iOS', online: false },
    ],
  });
  const d = net.device('desktop');
  return {
    socketPath: net.device('laptop').socketPath,
    self: { hostName: 'laptop', ip: '127.77.0.1', tags: ['tag:fcp-owner'] },
    peers: [
      { hostName: 'desktop', ip: '127.77.0.2', path: 'direct', tags: ['tag:fcp-owner'] },
      { hostName: 'phone', ip: '127.77.0.3', path: 'derp', tags: ['tag:fcp-private'] },
      { hostName: 'server', ip: '127.77.0.4', path: 'peer-relay', tags: ['tag:fcp-owner'] },
      { hostName: 'old-tablet', ip: '127.77.0.5', path: 'offline', tags: [] },
    ],
    big: { ip: d.address, hostName: 'desktop', nodeId: d.nodeId, stableId: d.stableId, tags: d.tags },
    unknownIp: '127.77.0.77',
    pings: [
      { ip: '127.77.0.2', path: 'direct' },
      { ip: '127.77.0.3', path: 'derp' },
      { ip: '127.77.0.4', path: 'peer-relay' },
    ],
    takeBigOffline: async () => net.setOnline('desktop', false),
    removePeer: async () => {
      net.removeNode('phone');
      return net.device('phone').nodeId;
    },
    close: () => net.stop(),
  };
});

// Recorded answers of a real tailscaled (written from the Go structs).
clientContract('recorded', async (): Promise<ContractTarget> => {
  const daemon = await startFixtureDaemon({
    status: fixture('status-running.json'),
    whois: { '100.101.1.2': fixture('whois-desktop.json') },
    ping: {
      '100.101.1.2': fixture('ping-direct.json'),
      '100.101.1.3': fixture('ping-derp.json'),
      '100.101.1.4': fixture('ping-peer-relay.json'),
    },
    pingByType: { TSMP: fixture('ping-tsmp.json') },
    watch: fixture('watch-ipn-bus.ndjson'),
  });
  return {
    socketPath: daemon.socketPath,
    self: { hostName: 'laptop', ip: '100.101.1.1', tags: ['tag:fcp-owner'] },
    peers: [
      { hostName: 'desktop', ip: '100.101.1.2', path: 'direct', tags: ['tag:fcp-owner'] },
      { hostName: 'phone', ip: '100.101.1.3', path: 'derp', tags: ['tag:fcp-private'] },
      { hostName: 'server', ip: '100.101.1.4', path: 'peer-relay', tags: ['tag:fcp-owner'] },
      { hostName: 'old-tablet', ip: '100.101.1.5', path: 'offline', tags: [] },
    ],
    big: { ip: '100.101.1.2', hostName: 'desktop', nodeId: '12345678901234567', stableId: 'nDESK9kL2p11CNTRL', tags: ['tag:fcp-owner'] },
    unknownIp: '100.101.1.77',
    pings: [
      { ip: '100.101.1.2', path: 'direct' },
      { ip: '100.101.1.3', path: 'derp' },
      { ip: '100.101.1.4', path: 'peer-relay' },
    ],
    takeBigOffline: async () => undefined,
    removePeer: async () => '7702113',
    close: () => daemon.close(),
  };
});
