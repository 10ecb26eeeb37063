// The dashboard's request checks and viewer identity, without a mesh: Host names, Origin and
// CSRF on changes, Funnel refusal, and viewers as `tailscale serve` presents them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkStateChange, csrfToken, forwardedFor, identifyViewer, refuseFunnel, validHost, type ViewerDeps } from '../../src/dashboard/index.js';
import { ZoneRegistry } from '../../src/zones/index.js';
import type { WhoIs } from '../../src/tailscale/index.js';

const names = { hostName: 'laptop', address: '100.64.0.1' };
const zones = ZoneRegistry.builtin();

test('Host must name this device (no DNS rebinding)', () => {
  for (const h of ['127.0.0.1:9476', 'localhost:9476', '[::1]:9476', 'laptop', 'laptop.tail1234.ts.net', 'LAPTOP.tail1234.ts.net:443', '100.64.0.1:9476']) assert.ok(validHost(h, names), h);
  for (const h of [undefined, '', 'evil.example', 'laptop-evil.example', 'notlaptop.ts.net', '100.64.0.2', '127.0.0.2:9476']) assert.ok(!validHost(h, names), String(h));
});

test('a change needs this Origin, a same-origin fetch and the viewer token', () => {
  const secret = new Uint8Array(32).fill(7);
  const token = csrfToken(secret, 'alice');
  const ok = { host: 'laptop.tail1234.ts.net', origin: 'https://laptop.tail1234.ts.net', 'x-fcp-csrf': token, 'sec-fetch-site': 'same-origin' };
  checkStateChange(ok, secret, 'alice');
  const code = (h: Record<string, string | undefined>, who = 'alice') => {
    try {
      checkStateChange(h, secret, who);
      return 'allowed';
    } catch (err) {
      return (err as { code: string }).code;
    }
  };
  assert.equal(code({ ...ok, origin: undefined }), 'DASHBOARD_ORIGIN_REFUSED');
  assert.equal(code({ ...ok, origin: 'null' }), 'DASHBOARD_ORIGIN_REFUSED');
  assert.equal(code({ ...ok, origin: 'https://evil.example' }), 'DASHBOARD_ORIGIN_REFUSED');
  assert.equal(code({ ...ok, origin: 'ftp://laptop.tail1234.ts.net' }), 'DASHBOARD_ORIGIN_REFUSED');
  assert.equal(code({ ...ok, 'sec-fetch-site': 'same-site' }), 'DASHBOARD_ORIGIN_REFUSED');
  assert.equal(code({ ...ok, 'x-fcp-csrf': undefined }), 'DASHBOARD_CSRF_REFUSED');
  assert.equal(code({ ...ok, 'x-fcp-csrf': token.slice(1) }), 'DASHBOARD_CSRF_REFUSED');
  assert.equal(code(ok, 'bob'), 'DASHBOARD_CSRF_REFUSED', "alice's token is not bob's");
});

test('Funnel requests are refused', () => {
  assert.throws(() => refuseFunnel({ 'tailscale-funnel-request': '?1' }), { code: 'DASHBOARD_FUNNEL_REFUSED' });
  refuseFunnel({ 'x-forwarded-for': '100.64.0.2' });
});

test('viewers as serve presents them: login, whois of the forwarded address, owners', async () => {
  const nodes: Record<string, { stableId: string; hostName: string; tags: string[] }> = {
    '100.64.0.2': { stableId: 'n2', hostName: 'server', tags: ['tag:fcp-owner'] },
    '100.64.0.4': { stableId: 'n4', hostName: 'worklaptop', tags: ['tag:fcp-work'] },
    '100.64.0.9': { stableId: 'n9', hostName: 'bobs-phone', tags: [] },
  };
  const deps: ViewerDeps = {
    whois: async (ip) => (nodes[ip] ? ({ node: nodes[ip] } as unknown as WhoIs) : null),
    zonesForTags: (tags) => zones.zonesForTags(tags),
    ownerLogins: ['alice@example.com'],
    self: () => ({ stableId: 'n1', hostName: 'laptop', tags: ['tag:fcp-owner'] }),
  };
  assert.equal(forwardedFor({ 'x-forwarded-for': '10.0.0.1, 100.64.0.2' }), '100.64.0.2');
  assert.equal(forwardedFor({ 'x-forwarded-for': 'not-an-ip' }), null);
  const server = await identifyViewer({ 'x-forwarded-for': '100.64.0.2' }, deps);
  assert.deepEqual([server.login, server.device?.hostName, server.owner], [null, 'server', true]);
  const work = await identifyViewer({ 'x-forwarded-for': '100.64.0.4' }, deps);
  assert.deepEqual([work.device?.zones.map((z) => z.id), work.owner], [['z:work'], false]);
  const alice = await identifyViewer({ 'x-forwarded-for': '100.64.0.9', 'tailscale-user-login': 'alice@example.com' }, deps);
  assert.deepEqual([alice.login, alice.device?.hostName, alice.owner], ['alice@example.com', 'bobs-phone', true]);
  const bob = await identifyViewer({ 'x-forwarded-for': '100.64.0.9', 'tailscale-user-login': 'bob@example.com' }, deps);
  assert.equal(bob.owner, false);
  const stranger = await identifyViewer({ 'x-forwarded-for': '100.64.0.77' }, deps);
  assert.deepEqual([stranger.login, stranger.device, stranger.owner], [null, null, false]);
  const local = await identifyViewer({}, deps);
  assert.deepEqual([local.device?.hostName, local.owner], ['laptop', true]);
});
