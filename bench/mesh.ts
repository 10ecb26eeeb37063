// npm run bench:mesh — store and retrieve over five devices of the dev tailnet, against a
// baseline in the same run: the same bytes fetched whole over one plain TCP connection.
// The reading device (laptop) runs in this process through the library API; the other four
// devices are real fcpd processes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pino from 'pino';
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';
import { SovereignMesh } from '../src/index.js';

const SIZES = [
  { label: '1 MiB', bytes: 1 << 20, runs: Number(process.env.BENCH_RUNS_1M ?? 60) },
  { label: '16 MiB', bytes: 16 << 20, runs: Number(process.env.BENCH_RUNS_16M ?? 12) },
];
const ZONE = 'z:private';
const BASELINE_PORT = 9999;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A plain TCP server on a peer's address that sends `size` bytes to each connection. */
async function startBaseline(host: string, size: number): Promise<{ stop(): void }> {
  const code = `const net=require('net');const buf=require('crypto').randomBytes(${size});net.createServer(s=>{s.end(buf)}).listen(${BASELINE_PORT},'${host}',()=>process.stdout.write('ready\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return { stop: () => child.kill() };
}

function fetchWhole(host: string, localAddress: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    let got = 0;
    const s = net.connect({ host, port: BASELINE_PORT, localAddress });
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
    });
    s.on('end', () => {
      const whole = Buffer.concat(chunks); // the caller gets one contiguous buffer, like retrieve
      if (whole.length !== size || got !== size) reject(new Error(`baseline got ${got} bytes`));
      resolve(performance.now() - t0);
    });
    s.on('error', reject);
  });
}

async function main(): Promise<void> {
  const mesh = await DevMesh.start({ description: fiveDevicesOn(10), notStarted: ['laptop'] });
  const laptop = mesh.device('laptop');
  const node = await SovereignMesh.init({ dataDir: laptop.dataDir, tailscaleSocket: laptop.socketPath, logger: pino({ level: 'silent' }) });
  const rows: string[][] = [];
  try {
    for (const size of SIZES) {
      const storeMs: number[] = [];
      const retrieveMs: number[] = [];
      const baselineMs: number[] = [];
      const baseline = await startBaseline(mesh.device('server').address, size.bytes);
      // Warm up connections, JIT and caches once per size.
      const warm = await node.store(new Uint8Array(randomBytes(size.bytes)), ZONE);
      await node.retrieve(warm);
      await fetchWhole(mesh.device('server').address, laptop.address, size.bytes);
      for (let i = 0; i < size.runs; i++) {
        const data = new Uint8Array(randomBytes(size.bytes));
        let t0 = performance.now();
        const id = await node.store(data, ZONE);
        storeMs.push(performance.now() - t0);
        t0 = performance.now();
        const back = await node.retrieve(id);
        retrieveMs.push(performance.now() - t0);
        if (back.length !== data.length || Buffer.compare(Buffer.from(back), Buffer.from(data)) !== 0) throw new Error('retrieved bytes differ');
        baselineMs.push(await fetchWhole(mesh.device('server').address, laptop.address, size.bytes));
      }
      baseline.stop();
      const b50 = pct(baselineMs, 50);
      rows.push([size.label, 'store', String(size.runs), pct(storeMs, 50).toFixed(1), pct(storeMs, 99).toFixed(1), b50.toFixed(1), `${(pct(storeMs, 50) / b50).toFixed(1)}x`]);
      rows.push([size.label, 'retrieve', String(size.runs), pct(retrieveMs, 50).toFixed(1), pct(retrieveMs, 99).toFixed(1), b50.toFixed(1), `${(pct(retrieveMs, 50) / b50).toFixed(1)}x`]);
    }
  } finally {
    await node.close();
    await mesh.stop();
  }
  const head = ['size', 'operation', 'runs', 'p50 ms', 'p99 ms', 'plain TCP p50 ms', 'ratio p50'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\nfcp-mesh bench: ${ZONE}, 5 devices (reader in process, 4 fcpd processes), loopback\n\n`);
  process.stdout.write(`${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
  process.stdout.write('\nRequired: 1 MiB retrieve p50 < 50 ms, p99 < 250 ms; 16 MiB retrieve <= 3x plain TCP. Aim: 1 MiB p50 < 15 ms, 16 MiB <= 1.5x.\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
