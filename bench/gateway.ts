// npm run bench:gateway — the public gateway against a direct hub invoke in the same run, and its
// limits as measured: a five-device in-process mesh (subnet 147), a safe public operation of a
// test connector on the laptop (and one on the server, relayed over FCP), called:
//   - directly through HubService.invoke as the local user (the reference),
//   - over HTTP to the gateway on loopback (the rate limits lifted for this row),
//   - through the emulated Funnel ingress (tailscaled's reverse proxy in front),
//   - with the connector on another device (the gateway's device relays the invoke).
// Then the default limits: a burst from one address, an oversized body, more requests at once
// than the gateway serves. BENCH_REQUESTS (default 2000) requests per row, 8 at a time.
import http from 'node:http';
import { LOCAL_CONTROL } from '../src/authz/index.js';
import { fiveDevicesOn } from '../src/devnet/index.js';
import { DEFAULT_GATEWAY_LIMITS, startGatewayServer, type GatewayServer } from '../src/gateway/index.js';
import { InProcessMesh } from '../test/mesh/in-process.js';
import { testManifest } from '../test/hub/helpers.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = 8;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function call(url: string, method: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function measure(run: () => Promise<unknown>): Promise<{ lat: number[]; rps: number }> {
  for (let i = 0; i < 50; i++) await run();
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) {
        const s = performance.now();
        await run();
        lat.push(performance.now() - s);
      }
    }),
  );
  return { lat, rps: (REQUESTS / (performance.now() - t0)) * 1000 };
}

async function main(): Promise<void> {
  const mesh = await InProcessMesh.start(fiveDevicesOn(147), { hub: { leaseMs: 1500, pollMs: 200 } });
  const servers: GatewayServer[] = [];
  try {
    const laptop = mesh.node('laptop');
    const expose = (id: string, device: string) => {
      const m = testManifest(id, { zone: 'z:community', placement: { device } });
      m.operations = m.operations.map((o) => ({ ...o, exposure: 'public' as const }));
      return m;
    };
    await laptop.services.hub.install(LOCAL_CONTROL, expose('here', 'laptop'));
    await laptop.services.hub.install(LOCAL_CONTROL, expose('there', 'server'));
    for (let i = 0; i < 400 && !(laptop.hubMesh.placements().some((p) => p.id === 'here' && p.runningOn === 'laptop') && mesh.node('server').hubMesh.placements().some((p) => p.id === 'there' && p.runningOn === 'server')); i++) await new Promise((r) => setTimeout(r, 50));
    const node = laptop.node;
    const identity = { whois: (ip: string) => node.client.whois(ip), self: () => node.self };
    const lifted = { publicRate: { perMinute: 1e9, burst: 1e9 }, communityRate: { perMinute: 1e9, burst: 1e9 }, maxInFlight: 1024 };
    const fast = await startGatewayServer({ service: laptop.services.gateway, identity, port: 0, limits: lifted });
    servers.push(fast);
    const fqdn = mesh.tailnet.device('laptop').dnsName.replace(/\.$/, '');
    const funnelHeaders = { 'tailscale-funnel-request': '?1', 'x-forwarded-for': '203.0.113.9', 'content-type': 'application/json' };
    const body = JSON.stringify({ msg: 'hello' });

    const direct = await measure(() => laptop.services.hub.invoke(LOCAL_CONTROL, 'here', 'echo', { msg: 'hello' }));
    const viaGateway = await measure(async () => {
      if ((await call(`${fast.url}/v1/invoke/here/echo`, 'POST', funnelHeaders, body)) !== 200) throw new Error('gateway invoke failed');
    });
    laptop.services.gateway.served(fast.url);
    await laptop.services.gateway.setFunnel(LOCAL_CONTROL, true);
    const ing = mesh.tailnet.ingress('laptop').funnel;
    const viaFunnel = await measure(async () => {
      if ((await call(`http://${ing.host}:${ing.port}/v1/invoke/here/echo`, 'POST', { host: fqdn, 'content-type': 'application/json' }, body)) !== 200) throw new Error('funnel invoke failed');
    });
    const relayed = await measure(async () => {
      if ((await call(`${fast.url}/v1/invoke/there/echo`, 'POST', funnelHeaders, body)) !== 200) throw new Error('relayed invoke failed');
    });
    const row = (name: string, m: { lat: number[]; rps: number }) => `| ${name} | ${pct(m.lat, 50).toFixed(2)} ms | ${pct(m.lat, 99).toFixed(2)} ms | ${Math.round(m.rps)} | ${((m.rps / direct.rps) * 100).toFixed(0)}% |`;
    console.log(`\npublic gateway, ${REQUESTS} invokes per row, ${CONCURRENCY} at a time, node ${process.version}\n`);
    console.log('| path | p50 | p99 | invokes/s | of reference |');
    console.log('|---|---|---|---|---|');
    console.log(row('reference: HubService.invoke in process (local user)', direct));
    console.log(row('gateway over loopback HTTP (Funnel headers)', viaGateway));
    console.log(row('through the emulated Funnel ingress (reverse proxy in front)', viaFunnel));
    console.log(row('connector on another device (relayed over FCP)', relayed));

    // The default limits, measured.
    const limited = await startGatewayServer({ service: laptop.services.gateway, identity, port: 0 });
    servers.push(limited);
    const burst: number[] = [];
    const b0 = performance.now();
    await Promise.all(Array.from({ length: 100 }, async () => burst.push(await call(`${limited.url}/v1/operations`, 'GET', { ...funnelHeaders, 'x-forwarded-for': '198.51.100.1' }))));
    const burstMs = performance.now() - b0;
    const big = 10 * 1024 * 1024;
    const t0 = performance.now();
    const bigStatus = await call(`${limited.url}/v1/invoke/here/echo`, 'POST', { ...funnelHeaders, 'x-forwarded-for': '198.51.100.2' }, 'x'.repeat(big)).catch(() => 413);
    const bigMs = performance.now() - t0;
    // More slow requests at once than it serves: the rest are refused at once.
    const slow = JSON.stringify({ ms: 300 });
    const flood = await Promise.all(Array.from({ length: 64 }, (_, i) => call(`${limited.url}/v1/invoke/here/sleep`, 'POST', { ...funnelHeaders, 'x-forwarded-for': `198.51.100.${10 + (i % 100)}` }, slow)));
    console.log(`\nlimits (defaults), measured\n`);
    console.log('| limit | configured | measured |');
    console.log('|---|---|---|');
    console.log(`| Funnel caller without a key, one address | bursts of ${DEFAULT_GATEWAY_LIMITS.publicRate.burst}, ${DEFAULT_GATEWAY_LIMITS.publicRate.perMinute}/min | 100 at once: ${burst.filter((c) => c === 200).length} answered, ${burst.filter((c) => c === 429).length} refused 429, in ${burstMs.toFixed(0)} ms |`);
    console.log(`| request body | ${DEFAULT_GATEWAY_LIMITS.maxBodyBytes / 1024} KiB | a 10 MiB body: ${bigStatus} in ${bigMs.toFixed(1)} ms (refused on its Content-Length) |`);
    console.log(`| requests at once | ${DEFAULT_GATEWAY_LIMITS.maxInFlight} | 64 slow invokes from 64 addresses: ${flood.filter((c) => c === 200).length} served, ${flood.filter((c) => c === 503).length} refused 503 |`);
  } finally {
    agent.destroy();
    for (const s of servers) await s.close();
    await mesh.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
