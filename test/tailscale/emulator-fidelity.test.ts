// The emulator is as strict as tailscaled where a kinder stand-in would hide bugs in fcpd. Each
// check names the Go source it follows (see docs/tailscale.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { LocalApiClient, parseJsonLossless, whoisTarget, type JsonValue } from '../../src/tailscale/index.js';
import { goTime, startDevTailnet, type DevTailnet, type TailnetDescription } from '../../src/tailscale/emulator/index.js';

type Obj = Record<string, JsonValue>;

function raw(socketPath: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { Host: 'local-tailscaled.sock' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a watch and resolves with its first line, or with null if none comes before `trigger` is followed by one. */
function firstLine(socketPath: string, mask: number, trigger?: () => void): Promise<{ status: number; line: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `/localapi/v0/watch-ipn-bus?mask=${mask}`, headers: { Host: 'local-tailscaled.sock' } }, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      if (res.statusCode !== 200) {
        res.on('data', (c: string) => (buf += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, line: buf }));
        return;
      }
      res.on('data', (c: string) => {
        buf += c;
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          resolve({ status: 200, line: buf.slice(0, nl) });
          req.destroy();
        }
      });
      trigger?.();
    });
    req.on('error', reject);
    req.end();
  });
}

const DESC: TailnetDescription = {
  tailnet: 'fidelity.example',
  users: [{ loginName: 'alice@example.com' }],
  nodes: [
    { name: 'me', tags: ['tag:fcp-owner'], address: '127.77.8.1' },
    { name: 'lan', tags: ['tag:fcp-owner'], path: 'direct', address: '127.77.8.2' },
    { name: 'laptop', address: '127.77.8.3' },
    { name: 'shared', share: 'shared-in', address: '127.77.8.4' },
    { name: 'sharee', share: 'sharee', address: '127.77.8.5' },
    { name: 'gone', online: false, address: '127.77.8.6' },
  ],
};

async function withNet(fn: (net: DevTailnet, sock: string) => Promise<void>, opts: { utcOffsetMinutes?: number } = {}): Promise<void> {
  const net = await startDevTailnet(DESC, opts);
  try {
    await fn(net, net.device('me').socketPath);
  } finally {
    await net.stop();
  }
}

const statusOf = async (sock: string): Promise<Obj> => parseJsonLossless((await raw(sock, 'GET', '/localapi/v0/status')).body) as Obj;
const peerNamed = (st: Obj, name: string): Obj => Object.values(st['Peer'] as Obj).find((p) => (p as Obj)['HostName'] === name) as Obj;

test('status: peer Addrs null, ExtraRecords present, Self Capabilities and CapMap, NodeID, both address families, KeyExpiry, sorted keys', async () => {
  await withNet(async (_net, sock) => {
    const st = await statusOf(sock);
    assert.ok('ExtraRecords' in st, 'Status.ExtraRecords has no omitempty (ipnstate.go)');
    const self = st['Self'] as Obj;
    assert.ok(Array.isArray(self['Addrs']) && (self['Addrs'] as JsonValue[]).length > 0, 'only Self has Addrs (magicsock.go)');
    for (const p of Object.values(st['Peer'] as Obj)) {
      assert.equal((p as Obj)['Addrs'], null);
      assert.ok('NodeID' in (p as Obj));
    }
    assert.match(String((self['Capabilities'] as JsonValue[])[0]), /^HTTPS:\/\/TAILSCALE\.COM\/s\/DEPRECATED-NODE-CAPS/);
    assert.ok(Object.keys(self['CapMap'] as Obj).length > 0);
    assert.deepEqual(st['TailscaleIPs'], ['127.77.8.1', 'fd7a:115c:a1e0::1']);
    const laptop = peerNamed(st, 'laptop');
    assert.ok(typeof laptop['KeyExpiry'] === 'string', 'untagged node keys expire');
    assert.equal(peerNamed(st, 'lan')['KeyExpiry'], undefined, 'tagged node keys do not');
    const keys = Object.keys(st['Peer'] as Obj);
    assert.deepEqual(keys, [...keys].sort(), 'encoding/json sorts map keys');
    const users = Object.keys(st['User'] as Obj);
    assert.deepEqual(users, [...users].sort());
  });
});

test('status: idle direct peers show no CurAddr until traffic, then Active with CurAddr', async () => {
  await withNet(async (_net, sock) => {
    let lan = peerNamed(await statusOf(sock), 'lan');
    assert.equal(lan['CurAddr'], '');
    assert.equal(lan['Active'], false);
    assert.equal(lan['LastWrite'], '0001-01-01T00:00:00Z');
    await new LocalApiClient({ socketPath: sock }).ping('127.77.8.2');
    lan = peerNamed(await statusOf(sock), 'lan');
    assert.notEqual(lan['CurAddr'], '');
    assert.equal(lan['Active'], true);
  });
});

