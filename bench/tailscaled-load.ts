// What following the tailnet costs tailscaled: LocalAPI requests made by one peer directory
// over a fixed window, against what a watcher with the engine-updates bit receives in the same
// window (each of those messages used to become a full GET /status). Prints a table.
//   node dist/bench/tailscaled-load.js [seconds=10]
import pino from 'pino';
import { PeerDirectory } from '../src/mesh/peers.js';
import { LocalApiClient, NotifyWatch } from '../src/tailscale/index.js';
import { startDevTailnet } from '../src/tailscale/emulator/index.js';
import { ZoneRegistry } from '../src/zones/index.js';

const seconds = Math.min(Math.max(Number(process.argv[2] ?? 10), 1), 120);
const net = await startDevTailnet({
  tailnet: 'load.example',
  users: [{ loginName: 'alice@example.com' }, { loginName: 'bob@example.com' }],
  nodes: [
    { name: 'me', tags: ['tag:fcp-owner'], address: '127.77.12.1' },
    { name: 'server', tags: ['tag:fcp-owner'], address: '127.77.12.2' },
    { name: 'desktop', tags: ['tag:fcp-private'], address: '127.77.12.3' },
    { name: 'phone', tags: ['tag:fcp-owner'], os: 'iOS', path: 'derp', address: '127.77.12.4' },
    { name: 'tv', address: '127.77.12.5' },
    { name: 'bobs-laptop', user: 'bob@example.com', address: '127.77.12.6' },
    { name: 'friend', tags: ['tag:fcp-owner'], share: 'shared-in', address: '127.77.12.7' },
  ],
});
const socketPath = net.device('me').socketPath;
const dir = new PeerDirectory({ client: new LocalApiClient({ socketPath }), zones: ZoneRegistry.builtin(), log: pino({ level: 'silent' }) });
// The old subscription, watched side by side on another device so its counts stay apart.
const oldMask = NotifyWatch.engineUpdates | NotifyWatch.initialState | NotifyWatch.peerChanges | NotifyWatch.noNetMap | NotifyWatch.initialStatus;
const ac = new AbortController();
let engineMessages = 0;
const oldWatch = (async () => {
  try {
    for await (const n of new LocalApiClient({ socketPath: net.device('server').socketPath }).watch({ signal: ac.signal, mask: oldMask })) if (n.engine) engineMessages++;
  } catch {
    // ends with the tailnet
  }
})();
const t0 = Date.now();
await dir.start();
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = (Date.now() - t0) / 1000;
const s = net.stats('me');
ac.abort();
dir.stop();
await oldWatch;
await net.stop();

const pings = Object.values(s.pings).reduce((a, b) => a + b, 0);
const perMin = (n: number): string => ((n / elapsed) * 60).toFixed(1).padStart(8);
const rows: Array<[string, number]> = [
  ['GET /status (this directory)', s.statusRequests],
  ['disco pings (this directory; at boot, once each)', pings],
  ['Engine messages to an engine-bit watcher', engineMessages],
];
process.stdout.write(`window ${elapsed.toFixed(1)} s, 6 peers (2 members off battery, 1 phone, 3 not members)\n\n`);
process.stdout.write(`| ${'what'.padEnd(42)} | ${'count'.padStart(5)} | per minute |\n|${'-'.repeat(44)}|-------|------------|\n`);
for (const [what, n] of rows) process.stdout.write(`| ${what.padEnd(42)} | ${String(n).padStart(5)} | ${perMin(n)}   |\n`);
process.stdout.write(`\npinged: ${Object.entries(s.pings).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'}\n`);
