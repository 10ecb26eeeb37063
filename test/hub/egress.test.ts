// The egress proxy with the http connector (a real child process): allowlist, refusal of
// private, loopback, link-local and metadata addresses after name resolution, and a credential
// added only for the hosts its secret is for. The upstream is a loopback server admitted by the
// dev/test-only host setting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { LOCAL_CONTROL } from '../../src/authz/index.js';
import { httpManifest } from '../../src/hub/connectors/builtin.js';
import { addressRefusal, hostAllowed } from '../../src/hub/index.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const UPSTREAM = '127.77.81.9';
const NET: TailnetDescription = {
  tailnet: 'egress.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.81.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.81.2' },
  ],
};
// A hosts table standing in for DNS: names the proxy resolves itself.
const NAMES: Record<string, string> = {
  'api.test': UPSTREAM,
  'other.test': UPSTREAM,
  'intranet.test': '10.1.2.3',
  'metadata.test': '169.254.169.254',
  'lo.test': '127.0.0.1',
  'tailnet.test': '100.101.102.103',
};
const SECRET = 'tok-' + 'q'.repeat(30);
const P = LOCAL_CONTROL;
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('address rules and allowlist matching', () => {
  assert.equal(addressRefusal('93.184.216.34', []), null);
  for (const a of ['10.0.0.1', '192.168.1.1', '172.16.0.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '::1', 'fd00:ec2::254', 'fe80::1', '::ffff:127.0.0.1', '0.0.0.0']) assert.notEqual(addressRefusal(a, []), null, a);
  assert.equal(addressRefusal('127.77.81.9', [ipaddr.parseCIDR('127.77.81.0/24')]), null);
  assert.notEqual(addressRefusal('127.77.82.9', [ipaddr.parseCIDR('127.77.81.0/24')]), null);
  assert.ok(hostAllowed(['api.example.com'], 'api.example.com', 443, 443));
  assert.ok(!hostAllowed(['api.example.com'], 'api.example.com', 8443, 443));
  assert.ok(hostAllowed(['*.example.com:8443'], 'a.b.example.com', 8443, 443));
  assert.ok(!hostAllowed(['*.example.com'], 'example.com', 443, 443));
  assert.ok(!hostAllowed(['api.example.com'], 'api.example.com.evil.net', 443, 443));
});

describe('http connector through the egress proxy', () => {
  let mesh: InProcessMesh;
  let upstream: http.Server;
  let port = 0;
  const seen: Array<{ host?: string; auth?: string; path?: string }> = [];
  before(async () => {
    upstream = http.createServer((req, res) => {
      seen.push({ host: req.headers.host, auth: req.headers.authorization, path: req.url });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`hello from ${req.headers.host}`);
    });
    await new Promise<void>((r) => upstream.listen(0, UPSTREAM, () => r()));
    port = (upstream.address() as { port: number }).port;
    mesh = await InProcessMesh.start(NET, {
      hub: { egressDevAllowAddresses: [`${UPSTREAM}/32`], egressResolve: async (h) => (NAMES[h] ? [NAMES[h]!] : Promise.reject(new Error('NXDOMAIN'))) },
    });
    const laptop = mesh.node('laptop');
    await laptop.secrets.put('api-token', new TextEncoder().encode(SECRET), { k: 2, n: 2, zone: 'z:owner' });
    const allow = ['api.test', 'other.test', 'intranet.test', 'metadata.test', 'lo.test', 'tailnet.test'].map((h) => `${h}:${port}`);
    await laptop.services.hub.install(P, httpManifest({ zone: 'z:private', allow, secrets: [{ name: 'api-token', deliver: 'egress', hosts: [`api.test:${port}`] }] }));
  });
  after(async () => {
    await mesh?.stop();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  test('the credential is added for its host only; refusals after resolution', async () => {
    const hub = mesh.node('laptop').services.hub;
    const r = (await hub.invoke(P, 'http', 'get', { url: `http://api.test:${port}/v1/me`, credential: 'api-token' })) as { status: number; body: string };
    assert.equal(r.status, 200);
    assert.equal(r.body, `hello from api.test:${port}`);
    assert.deepEqual(seen.at(-1), { host: `api.test:${port}`, auth: `Bearer ${SECRET}`, path: '/v1/me' });

    // Another allowed host: no credential unless asked, and the secret is refused for it.
    await hub.invoke(P, 'http', 'get', { url: `http://other.test:${port}/x` });
    assert.equal(seen.at(-1)!.auth, undefined);
    const before = seen.length;
    await assert.rejects(hub.invoke(P, 'http', 'get', { url: `http://other.test:${port}/x`, credential: 'api-token' }), (e: unknown) => code('CONNECTOR_EGRESS_REFUSED')(e) && /not for other\.test/.test((e as Error).message));
    await assert.rejects(hub.invoke(P, 'http', 'get', { url: `http://api.test:${port}/x`, credential: 'unknown-secret' }), code('CONNECTOR_EGRESS_REFUSED'));
    for (const [host, why] of [['intranet.test', /private/], ['metadata.test', /linkLocal/], ['lo.test', /loopback/], ['tailnet.test', /carrierGradeNat/]] as const) {
      await assert.rejects(hub.invoke(P, 'http', 'get', { url: `http://${host}:${port}/` }), (e: unknown) => code('CONNECTOR_EGRESS_REFUSED')(e) && why.test((e as Error).message), host);
    }
    await assert.rejects(hub.invoke(P, 'http', 'get', { url: `http://not-listed.test:${port}/` }), (e: unknown) => /allowlist/.test((e as Error).message));
    await assert.rejects(hub.invoke(P, 'http', 'get', { url: `http://api.test:${port + 1}/` }), (e: unknown) => /allowlist/.test((e as Error).message));
    await assert.rejects(hub.invoke(P, 'http', 'get', { url: `http://${UPSTREAM}:${port}/` }), (e: unknown) => /allowlist/.test((e as Error).message));
    await assert.rejects(hub.invoke(P, 'http', 'get', { url: `file:///etc/passwd` }), code('CONNECTOR_EGRESS_REFUSED'));
    assert.equal(seen.length, before, 'no refused request reached the upstream');

    // The connector never held the secret.
    const pid = mesh.node('laptop').connectors.status().find((s) => s.id === 'http')!.pid!;
    assert.ok(!readFileSync(`/proc/${pid}/cmdline`).includes(SECRET));
    assert.ok(!readFileSync(`/proc/${pid}/environ`).includes(SECRET));
  });
});