test('status: shared-in nodes carry AltSharerUserID, sharee nodes ShareeNode', async () => {
  await withNet(async (_net, sock) => {
    const st = await statusOf(sock);
    assert.ok(peerNamed(st, 'shared')['AltSharerUserID'] !== undefined);
    assert.equal(peerNamed(st, 'sharee')['ShareeNode'], true);
    assert.equal(peerNamed(st, 'laptop')['ShareeNode'], undefined, 'omitempty');
    const parsed = await new LocalApiClient({ socketPath: sock }).status();
    assert.equal(parsed.peers.find((p) => p.hostName === 'sharee')?.shareeNode, true);
    assert.notEqual(parsed.peers.find((p) => p.hostName === 'shared')?.altSharerUserId, '');
  });
});

test('times: RFC 3339 with nanoseconds, trailing zeros trimmed, local offsets for local readings', async () => {
  assert.equal(goTime(Date.UTC(2026, 0, 2, 3, 4, 5, 120)), '2026-01-02T03:04:05.12Z');
  assert.equal(goTime(Date.UTC(2026, 0, 2, 3, 4, 5, 0)), '2026-01-02T03:04:05Z');
  assert.equal(goTime(Date.UTC(2026, 0, 2, 3, 4, 5, 0), 60, 1500), '2026-01-02T04:04:05.0000015+01:00');
  await withNet(
    async (_net, sock) => {
      await new LocalApiClient({ socketPath: sock }).ping('127.77.8.2');
      const lan = peerNamed(await statusOf(sock), 'lan');
      assert.match(String(lan['LastWrite']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?-05:30$/);
      assert.match(String(lan['Created']), /Z$/, 'control-plane times are UTC');
    },
    { utcOffsetMinutes: -330 },
  );
});

test('logged out: zeroed Self, no HaveNodeKey, User null; ping answers 200 with Err; Stopped keeps the socket', async () => {
  await withNet(async (net, sock) => {
    await net.setFault('me', 'logged-out');
    const st = await statusOf(sock);
    assert.equal(st['BackendState'], 'NeedsLogin');
    assert.equal('HaveNodeKey' in st, false);
    assert.equal(st['User'], null);
    const self = st['Self'] as Obj;
    assert.equal(self['ID'], '');
    assert.equal(self['NodeID'], 0);
    assert.equal(self['TailscaleIPs'], null);
    assert.equal(self['HostName'], 'me');
    const ping = await raw(sock, 'POST', '/localapi/v0/ping?ip=127.77.8.2&type=disco');
    assert.equal(ping.status, 200);
    assert.equal((parseJsonLossless(ping.body) as Obj)['Err'], 'no matching peer');
    await net.setFault('me', 'down');
    const stopped = await statusOf(sock);
    assert.equal(stopped['BackendState'], 'Stopped');
  });
});

test('watch: no first message without an initial bit; SessionID of 16 hex only with the initial state; DriveShares null; bad masks are 400', async () => {
  await withNet(async (net, sock) => {
    const initial = parseJsonLossless((await firstLine(sock, 2)).line) as Obj;
    assert.match(String(initial['SessionID']), /^[0-9a-f]{16}$/);
    assert.ok('DriveShares' in initial && initial['DriveShares'] === null);
    const statusOnly = parseJsonLossless((await firstLine(sock, 1 << 14)).line) as Obj;
    assert.equal(statusOnly['SessionID'], undefined, 'SessionID comes only with NotifyInitialState');
    assert.ok(statusOnly['InitialStatus']);
    // Peer changes only: the first line is the change itself, nothing is sent at once.
    const change = parseJsonLossless((await firstLine(sock, 1 << 12, () => net.setOnline('laptop', false))).line) as Obj;
    assert.ok(Array.isArray(change['PeersChanged']));
    assert.equal(change['SessionID'], undefined);
    for (const [mask, pattern] of [['x', /bad mask/], [String(1 << 16), /NotifyInProcessNoDisconnect/], [String((1 << 8) | (1 << 12)), /NotifyRateLimit/]] as const) {
      const r = await firstLine(sock, mask as unknown as number);
      assert.equal(r.status, 400);
      assert.match(r.line, pattern);
    }
  });
});

test('ping NodeName: first label for disco, ComputedName for TSMP, the FQDN with its dot for peerapi; whois has no trailing newline; upper-case node keys', async () => {
  await withNet(async (net, sock) => {
    const c = new LocalApiClient({ socketPath: sock });
    assert.equal((await c.ping('127.77.8.2', 'disco')).nodeName, 'lan');
    assert.equal((await c.ping('127.77.8.2', 'TSMP')).nodeName, 'lan');
    assert.equal((await c.ping('127.77.8.2', 'peerapi')).nodeName, 'lan.fidelity.example.ts.net.');
    assert.equal((await c.ping('fd7a:115c:a1e0::2', 'disco')).err, '', 'the IPv6 address is the same node');
    const w = await raw(sock, 'GET', '/localapi/v0/whois?addr=127.77.8.2:1');
    assert.equal(w.status, 200);
    assert.ok(!w.body.endsWith('\n'));
    assert.ok((await raw(sock, 'GET', '/localapi/v0/status')).body.endsWith('\n'), 'status is written by an Encoder');
    const upper = `nodekey:${net.device('lan').nodeKey.slice('nodekey:'.length).toUpperCase()}`;
    assert.equal(whoisTarget(upper), upper);
    assert.equal((await c.whois(upper))?.node.hostName, 'lan');
  });
});
