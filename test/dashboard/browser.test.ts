// The dashboard in a real browser (Debian's chromium, driven by puppeteer-core) against a
// five-device dev mesh of real fcpd processes: a person sees the devices, sees one go offline
// live, repairs and sees it finish; and requests that do not come from the page are refused.
// Requests present the headers tailscaled's `tailscale serve` adds (X-Forwarded-For with the
// caller's tailnet address; the emulated devices are tagged, so no Tailscale-User-Login).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { DevMesh, fiveDevicesOn } from '../../src/devnet/index.js';
import { LocalApiClient } from '../../src/tailscale/index.js';

const SUBNET = 120;
const FCP_BIN = fileURLToPath(new URL('../../../bin/fcp.js', import.meta.url));
const TEST_CONNECTOR = fileURLToPath(new URL('../hub/fixtures/test-connector.js', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const LAPTOP = `127.77.${SUBNET}.1`;
const SERVER = `127.77.${SUBNET}.2`;
const WORKLAPTOP = `127.77.${SUBNET}.4`;

let mesh: DevMesh;
let browser: Browser;
let url: string;

function raw(method: string, target: string, headers: Record<string, string>, from?: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method, headers, agent: false, ...(from ? { localAddress: from } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const codeOf = (body: string): string => (JSON.parse(body) as { error: { code: string } }).error.code;

async function csrfFor(forwardedFor: string): Promise<string> {
  const page = await raw('GET', url, { 'x-forwarded-for': forwardedFor });
  assert.equal(page.status, 200, page.body);
  const m = /name="fcp-csrf" content="([^"]+)"/.exec(page.body);
  assert.ok(m, 'the page carries a CSRF token');
  return m[1]!;
}

before(async () => {
  if (!CHROMIUM) throw new Error('no Chromium found at /usr/bin/chromium: install it with `apt-get install -y chromium` (as .ci/run does) or set CHROMIUM_PATH');
  // The owner key exists (FROST 2-of-2 over laptop and server), so tokens can be minted and revoked.
  mesh = await DevMesh.start({ description: fiveDevicesOn(SUBNET), env: { FCP_DASHBOARD_PORT: '0' }, ownerInit: { on: 'laptop', threshold: 2 } });
  url = mesh.dashboardUrl('laptop');
  await mesh.put('laptop', new TextEncoder().encode('a note for the placement map '.repeat(2000)), 'z:private');
  // A file kept by name (fcp put FILE DIR/), for the names view.
  const file = join(mesh.dir, 'todo.md');
  writeFileSync(file, '- water the plants\n');
  const put = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(process.execPath, [FCP_BIN, 'put', file, 'notes/', '--data-dir', mesh.device('laptop').dataDir], { timeout: 30_000 }, (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr })),
  );
  assert.equal(put.code, 0, put.stderr);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  await mesh?.stop();
});

test('a person sees the mesh, sees a device go offline live, and repairs it', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // As serve presents a request from the server device (an owner device of this tailnet).
  await page.setExtraHTTPHeaders({ 'x-forwarded-for': SERVER });
  await page.goto(url);
  await page.waitForSelector('tr[data-device="desktop"][data-state="online"]', { timeout: 20_000 });
  const names = await page.$$eval('tr[data-device]', (rows) => rows.map((r) => r.getAttribute('data-device')));
  assert.deepEqual([...names].sort(), ['desktop', 'laptop', 'phone', 'server', 'worklaptop']);
  await page.waitForSelector('table.placement td.cell', { timeout: 10_000 });
  assert.ok((await page.$$('svg.graph g[data-graph-device]')).length === 4, 'the device graph draws the four peers');
  assert.match(await page.$eval('.who', (e) => e.textContent ?? ''), /server \(owner\)/);
  await page.waitForSelector('tr[data-name="z:private:notes/todo.md"]', { timeout: 10_000 });

  await mesh.stopDaemon('desktop');
  await page.waitForSelector('tr[data-device="desktop"][data-state="offline"]', { timeout: 20_000 });
  assert.equal(await page.$eval('g[data-graph-device="desktop"]', (g) => g.getAttribute('class')), 'node offline');

  await page.click('#repair-now');
  await page.waitForSelector('li[data-activity="repair"][data-activity-state="done"]', { timeout: 30_000 });
  assert.match(await page.$eval('li[data-activity="repair"]', (e) => e.textContent ?? ''), /repair done/);
  assert.deepEqual(errors, [], 'the page ran without errors');
  await page.close();
});

