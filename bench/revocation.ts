// npm run bench:revocation — how long a revocation takes to reach every online device: five real
// fcpd processes on the dev tailnet, the owner key made 2-of-2 over the owner devices, then
// BENCH_RUNS revocations from the laptop. For each: the command's own time (FROST signing over
// FCP with the other owner device, then the push), and when each other device's head showed it
// (its control API, polled every 2 ms). Reference in the same run: one FCP round trip (info).
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const post = async <T>(mesh: DevMesh, device: string, path: string, body: unknown): Promise<T> => {
  const b = Buffer.from(JSON.stringify(body));
  return mesh.device(device).control.json<T>(path, { method: 'POST', body: b, contentLength: b.length });
};

async function main(): Promise<void> {
  const mesh = await DevMesh.start({ description: fiveDevicesOn(141), ownerInit: { on: 'laptop', threshold: 2 } });
  try {
    const others = mesh.devices.map((d) => d.name).filter((n) => n !== 'laptop');
    const online = [];
    for (const n of others) if ((await mesh.device(n).control.json<{ seq: number }>('/v1/revocations').catch(() => null)) !== null) online.push(n);
    const command: number[] = [];
    const everywhere: number[] = [];
    const afterCommand: number[] = [];
    const rtt: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = await post<{ id: string }>(mesh, 'laptop', '/v1/tokens', { connector: '*', ops: ['*'], ttlSeconds: 600 });
      const t0 = performance.now();
      const r = await post<{ seq: number }>(mesh, 'laptop', '/v1/tokens/revoke', { ids: [t.id], reason: 'bench' });
      const t1 = performance.now();
      const reached = await Promise.all(
        online.map(async (n) => {
          for (let k = 0; k < 5000; k++) {
            if ((await mesh.device(n).control.json<{ seq: number }>('/v1/revocations')).seq >= r.seq) return performance.now();
            await new Promise((res) => setTimeout(res, 2));
          }
          throw new Error(`${n} did not learn revocation ${r.seq} within the bound`);
        }),
      );
      const last = Math.max(...reached);
      command.push(t1 - t0);
      everywhere.push(last - t0);
      afterCommand.push(Math.max(0, last - t1));
      const s = performance.now();
      await mesh.device('laptop').control.json('/v1/status');
      rtt.push(performance.now() - s);
    }
    const row = (name: string, v: number[]) => `| ${name} | ${pct(v, 50).toFixed(1)} ms | ${pct(v, 99).toFixed(1)} ms | ${Math.max(...v).toFixed(1)} ms |`;
    console.log(`\nrevocation propagation, ${RUNS} revocations, ${online.length} other online devices (${online.join(', ')})\n`);
    console.log('| measure | p50 | p99 | max |');
    console.log('|---|---|---|---|');
    console.log(row('fcp token revoke (FROST 2-of-2 signing + push)', command));
    console.log(row('revoke started -> on every online device', everywhere));
    console.log(row('revoke returned -> on every online device', afterCommand));
    console.log(row('reference: one control API request (fcp status)', rtt));
  } finally {
    await mesh.stop();
  }
}

await main();
