// The emulator's raw JSON must use the field names and JSON types of the
// recorded real answers: a field it invents or mistypes fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { parseJsonLossless, type JsonValue } from '../../src/tailscale/index.js';
import { startDevTailnet } from '../../src/tailscale/emulator/index.js';
import { fixture } from './fixture-daemon.js';

type Obj = Record<string, JsonValue>;

function raw(socketPath: string, method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { Host: 'local-tailscaled.sock' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function kind(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'bigint' ? 'number' : typeof v;
}

/** Every field of `got` exists in one of `recorded` with the same JSON type (null matches anything). */
function assertSubShape(got: Obj, recorded: Obj[], where: string): void {
  for (const [key, value] of Object.entries(got)) {
    const seen = recorded.map((r) => r[key]).filter((v) => v !== undefined);
    assert.ok(seen.length > 0, `${where}.${key} does not exist in the recorded answers`);
    const kinds = new Set(seen.map(kind));
    if (kind(value) !== 'null' && !kinds.has('null')) assert.ok(kinds.has(kind(value)), `${where}.${key}: ${kind(value)} vs recorded ${[...kinds].join('/')}`);
  }
}

test('emulator JSON uses the recorded field names and types', async () => {
  const net = await startDevTailnet({
    tailnet: 't',
    nodes: [{ name: 'a', tags: ['tag:x'] }, { name: 'b', path: 'derp' }, { name: 'c', path: 'peer-relay' }, { name: 'd', online: false }],
  });
  try {
    const sock = net.device('a').socketPath;
    const recordedStatus = parseJsonLossless(fixture('status-running.json')) as Obj;
    const status = parseJsonLossless(await raw(sock, 'GET', '/localapi/v0/status')) as Obj;
    assert.deepEqual(Object.keys(status), Object.keys(recordedStatus), 'Status fields in Go order');
    const recordedPeers = [recordedStatus['Self'] as Obj, ...Object.values(recordedStatus['Peer'] as Obj).map((p) => p as Obj)];
    assertSubShape(status['Self'] as Obj, recordedPeers, 'Self');
    for (const [key, p] of Object.entries(status['Peer'] as Obj)) {
      assert.match(key, /^nodekey:[0-9a-f]{64}$/);
      assertSubShape(p as Obj, recordedPeers, `Peer[${key}]`);
    }
    const recordedWhois = parseJsonLossless(fixture('whois-desktop.json')) as Obj;
    const whois = parseJsonLossless(await raw(sock, 'GET', '/localapi/v0/whois?addr=127.77.0.4:9473')) as Obj;
    assert.deepEqual(Object.keys(whois), Object.keys(recordedWhois));
    assertSubShape(whois['Node'] as Obj, [recordedWhois['Node'] as Obj, { LastSeen: '2026-01-01T00:00:00Z', KeyExpiry: '2026-06-30T00:00:00Z' }], 'Node');
    assertSubShape((whois['Node'] as Obj)['Hostinfo'] as Obj, [(recordedWhois['Node'] as Obj)['Hostinfo'] as Obj], 'Node.Hostinfo');
    assertSubShape(whois['UserProfile'] as Obj, [recordedWhois['UserProfile'] as Obj], 'UserProfile');
    const recordedPings = ['ping-direct.json', 'ping-derp.json', 'ping-peer-relay.json', 'ping-tsmp.json', 'ping-no-peer.json'].map(
      (f) => parseJsonLossless(fixture(f)) as Obj,
    );
    for (const [ip, type] of [['127.77.0.2', 'disco'], ['127.77.0.3', 'disco'], ['127.77.0.2', 'TSMP'], ['127.77.0.99', 'disco']] as const) {
      const ping = parseJsonLossless(await raw(sock, 'POST', `/localapi/v0/ping?ip=${ip}&type=${type}`)) as Obj;
      assertSubShape(ping, [...recordedPings, { PeerAPIURL: 'http://x', IsLocalIP: true }], `PingResult(${ip},${type})`);
    }
    const recordedNotify = fixture('watch-ipn-bus.ndjson').trim().split('\n').map((l) => parseJsonLossless(l) as Obj);
    const first = await new Promise<Obj>((resolve, reject) => {
      const req = request({ socketPath: sock, path: '/localapi/v0/watch-ipn-bus?mask=16386', headers: { Host: 'local-tailscaled.sock' } }, (res) => {
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (c: string) => {
          buf += c;
          const nl = buf.indexOf('\n');
          if (nl >= 0) {
            resolve(parseJsonLossless(buf.slice(0, nl)) as Obj);
            req.destroy();
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    assertSubShape(first, recordedNotify, 'Notify');
  } finally {
    await net.stop();
  }
});

test('a large dev tailnet starts without listener warnings and serves every device', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w.name);
  };
  process.on('warning', onWarning);
  const net = await startDevTailnet({ tailnet: 'big', nodes: Array.from({ length: 60 }, (_, i) => ({ name: `d${i}` })) });
  try {
    const status = parseJsonLossless(await raw(net.device('d59').socketPath, 'GET', '/localapi/v0/status')) as Obj;
    assert.equal(Object.keys(status['Peer'] as Obj).length, 59);
    assert.equal(net.device('d59').address, '127.77.0.60');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
    await net.stop();
  }
});
