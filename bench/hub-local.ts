// npm run bench:hub-local — invoke latency and throughput of one device's connector host: a
// real child process speaking JSON-RPC over stdio, called directly (ConnectorHost) and through
// HubService (authorization, operation lookup, idempotency cache). Remote invokes over FCP are
// measured where the mesh router is.
import { fileURLToPath } from 'node:url';
import { Authorizer, LOCAL_CONTROL } from '../src/authz/index.js';
import { ConnectorHost, loadManifest, type ConnectorManifest } from '../src/hub/index.js';
import { HubService, type ObjectService, type SecretService } from '../src/services/index.js';
import { ZoneRegistry } from '../src/zones/index.js';

const SEQUENTIAL = Number(process.env.BENCH_RUNS ?? 2000);
const PARALLEL_TOTAL = Number(process.env.BENCH_PARALLEL ?? 10_000);
const IN_FLIGHT = 32;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };

async function main(): Promise<void> {
  const zones = ZoneRegistry.builtin();
  const manifest: ConnectorManifest = {
    id: 'echo',
    version: '1.0.0',
    command: process.execPath,
    args: [fileURLToPath(new URL('./fixtures/echo-connector.js', import.meta.url))],
    zone: 'z:private',
    operations: [{ name: 'echo', risk: 'safe', input_schema: { type: 'object', properties: { n: { type: 'integer' } } } }],
  };
  const host = new ConnectorHost({ hostName: 'bench', log: silent });
  const authz = new Authorizer({ selfZones: () => [zones.get('z:owner')] });
  const hub = new HubService<ConnectorManifest>({
    runner: host,
    parse: (v) => loadManifest(v).manifest,
    zones,
    authz,
    objects: {} as ObjectService,
    secrets: {} as SecretService,
    installed: { load: async () => [], save: async () => undefined },
    state: { get: async () => ({ value: null, seq: 0 }), put: async () => ({ seq: 0 }) },
    hostName: 'bench',
    log: silent,
    newTraceId: () => 't',
  });
  await hub.install(LOCAL_CONTROL, manifest);
  const rows: string[][] = [];
  let keys = 0;
  try {
    const paths: Array<[string, (i: number) => Promise<unknown>]> = [
      ['ConnectorHost.invoke', (i) => host.invoke('echo', 'echo', { n: i }, { traceId: 't', deadline: Date.now() + 10_000, caller: 'bench' })],
      ['HubService.invoke', (i) => hub.invoke(LOCAL_CONTROL, 'echo', 'echo', { n: i })],
      ['HubService.invoke, new idempotency key each', (i) => hub.invoke(LOCAL_CONTROL, 'echo', 'echo', { n: i }, { idempotencyKey: `k${keys++}` })],
    ];
    for (const [name, call] of paths) {
      for (let i = 0; i < 2000; i++) await call(i); // warm up (JIT, pipes)
      const times: number[] = [];
      for (let i = 0; i < SEQUENTIAL; i++) {
        const t0 = performance.now();
        await call(i);
        times.push(performance.now() - t0);
      }
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < PARALLEL_TOTAL) await call(1_000_000 + next++);
        }),
      );
      const perSecond = PARALLEL_TOTAL / ((performance.now() - t0) / 1000);
      rows.push([name, String(SEQUENTIAL), pct(times, 50).toFixed(3), pct(times, 99).toFixed(3), `${Math.round(perSecond)}`]);
    }
  } finally {
    await host.stopAll();
  }
  const head = ['path (local, one echo connector)', 'sequential calls', 'p50 ms', 'p99 ms', `invokes/s (${IN_FLIGHT} in flight)`];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write([line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
