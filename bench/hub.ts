// npm run bench:hub — invoke latency and throughput through the hub. The connector runs on the
// server (a real fcpd on the dev tailnet) or on the laptop (this process, through the library
// API); invokes start on the laptop. Local: laptop → its host → connector. Remote: laptop → FCP
// → server's hub → its host → connector. Control: `fcp call`'s path, desktop's control socket →
// its fcpd → FCP → server. Throughput: BENCH_CONCURRENCY invokes in flight from one device.
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';
import { SovereignMesh } from '../src/index.js';
import { LOCAL_LIBRARY } from '../src/authz/index.js';
import type { ConnectorManifest } from '../src/hub/manifest.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const LEASE_MS = 3000;
const ECHO = fileURLToPath(new URL('./hub-echo-connector.js', import.meta.url));

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const manifest = (id: string, device: string): ConnectorManifest => ({
  id,
  version: '1.0.0',
  command: process.execPath,
  args: [ECHO],
  zone: 'z:private',
  operations: [{ name: 'echo', risk: 'safe' }],
  placement: { device },
});

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const mesh = await DevMesh.start({ description: fiveDevicesOn(87), notStarted: ['laptop'], env: { FCP_HUB_LEASE_MS: String(LEASE_MS), FCP_REPAIR_INTERVAL_MS: '0', FCP_SCRUB_INTERVAL_MS: '0' } });
  const laptopDev = mesh.device('laptop');
  const laptop = await SovereignMesh.init({ dataDir: laptopDev.dataDir, tailscaleSocket: laptopDev.socketPath, logger: pino({ level: 'warn' }), secretsRestoreIntervalMs: 0, hub: { leaseMs: LEASE_MS } });
  const rows: string[][] = [];
  try {
    const hub = laptop.services.hub;
    await hub.install(LOCAL_LIBRARY, manifest('echo-remote', 'server'));
    await hub.install(LOCAL_LIBRARY, manifest('echo-local', 'laptop'));
    const ctx = () => ({ deadline: Date.now() + 10_000 });
    await waitFor('both connectors run', async () => {
      const p = laptop.hubMesh.placements();
      return p.find((x) => x.id === 'echo-remote')?.runningOn === 'server' && p.find((x) => x.id === 'echo-local')?.runningOn === 'laptop';
    });
    const input = { msg: 'hello', n: 42 };
    const latency = async (name: string, one: () => Promise<unknown>, runs: number) => {
      for (let i = 0; i < 50; i++) await one(); // warm connections and JITs
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await one();
        times.push(performance.now() - t0);
      }
      rows.push([name, String(runs), pct(times, 50).toFixed(2), pct(times, 99).toFixed(2), (1000 / (times.reduce((a, b) => a + b, 0) / runs)).toFixed(0), '1']);
    };
    const throughput = async (name: string, one: () => Promise<unknown>, total: number) => {
      let next = 0;
      const times: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < total) {
            next++;
            const s = performance.now();
            await one();
            times.push(performance.now() - s);
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      rows.push([name, String(total), pct(times, 50).toFixed(2), pct(times, 99).toFixed(2), (total / secs).toFixed(0), String(CONCURRENCY)]);
    };
    await latency('local (library → host)', () => hub.invoke(LOCAL_LIBRARY, 'echo-local', 'echo', input, ctx()), RUNS);
    await latency('remote (library → FCP → server)', () => hub.invoke(LOCAL_LIBRARY, 'echo-remote', 'echo', input, ctx()), RUNS);
    const body = new TextEncoder().encode(JSON.stringify({ connector: 'echo-remote', operation: 'echo', input }));
    const desktop = mesh.device('desktop').control;
    await waitFor('desktop knows the connector', async () => (await desktop.request('/v1/hub/invoke', { method: 'POST', body })).status === 200);
    await latency('remote via control socket (desktop fcpd)', () => desktop.json('/v1/hub/invoke', { method: 'POST', body }), Math.min(RUNS, 1000));
    await throughput('local, concurrent', () => hub.invoke(LOCAL_LIBRARY, 'echo-local', 'echo', input, ctx()), RUNS * 2);
    await throughput('remote, concurrent', () => hub.invoke(LOCAL_LIBRARY, 'echo-remote', 'echo', input, ctx()), RUNS * 2);
  } finally {
    await laptop.close();
    await mesh.stop();
  }
  const head = ['path', 'invokes', 'p50 ms', 'p99 ms', 'invokes/s', 'in flight'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