test('a change without the dashboard Origin, or without its CSRF token, is refused 403', async () => {
  const csrf = await csrfFor(SERVER);
  const origin = url.replace(/\/$/, '');
  const base = { 'x-forwarded-for': SERVER, 'x-fcp-csrf': csrf };
  const noOrigin = await raw('POST', `${url}api/scrub`, base);
  assert.equal(noOrigin.status, 403);
  assert.equal(codeOf(noOrigin.body), 'DASHBOARD_ORIGIN_REFUSED');
  const otherSite = await raw('POST', `${url}api/scrub`, { ...base, origin: 'http://evil.example' });
  assert.equal(otherSite.status, 403);
  assert.equal(codeOf(otherSite.body), 'DASHBOARD_ORIGIN_REFUSED');
  const crossSite = await raw('POST', `${url}api/scrub`, { ...base, origin, 'sec-fetch-site': 'cross-site' });
  assert.equal(crossSite.status, 403);
  const noToken = await raw('POST', `${url}api/scrub`, { 'x-forwarded-for': SERVER, origin });
  assert.equal(noToken.status, 403);
  assert.equal(codeOf(noToken.body), 'DASHBOARD_CSRF_REFUSED');
  // Another viewer's token is not this viewer's.
  const stolen = await raw('POST', `${url}api/scrub`, { 'x-forwarded-for': LAPTOP, origin, 'x-fcp-csrf': csrf });
  assert.equal(codeOf(stolen.body), 'DASHBOARD_CSRF_REFUSED');
  const ok = await raw('POST', `${url}api/scrub`, { ...base, origin });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(typeof (JSON.parse(ok.body) as { corrupt: number }).corrupt, 'number');
});

test('Funnel requests, foreign Host names, unidentified and non-owner viewers are refused', async () => {
  const funnel = await raw('GET', `${url}api/snapshot`, { 'x-forwarded-for': SERVER, 'tailscale-funnel-request': '?1' });
  assert.equal(funnel.status, 403);
  assert.equal(codeOf(funnel.body), 'DASHBOARD_FUNNEL_REFUSED');
  const rebound = await raw('GET', `${url}api/snapshot`, { 'x-forwarded-for': SERVER, host: 'attacker.example:80' });
  assert.equal(rebound.status, 403);
  assert.equal(codeOf(rebound.body), 'DASHBOARD_HOST_REFUSED');
  // Forwarded from an address whois does not know: nobody of this tailnet.
  const nobody = await raw('GET', `${url}api/snapshot`, { 'x-forwarded-for': `127.77.${SUBNET}.99` });
  assert.equal(nobody.status, 403);
  assert.equal(codeOf(nobody.body), 'AUTHZ_DENIED');
  // A work device may look but not change anything.
  const look = await raw('GET', `${url}api/snapshot`, { 'x-forwarded-for': WORKLAPTOP });
  assert.equal(look.status, 200);
  const snap = JSON.parse(look.body) as { viewer: { owner: boolean }; secrets: unknown[]; names: Array<{ zone: string }> };
  assert.equal(snap.viewer.owner, false);
  assert.ok(!snap.names.some((z) => z.zone === 'z:private'), 'a work device sees no z:private names');
  const csrf = await csrfFor(WORKLAPTOP);
  const change = await raw('POST', `${url}api/repair`, { 'x-forwarded-for': WORKLAPTOP, origin: url.replace(/\/$/, ''), 'x-fcp-csrf': csrf });
  assert.equal(change.status, 403);
  assert.equal(codeOf(change.body), 'AUTHZ_DENIED');
  // A browser on the device itself (not forwarded by serve) is the device's own user.
  const local = JSON.parse((await raw('GET', `${url}api/snapshot`, {})).body) as { viewer: { name: string; owner: boolean } };
  assert.deepEqual(local.viewer, { name: 'laptop', owner: true });
});

