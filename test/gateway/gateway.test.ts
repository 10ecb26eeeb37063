// The public gateway over a five-device mesh: requests as tailscaled's serve/Funnel presents them
// (Tailscale-Funnel-Request, X-Forwarded-For), the connector running on another device than the
// gateway, and the owner key in force (so the relayed invoke carries this device's grant).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { ed25519 } from '@noble/curves/ed25519.js';
import { LOCAL_CONTROL } from '../../src/authz/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { isLoopback, RateLimiter, startGatewayServer, type GatewayServer } from '../../src/gateway/index.js';
import { InProcessMesh } from '../mesh/in-process.js';
import { join } from 'node:path';
import { startControlServer } from '../../src/daemon/control-server.js';

import { fcp, testManifest, testOwnerAuthority } from '../hub/helpers.js';

const ownerSeed = new Uint8Array(randomBytes(32));
const ownerKey = ed25519.getPublicKey(ownerSeed);
const testOwner = () => testOwnerAuthority(ownerSeed, ownerKey);

async function until<T>(f: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: { code: string; message: string }; output?: unknown; operations?: Array<{ connector: string; operation: string }>; caller?: { zone: string }; provenance?: unknown };
}

function request(base: string, method: string, path: string, headers: Record<string, string>, body?: string | Buffer, from?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent: false, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, ...(from ? { localAddress: from } : {}) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Reply['body'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A Funnel request as tailscaled forwards it: marked, with the internet caller's address. */
const funnel = (source: string, extra: Record<string, string> = {}) => ({ 'tailscale-funnel-request': '?1', 'x-forwarded-for': source, ...extra });

describe('the public gateway', () => {
  let mesh: InProcessMesh;
  let gw: GatewayServer;
  const limits = { publicRate: { perMinute: 60, burst: 6 }, communityRate: { perMinute: 600, burst: 100 }, maxBodyBytes: 4096, timeoutMs: 2_500, maxInFlight: 32 };

  before(async () => {
    // The desktop's tailnet policy gives it no Funnel (no `funnel` node attribute).
    const net = fiveDevicesOn(146);
    net.nodes = net.nodes.map((n) => (n.name === 'desktop' ? { ...n, funnel: false } : n));
    mesh = await InProcessMesh.start(net, { hub: { leaseMs: 1500, pollMs: 200 }, ownerAuthority: () => testOwner() });
    await mesh.node('server').hubMesh.setProfile(LOCAL_CONTROL, { alwaysOn: true });
    const laptop = mesh.node('laptop');
    await until(() => laptop.hubMesh.devices(LOCAL_CONTROL).find((d) => d.hostName === 'server' && d.profile?.alwaysOn));
    const exposed = { echo: 'public', provenance: 'public', fail: 'public', state: 'public', sleep: 'community' } as const;
    // It runs on the server, so the gateway on the laptop relays every public invoke over FCP.
    const pub = testManifest('pubc', { zone: 'z:community', placement: { device: 'server' } });
    pub.operations = pub.operations.map((o) => ({ ...o, ...(o.name in exposed ? { exposure: exposed[o.name as keyof typeof exposed] } : {}), ...(o.name === 'state' ? { risk: 'risky' as const } : {}) }));
    const priv = testManifest('privc');
    priv.operations = priv.operations.map((o) => ({ ...o, exposure: 'public' as const }));
    await laptop.services.hub.install(LOCAL_CONTROL, pub);
    await laptop.services.hub.install(LOCAL_CONTROL, priv);
    await until(() => mesh.node('server').hubMesh.placements().some((p) => p.id === 'pubc' && p.runningOn === 'server')).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(mesh.node('server').hubMesh.placements())}`);
    });
    const node = laptop.node;
    gw = await startGatewayServer({ service: laptop.services.gateway, identity: { whois: (ip) => node.client.whois(ip), self: () => node.self }, port: 0, limits });
  });
  after(async () => {
    await gw?.close();
    await mesh?.stop();
  });

  test('a Funnel caller sees and invokes only public operations; the connector on another device gets the PUBLIC_INPUT provenance', async () => {
    const list = await request(gw.url, 'GET', '/v1/operations', funnel('203.0.113.5'));
    assert.equal(list.status, 200);
    assert.equal(list.body.caller?.zone, 'z:public');
    // state is exposed but risky uphill in integrity, sleep is for community callers, privc is z:private.
    assert.deepEqual(list.body.operations!.map((o) => `${o.connector}.${o.operation}`).sort(), ['pubc.echo', 'pubc.fail', 'pubc.provenance']);
    const echo = await request(gw.url, 'POST', '/v1/invoke/pubc/echo', funnel('203.0.113.5', { 'content-type': 'application/json' }), JSON.stringify({ msg: 'hello' }));
    assert.equal(echo.status, 200, JSON.stringify(echo.body));
    assert.deepEqual((echo.body.output as { echo: unknown }).echo, { msg: 'hello' });
    assert.deepEqual(echo.body.provenance, { origin_zone: 'z:public', via: 'funnel', taint: ['PUBLIC_INPUT'] });
    const prov = await request(gw.url, 'POST', '/v1/invoke/pubc/provenance', funnel('203.0.113.5'), '{}');
    assert.equal(prov.status, 200, JSON.stringify(prov.body));
    const seen = prov.body.output as { provenance: { origin_zone: string; via: string; integrity: number; taint: string[] }; caller: string };
    assert.deepEqual(seen.provenance, { origin_zone: 'z:public', via: 'funnel', integrity: 20, confidentiality: 10, taint: ['PUBLIC_INPUT'] });
    // It ran on the server: the laptop relayed it under its own grant, as a public caller's invoke.
    assert.match(seen.caller, /^laptop /);
  });

  test('z:private connectors, unexposed and unknown operations are one and the same 403; dangerous and risky-uphill ones are refused for taint', async () => {
    const priv = await request(gw.url, 'POST', '/v1/invoke/privc/echo', funnel('203.0.113.6'), '{"msg":"x"}');
    const unknown = await request(gw.url, 'POST', '/v1/invoke/nosuch/echo', funnel('203.0.113.6'), '{}');
    const unexposed = await request(gw.url, 'POST', '/v1/invoke/pubc/crash', funnel('203.0.113.6'), '{}');
    for (const r of [priv, unknown, unexposed]) assert.equal(r.status, 403);
    assert.equal(priv.body.error?.code, 'GATEWAY_FORBIDDEN');
    assert.equal(priv.body.error?.message, 'privc.echo is not available through this gateway');
    assert.equal(unknown.body.error?.message, 'nosuch.echo is not available through this gateway');
    assert.equal(unexposed.body.error?.message, 'pubc.crash is not available through this gateway');
    const risky = await request(gw.url, 'POST', '/v1/invoke/pubc/state', funnel('203.0.113.6', { 'idempotency-key': 'k1' }), '{}');
    assert.equal(risky.status, 403);
    assert.match(risky.body.error!.message, /may not be driven by public input/);
  });

  test('a community key makes the caller z:community until it is revoked; a wrong key is refused, not downgraded', async () => {
    const sleepy = () => request(gw.url, 'POST', '/v1/invoke/pubc/sleep', funnel('198.51.100.9', key ? { 'x-fcp-api-key': key } : {}), '{"ms":1}');
    let key = '';
    const without = await sleepy();
    assert.equal(without.status, 403);
    assert.match(without.body.error!.message, /community key/);
    const gateway = mesh.node('laptop').services.gateway;
    const made = await gateway.addKey(LOCAL_CONTROL, 'alice');
    key = made.key;
    assert.match(key, /^fcpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const withKey = await sleepy();
    assert.equal(withKey.status, 200, JSON.stringify(withKey.body));
    // The risky operation at the community caller's own integrity runs, with its idempotency key.
    const state = await request(gw.url, 'POST', '/v1/invoke/pubc/state', funnel('198.51.100.9', { 'x-fcp-api-key': key, 'idempotency-key': 'k2' }), '{}');
    assert.equal(state.status, 200, JSON.stringify(state.body));
    assert.equal((await request(gw.url, 'GET', '/v1/operations', funnel('198.51.100.9', { 'x-fcp-api-key': key }))).body.caller?.zone, 'z:community');
    const wrong = await request(gw.url, 'GET', '/v1/operations', funnel('198.51.100.9', { 'x-fcp-api-key': key.slice(0, -2) + (key.endsWith('AA') ? 'BB' : 'AA') }));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error?.code, 'GATEWAY_BAD_KEY');
    // Only the hash is on disk.
    const listed = await gateway.listKeys(LOCAL_CONTROL);
    assert.deepEqual(listed.map((k) => k.name), ['alice']);
    assert.ok(!JSON.stringify(listed).includes(key.slice(18)));
    await gateway.revokeKey(LOCAL_CONTROL, 'alice');
    const revoked = await sleepy();
    assert.equal(revoked.status, 401);
  });

  test('a listing is one audit event, not one per operation (nobody on the internet can make the log grow per operation)', async () => {
    const audit = mesh.node('laptop').services.audit;
    const decisions = (action: string) =>
      ['device', 'z:community', 'z:public', 'z:private'].flatMap((zone) => audit.log(LOCAL_CONTROL, { zone, limit: 100_000 })).filter((e) => e.event.action === action).length;
    const lists = decisions('gateway.list');
    const invokes = decisions('gateway.invoke');
    assert.equal((await request(gw.url, 'GET', '/v1/operations', funnel('203.0.113.20'))).status, 200);
    assert.equal(decisions('gateway.list'), lists + 1);
    assert.equal(decisions('gateway.invoke'), invokes, 'filtering the listing decides quietly');
  });

  test('forged identity headers from a Funnel client change nothing: the last forwarded address and the Funnel mark decide', async () => {
    // A client behind Funnel claims to be a tailnet user and a tailnet address; serve appends the real one.
    const desktop = mesh.tailnet.device('desktop').address;
    const forged = await request(gw.url, 'GET', '/v1/operations', { 'tailscale-funnel-request': '?1', 'tailscale-user-login': 'owner@example.com', 'x-forwarded-for': `${desktop}, 203.0.113.77` });
    assert.equal(forged.status, 200);
    assert.equal(forged.body.caller?.zone, 'z:public');
    // A tailnet caller (serve, not Funnel): whois of its address; a community caller.
    const tailnet = await request(gw.url, 'GET', '/v1/operations', { 'x-forwarded-for': desktop });
    assert.equal(tailnet.body.caller?.zone, 'z:community');
    // Not Funnel and not a tailnet address: nobody serve would forward.
    const stranger = await request(gw.url, 'GET', '/v1/operations', { 'x-forwarded-for': '203.0.113.78' });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.body.error?.code, 'GATEWAY_UNIDENTIFIED');
  });

  test('the rate limit holds under a bounded burst per source address; another source is not affected', async () => {
    const source = '192.0.2.44';
    const codes: number[] = [];
    for (let i = 0; i < limits.publicRate.burst + 4; i++) codes.push((await request(gw.url, 'GET', '/v1/operations', funnel(source))).status);
    assert.deepEqual(codes.slice(0, limits.publicRate.burst), Array(limits.publicRate.burst).fill(200));
    assert.deepEqual(codes.slice(limits.publicRate.burst), [429, 429, 429, 429]);
    const limited = await request(gw.url, 'GET', '/v1/operations', funnel(source));
    assert.equal(limited.body.error?.code, 'GATEWAY_RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal((await request(gw.url, 'GET', '/v1/operations', funnel('192.0.2.45'))).status, 200);
  });

  test('oversized and malformed bodies, wrong methods and paths, and a deadline that passes get their codes', async () => {
    const big = await request(gw.url, 'POST', '/v1/invoke/pubc/echo', funnel('192.0.2.50'), JSON.stringify({ msg: 'x'.repeat(limits.maxBodyBytes) }));
    assert.equal(big.status, 413);
    assert.equal(big.body.error?.code, 'GATEWAY_BODY_TOO_LARGE');
    // Without a Content-Length (chunked), the body is cut off once it is seen to be too long.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/invoke/pubc/echo`, { method: 'POST', headers: funnel('192.0.2.50') }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 3; i++) req.write('x'.repeat(limits.maxBodyBytes / 2));
      req.end();
    });
    assert.equal(chunked, 413);
    const bad = await request(gw.url, 'POST', '/v1/invoke/pubc/echo', funnel('192.0.2.50'), '{not json');
    assert.equal(bad.status, 400);
    const schema = await request(gw.url, 'POST', '/v1/invoke/pubc/echo', funnel('192.0.2.50'), '{"msg": 5}');
    assert.equal(schema.status, 400, JSON.stringify(schema.body));
    assert.equal((await request(gw.url, 'GET', '/v1/invoke/pubc/echo', funnel('192.0.2.50'))).status, 405);
    assert.equal((await request(gw.url, 'GET', '/admin', funnel('192.0.2.50'))).status, 404);
    const failed = await request(gw.url, 'POST', '/v1/invoke/pubc/fail', funnel('192.0.2.51'), '{}');
    assert.equal(failed.status, 502);
    assert.deepEqual(Object.keys(failed.body.error!).sort(), ['code', 'message', 'trace']);
    assert.equal(failed.body.error?.message, 'pubc.fail failed');
  });

  test('fcp funnel on publishes the gateway through the serve config; tailscaled strips forged headers; off takes back only its own entries', async () => {
    const laptop = mesh.node('laptop');
    const gateway = laptop.services.gateway;
    gateway.served(gw.url);
    const client = laptop.node.client;
    const fqdn = mesh.tailnet.device('laptop').dnsName.replace(/\.$/, '');
    // Someone else's serve entry on another port, which fcp must keep.
    const before = await client.getServeConfig();
    await client.setServeConfig({ TCP: { '8443': { HTTPS: true } }, Web: { [`${fqdn}:8443`]: { Handlers: { '/': { Proxy: 'http://127.0.0.1:3000' } } } } }, before.etag);
    const off = await gateway.funnelStatus(LOCAL_CONTROL);
    assert.deepEqual(off, { gateway: gw.url, available: true, endpoints: [] });
    const on = await gateway.setFunnel(LOCAL_CONTROL, true);
    assert.deepEqual(on.endpoints, [{ port: 443, url: `https://${fqdn}/`, funnel: true }]);
    const written = (await client.getServeConfig()).config!;
    assert.deepEqual(written.AllowFunnel, { [`${fqdn}:443`]: true });
    assert.equal((written.Web as Record<string, { Handlers: Record<string, { Proxy: string }> }>)[`${fqdn}:8443`]!.Handlers['/']!.Proxy, 'http://127.0.0.1:3000');

    // From the internet, through the emulated Funnel: forged identity headers are deleted by tailscaled.
    const ingress = mesh.tailnet.ingress('laptop');
    const base = `http://${ingress.funnel.host}:${ingress.funnel.port}`;
    const forged = { host: fqdn, 'tailscale-user-login': 'owner@example.com', 'tailscale-funnel-request': '?0', 'x-forwarded-for': mesh.tailnet.device('server').address };
    const listed = await request(base, 'GET', '/v1/operations', forged);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.caller?.zone, 'z:public');
    const echo = await request(base, 'POST', '/v1/invoke/pubc/echo', { host: fqdn }, '{"msg":"through funnel"}');
    assert.equal(echo.status, 200, JSON.stringify(echo.body));
    const priv = await request(base, 'POST', '/v1/invoke/privc/echo', { host: fqdn }, '{"msg":"x"}');
    assert.equal(priv.status, 403);
    // From a tailnet device, through serve: whois of its address makes it a community caller.
    const tailnet = await request(`http://${ingress.tailnet.host}:${ingress.tailnet.port}`, 'GET', '/v1/operations', { host: fqdn, 'tailscale-funnel-request': '?1' }, undefined, mesh.tailnet.device('desktop').address);
    assert.equal(tailnet.body.caller?.zone, 'z:community');

    // A concurrent change between read and write is not overwritten.
    const stale = await client.getServeConfig();
    // (The ETag is a hash of the config: writing it back unchanged keeps it.)
    const changed = structuredClone(stale.config!);
    (changed.Web as Record<string, { Handlers: Record<string, unknown> }>)[`${fqdn}:8443`]!.Handlers['/status'] = { Text: 'ok' };
    await client.setServeConfig(changed, stale.etag);
    await assert.rejects(client.setServeConfig(stale.config!, stale.etag), (e: Error & { code?: string }) => e.code === 'TS_SERVE_CONFLICT');

    const closed = await gateway.setFunnel(LOCAL_CONTROL, false);
    assert.deepEqual(closed.endpoints, []);
    const after = (await client.getServeConfig()).config!;
    assert.equal(after.AllowFunnel, undefined);
    assert.deepEqual(Object.keys(after.Web as object), [`${fqdn}:8443`], 'the other entry is kept');
    await assert.rejects(request(base, 'GET', '/v1/operations', { host: fqdn }), 'Funnel no longer reaches the gateway');
  });

  test('without the funnel node attribute, fcp funnel on says what the policy needs', async () => {
    const desktop = mesh.node('desktop').services.gateway;
    desktop.served('http://127.0.0.1:1');
    await assert.rejects(desktop.setFunnel(LOCAL_CONTROL, true), (e: Error & { code?: string }) => e.code === 'FUNNEL_NOT_AVAILABLE' && /"funnel" node attribute/.test(e.message));
    desktop.served(null);
    await assert.rejects(desktop.setFunnel(LOCAL_CONTROL, true), (e: Error & { code?: string }) => e.code === 'FUNNEL_NO_GATEWAY');
    await assert.rejects(mesh.node('laptop').services.gateway.setFunnel(LOCAL_CONTROL, true, 8080), (e: Error & { code?: string }) => e.code === 'FUNNEL_BAD_PORT');
  });

  test('fcp funnel and fcp funnel key through the control socket: JSON, text, and errors with their exit codes', async () => {
    const dataDir = join(mesh.dir, 'laptop');
    const control = await startControlServer(mesh.node('laptop').services, join(dataDir, 'fcpd.sock'));
    try {
      mesh.node('laptop').services.gateway.served(gw.url);
      const status = await fcp(['funnel', 'status', '--json', '--data-dir', dataDir]);
      assert.equal(status.code, 0, status.stderr);
      assert.equal((JSON.parse(status.stdout) as { gateway: string }).gateway, gw.url);
      const on = await fcp(['funnel', 'on', '--data-dir', dataDir]);
      assert.equal(on.code, 0, on.stderr);
      assert.match(on.stdout, /funnel: on at https:\/\/laptop\.[^ ]+\/ \(port 443\)/);
      const added = await fcp(['funnel', 'key', 'add', 'bob', '--data-dir', dataDir]);
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /fcpk_[0-9a-f]{12}_/);
      const twice = await fcp(['funnel', 'key', 'add', 'bob', '--data-dir', dataDir]);
      assert.equal(twice.code, 5, 'a second live key of one name is a conflict');
      assert.match(twice.stderr, /GATEWAY_KEY_EXISTS/);
      const badName = await fcp(['funnel', 'key', 'add', '../x', '--json', '--data-dir', dataDir]);
      assert.equal(badName.code, 2);
      assert.equal((JSON.parse(badName.stderr) as { error: { code: string } }).error.code, 'GATEWAY_BAD_KEY_NAME');
      assert.match((await fcp(['funnel', 'key', 'ls', '--data-dir', dataDir])).stdout, /bob/);
      assert.equal((await fcp(['funnel', 'key', 'revoke', 'bob', '--data-dir', dataDir])).code, 0);
      const gone = await fcp(['funnel', 'key', 'revoke', 'bob', '--data-dir', dataDir]);
      assert.equal(gone.code, 4);
      const badPort = await fcp(['funnel', 'on', '--port', '8080', '--data-dir', dataDir]);
      assert.equal(badPort.code, 2);
      assert.match(badPort.stderr, /FUNNEL_BAD_PORT/);
      const off = await fcp(['funnel', 'off', '--data-dir', dataDir]);
      assert.equal(off.code, 0, off.stderr);
      assert.match(off.stdout, /funnel: off/);
    } finally {
      await new Promise<void>((r) => control.close(() => r()));
    }
  });

  test('an invoke past the gateway deadline is a 504', async () => {
    const slow = await request(gw.url, 'POST', '/v1/invoke/pubc/sleep', { 'x-forwarded-for': mesh.tailnet.device('desktop').address }, JSON.stringify({ ms: limits.timeoutMs + 2_000 }));
    assert.equal(slow.status, 504, JSON.stringify(slow.body));
    assert.equal(slow.body.error?.code, 'GATEWAY_TIMEOUT');
  });
});

test('loopback is 127/8, ::1 and v4-mapped 127/8, nothing else', () => {
  for (const a of ['127.0.0.1', '127.77.146.3', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['100.64.0.1', '10.0.0.1', '::ffff:10.0.0.1', 'fd7a:115c:a1e0::1', '', undefined]) assert.ok(!isLoopback(a), String(a));
});

test('rate limiter: a burst, then one token per refill interval; the table stays bounded', () => {
  let now = 0;
  const r = new RateLimiter(3, () => now);
  const limit = { perMinute: 60, burst: 2 };
  assert.equal(r.take('a', limit), 0);
  assert.equal(r.take('a', limit), 0);
  assert.equal(r.take('a', limit), 1);
  now += 1_000;
  assert.equal(r.take('a', limit), 0);
  assert.equal(r.take('a', limit), 1);
  for (const k of ['b', 'c', 'd']) r.take(k, limit);
  // 'a' idled longest and was dropped: it starts with a full bucket again.
  assert.equal(r.take('a', limit), 0);
  assert.equal(r.take('a', limit), 0);
});
