// npm run bench:secrets — secret recovery latency on the dev tailnet: k shares fetched from
// ranked devices over real TCP, combined in memory, zeroed. The using device runs in this
// process through the library API; the other devices are real fcpd processes.
import pino from 'pino';
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';
import { SovereignMesh } from '../src/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
// The phone reached directly, so z:owner has three devices for a 3-share secret.
const DESCRIPTION = fiveDevicesOn(11, { phone: { path: 'direct' } });

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

async function main(): Promise<void> {
  const mesh = await DevMesh.start({ description: DESCRIPTION, notStarted: ['laptop'] });
  const laptop = mesh.device('laptop');
  const node = await SovereignMesh.init({ dataDir: laptop.dataDir, tailscaleSocket: laptop.socketPath, logger: pino({ level: 'silent' }), secretsRestoreIntervalMs: 0 });
  const rows: string[][] = [];
  try {
    const cases = [
      { name: 'api-key-2of3', k: 2, n: 3, bytes: 48 },
      { name: 'api-key-3of3', k: 3, n: 3, bytes: 48 },
      { name: 'oauth-2of3', k: 2, n: 3, bytes: 4096 },
    ];
    for (const c of cases) {
      const value = new Uint8Array(c.bytes).fill(0x41);
      await node.secrets.put(c.name, value, { k: c.k, n: c.n, zone: 'z:owner' });
      const times: number[] = [];
      await node.secrets.use(c.name, () => undefined); // warm connections and caches
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await node.secrets.use(c.name, (buf) => {
          if (buf.length !== c.bytes) throw new Error('wrong secret length');
        });
        times.push(performance.now() - t0);
      }
      rows.push([`${c.k}-of-${c.n}`, String(c.bytes), String(RUNS), pct(times, 50).toFixed(2), pct(times, 99).toFixed(2)]);
    }
    // The CLI path: `fcp secret exec` asks the server's daemon over its control socket.
    const times: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 100); i++) {
      const t0 = performance.now();
      const res = await mesh.device('server').control.request('/v1/secrets/api-key-2of3/use', { method: 'POST' });
      if (res.status !== 200) throw new Error(`use via control socket failed: ${res.body.toString()}`);
      res.body.fill(0);
      times.push(performance.now() - t0);
    }
    rows.push(['2-of-3 via fcpd control socket', '48', String(times.length), pct(times, 50).toFixed(2), pct(times, 99).toFixed(2)]);
  } finally {
    await node.close();
    await mesh.stop();
  }
  const head = ['secret', 'bytes', 'runs', 'recovery p50 ms', 'recovery p99 ms'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\nfcp-mesh secrets bench: z:owner on the dev tailnet (3 owner devices), loopback\n\n`);
  process.stdout.write(`${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
  process.stdout.write('\nRequired: p50 < 150 ms. Aim: p50 < 20 ms.\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