test('an owner revokes a token from the page; the revocation reaches the other devices; a non-owner may not', async () => {
  const body = Buffer.from(JSON.stringify({ connector: '*', ops: ['*'], ttlSeconds: 600, name: 'assistant' }));
  const minted = await mesh.device('laptop').control.json<{ id: string }>('/v1/tokens', { method: 'POST', body, contentLength: body.length });
  const page = await browser.newPage();
  await page.setExtraHTTPHeaders({ 'x-forwarded-for': SERVER });
  await page.goto(url);
  const row = `tr[data-token="${minted.id}"]`;
  await page.waitForSelector(`${row}[data-token-state="valid"]`, { timeout: 20_000 });
  // A work device sees the token but may not revoke it.
  const csrf = await csrfFor(WORKLAPTOP);
  const refused = await raw('POST', `${url}api/tokens/revoke`, { 'x-forwarded-for': WORKLAPTOP, origin: url.replace(/\/$/, ''), 'x-fcp-csrf': csrf, 'content-type': 'application/json' }, undefined, JSON.stringify({ id: minted.id }));
  assert.equal(refused.status, 403, refused.body);
  assert.equal(codeOf(refused.body), 'AUTHZ_DENIED');
  await page.click(`${row} button.revoke`);
  await page.waitForSelector(`${row}[data-token-state="revoked"]`, { timeout: 20_000 });
  await page.waitForSelector('li[data-activity="revoke"][data-activity-state="done"]', { timeout: 10_000 });
  const head = await mesh.device('server').control.json<{ seq: number }>('/v1/revocations');
  assert.ok(head.seq >= 1, 'the server learnt the revocation');
  await page.close();
});

test('through tailscale serve (the emulated ingress): a tailnet device is named by whois; over Funnel the dashboard refuses', async () => {
  const client = new LocalApiClient({ socketPath: mesh.tailnet.device('laptop').socketPath });
  const fqdn = mesh.tailnet.device('laptop').dnsName.replace(/\.$/, '');
  const { etag } = await client.getServeConfig();
  const served = { TCP: { '443': { HTTPS: true } }, Web: { [`${fqdn}:443`]: { Handlers: { '/': { Proxy: url.replace(/\/$/, '') } } } } };
  await client.setServeConfig(served, etag);
  const ingress = mesh.tailnet.ingress('laptop');
  const viaServe = `http://${ingress.tailnet.host}:${ingress.tailnet.port}`;
  // The work laptop's browser, with a forged login that tailscaled deletes (tagged devices get none).
  const snap = await raw('GET', `${viaServe}/api/snapshot`, { host: fqdn, 'tailscale-user-login': 'alice@example.com' }, WORKLAPTOP);
  assert.equal(snap.status, 200, snap.body);
  assert.deepEqual((JSON.parse(snap.body) as { viewer: unknown }).viewer, { name: 'worklaptop', owner: false });
  const page = await raw('GET', `${viaServe}/`, { host: fqdn }, SERVER);
  assert.equal(page.status, 200);
  assert.match(page.body, /name="fcp-csrf"/);
  // Someone opened Funnel on it by mistake: every request that comes through Funnel is refused.
  const now = await client.getServeConfig();
  await client.setServeConfig({ ...served, AllowFunnel: { [`${fqdn}:443`]: true } }, now.etag);
  const viaFunnel = await raw('GET', `http://${ingress.funnel.host}:${ingress.funnel.port}/api/snapshot`, { host: fqdn });
  assert.equal(viaFunnel.status, 403);
  assert.equal(codeOf(viaFunnel.body), 'DASHBOARD_FUNNEL_REFUSED');
  const last = await client.getServeConfig();
  await client.setServeConfig({}, last.etag);
});

test('an owner moves a connector from the page; the device running it hands it over', async () => {
  const manifest = { id: 'pagec', version: '1.0.0', command: process.execPath, args: [TEST_CONNECTOR], zone: 'z:private', operations: [{ name: 'echo', risk: 'safe' }] };
  const body = Buffer.from(JSON.stringify(manifest));
  await mesh.device('laptop').control.json('/v1/hub/connectors', { method: 'POST', body, contentLength: body.length });
  const page = await browser.newPage();
  await page.setExtraHTTPHeaders({ 'x-forwarded-for': SERVER });
  await page.goto(url);
  const row = 'tr[data-connector="pagec"]';
  await page.waitForSelector(`${row}:not([data-running-on=""])`, { timeout: 30_000 }).catch(async (err: Error) => {
    throw new Error(`${err.message}; placements: ${JSON.stringify(await mesh.device('laptop').control.json('/v1/hub/placements'))}`);
  });
  const from = await page.$eval(row, (r) => r.getAttribute('data-running-on'));
  const to = from === 'laptop' ? 'server' : 'laptop';
  await page.select(`${row} select`, to);
  await page.click(`${row} button.move`);
  await page.waitForSelector(`${row}[data-running-on="${to}"]`, { timeout: 30_000 });
  await page.waitForSelector('li[data-activity="move"][data-activity-state="done"]', { timeout: 10_000 });
  await page.close();
});
