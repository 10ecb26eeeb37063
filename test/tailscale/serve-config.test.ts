// serve-config over the emulated LocalAPI and the serve/Funnel ingress stand-in, checked against
// what tailscaled does (ipn/localapi/serve.go, ipn/ipnlocal/serve.go; see docs/tailscale.md).
// Loopback subnet 144 is this file's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { startDevTailnet, type DevTailnet, type IngressEndpoint, type TailnetDescription } from '../../src/tailscale/emulator/index.js';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The five devices, with `phone` a user's (untagged) device and `worklaptop` lacking the funnel attribute. */
function description(): TailnetDescription {
  const five = fiveDevicesOn(144);
  return {
    ...five,
    users: [{ loginName: 'alice@example.com', displayName: 'Zoë Example' }],
    nodes: five.nodes.map((n) => {
      if (n.name === 'phone') return { ...n, tags: [] };
      if (n.name === 'worklaptop') return { ...n, funnel: false };
      return n;
    }),
  };
}

async function withNet(fn: (net: DevTailnet) => Promise<void>): Promise<void> {
  const net = await startDevTailnet(description());
  try {
    await fn(net);
  } finally {
    await net.stop();
  }
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function localApi(net: DevTailnet, device: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: net.device(device).socketPath, method, path, headers: { Host: 'local-tailscaled.sock', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const getServe = (net: DevTailnet, device: string): Promise<Reply> => localApi(net, device, 'GET', '/localapi/v0/serve-config');
const setServe = (net: DevTailnet, device: string, config: unknown, ifMatch?: string): Promise<Reply> =>
  localApi(net, device, 'POST', '/localapi/v0/serve-config', typeof config === 'string' ? config : JSON.stringify(config), ifMatch !== undefined ? { 'If-Match': ifMatch } : {});

const fqdnOf = (net: DevTailnet, device: string): string => net.device(device).dnsName.replace(/\.$/, '');

/** A request to an ingress listener; resolves with the reply or the socket error code (a reset). */
function viaIngress(ep: IngressEndpoint, opts: { path?: string; from?: string; headers?: Record<string, string>; method?: string } = {}): Promise<Reply | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: ep.host, port: ep.port, path: opts.path ?? '/', method: opts.method ?? 'GET', agent: false, headers: opts.headers ?? {}, ...(opts.from ? { localAddress: opts.from } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

function asReply(r: Reply | { error: string }): Reply {
  assert.ok(!('error' in r), `expected an HTTP answer, got ${JSON.stringify(r)}`);
  return r;
}

/** A backend on 127.0.0.1 that answers with what it received. */
async function echoBackend(): Promise<{ server: Server; port: number; seen: Array<{ url: string; headers: IncomingHttpHeaders }> }> {
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/gz') {
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' });
      res.end(gzipSync('unzipped by the transport'));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' });
    res.end(`backend saw ${req.url ?? ''}`);
  });
  server.on('upgrade', (req, socket: Socket) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

const closeServer = (s: Server): Promise<void> =>
  new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });

test('serve-config GET with nothing set: 200, body null, Etag = sha256("null")', async () => {
  await withNet(async (net) => {
    const r = await getServe(net, 'laptop');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'null');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['etag'], sha256('null'));
  });
});

test('serve-config POST then GET: Go field order, omitempty, sorted keys, HTML escaping, case-insensitive names; Etag of those bytes', async () => {
  await withNet(async (net) => {
    const fqdn = fqdnOf(net, 'laptop');
    // Written the way a careless client might: lower-case names, unknown fields, keys unsorted.
    const posted = `{"allowfunnel":{"${fqdn}:443":true},"web":{"${fqdn}:443":{"Handlers":{"/z":{"Text":"<hi> & bye"},"/":{"Proxy":"http://127.0.0.1:3000","Path":""}}},"other:443":{}},"TCP":{"8443":{"HTTPS":true},"443":{"HTTPS":true,"ProxyProtocol":0}},"Bogus":1}`;
    const set = await setServe(net, 'laptop', posted);
    assert.equal(set.status, 200);
    assert.equal(set.body, '');
    const want =
      `{"TCP":{"443":{"HTTPS":true},"8443":{"HTTPS":true}},` +
      `"Web":{"${fqdn}:443":{"Handlers":{"/":{"Proxy":"http://127.0.0.1:3000"},"/z":{"Text":"\\u003chi\\u003e \\u0026 bye"}}},"other:443":{"Handlers":null}},` +
      `"AllowFunnel":{"${fqdn}:443":true}}`;
    const got = await getServe(net, 'laptop');
    assert.equal(got.body, want);
    assert.equal(got.headers['etag'], sha256(want));
    // Per device: the others still have none.
    assert.equal((await getServe(net, 'server')).body, 'null');
    // A body of null decodes into an empty config, which is not "none".
    assert.equal((await setServe(net, 'server', 'null')).status, 200);
    assert.equal((await getServe(net, 'server')).body, '{}');
  });
});

test('serve-config If-Match: stale ETag is 412 "etag mismatch", the current one and an absent one succeed', async () => {
  await withNet(async (net) => {
    const first = await getServe(net, 'laptop');
    assert.equal((await setServe(net, 'laptop', { TCP: { 443: { HTTPS: true } } }, first.headers['etag'] as string)).status, 200);
    const stale = await setServe(net, 'laptop', {}, first.headers['etag'] as string);
    assert.equal(stale.status, 412);
    assert.equal(stale.body, 'etag mismatch\n');
    assert.equal(stale.headers['content-type'], 'text/plain; charset=utf-8');
    // Compared as sent: a quoted ETag does not match.
    const now = (await getServe(net, 'laptop')).headers['etag'] as string;
    assert.equal((await setServe(net, 'laptop', {}, `"${now}"`)).status, 412);
    assert.equal((await setServe(net, 'laptop', { TCP: { 443: { HTTPS: true } } }, now)).status, 200);
    assert.equal((await setServe(net, 'laptop', {})).status, 200);
    assert.equal((await getServe(net, 'laptop')).body, '{}');
  });
});

test('serve-config errors: decode errors in Go words (500 JSON), invalid updates, 405, no netmap', async () => {
  await withNet(async (net) => {
    const err = async (body: string): Promise<string> => {
      const r = await setServe(net, 'laptop', body);
      assert.equal(r.status, 500);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.ok(r.body.endsWith('}\n'));
      return (JSON.parse(r.body) as { error: string }).error;
    };
    assert.equal(await err(''), 'decoding config: EOF');
    assert.equal(await err('{"TCP":'), 'decoding config: unexpected EOF');
    assert.equal(await err('{"TCP" 1}'), "decoding config: invalid character '1' after object key");
    assert.equal(await err('[]'), 'decoding config: json: cannot unmarshal array into Go value of type ipn.ServeConfig');
    assert.equal(await err('{"TCP":{"443":{"HTTPS":"yes"}}}'), 'decoding config: json: cannot unmarshal string into Go struct field TCPPortHandler.TCP.HTTPS of type bool');
    assert.equal(await err('{"TCP":{"https":{}}}'), 'decoding config: json: cannot unmarshal number https into Go struct field ServeConfig.TCP of type uint16');
    // The body is JSON-encoded as Go does: HTML characters escaped.
    const raw = await setServe(net, 'laptop', '<');
    assert.equal(raw.body, `{"error":"decoding config: invalid character '\\u003c' looking for beginning of value"}\n`);

    assert.equal((await setServe(net, 'laptop', { TCP: { 443: { HTTPS: true } } })).status, 200);
    assert.equal(await err(JSON.stringify({ TCP: { 443: { HTTP: true } } })), 'updating config: want to serve "http", but port 443 is already serving "https"');
    assert.equal(
      await err(JSON.stringify({ Services: { 'svc:web': { Tun: true, TCP: { 80: { HTTP: true } } } } })),
      'updating config: cannot configure TUN mode in combination with TCP or web handlers for svc:web',
    );

    const put = await localApi(net, 'laptop', 'PUT', '/localapi/v0/serve-config', '{}');
    assert.equal(put.status, 405);
    assert.equal(put.body, 'method not allowed\n');

    // Logged out there is no netmap: nothing to show, nothing can be set; back in, it returns.
    await net.setFault('laptop', 'logged-out');
    assert.equal((await getServe(net, 'laptop')).body, 'null');
    assert.equal(await err('{}'), 'updating config: netMap is nil');
    await net.setFault('laptop', 'none');
    assert.equal((await getServe(net, 'laptop')).body, '{"TCP":{"443":{"HTTPS":true}}}');
  });
});

test('funnel node attribute: absent from Self caps when turned off; tailscaled still stores AllowFunnel, but no Funnel traffic arrives', async () => {
  await withNet(async (net) => {
    const caps = async (device: string): Promise<string[]> => {
      const st = JSON.parse((await localApi(net, device, 'GET', '/localapi/v0/status')).body) as { Self: { Capabilities: string[]; CapMap: Record<string, null> } };
      assert.deepEqual(Object.keys(st.Self.CapMap), st.Self.Capabilities.slice(1));
      return st.Self.Capabilities;
    };
    // What `tailscale funnel` checks first (ipn.CheckFunnelAccess): "https", "funnel", a funnel-ports grant for 443.
    const ports = 'https://tailscale.com/cap/funnel-ports?ports=443,8443,10000';
    const laptop = await caps('laptop');
    assert.ok(laptop.includes('https') && laptop.includes('funnel') && laptop.includes(ports), laptop.join(' '));
    const work = await caps('worklaptop');
    assert.ok(work.includes('https') && !work.includes('funnel') && !work.includes(ports), work.join(' '));

    const backend = await echoBackend();
    try {
      const fqdn = fqdnOf(net, 'worklaptop');
      const cfg = { TCP: { 443: { HTTPS: true } }, Web: { [`${fqdn}:443`]: { Handlers: { '/': { Proxy: `http://127.0.0.1:${backend.port}` } } } }, AllowFunnel: { [`${fqdn}:443`]: true } };
      // The "funnel" attribute is checked by the CLI (ipn.CheckFunnelAccess), not by SetServeConfig.
      assert.equal((await setServe(net, 'worklaptop', cfg)).status, 200);
      const ing = net.ingress('worklaptop');
      assert.deepEqual(await viaIngress(ing.funnel, { from: '127.0.0.1' }), { error: 'ECONNRESET' });
      // Tailnet serving is unaffected.
      assert.equal(asReply(await viaIngress(ing.tailnet, { from: net.device('laptop').address })).status, 200);
      assert.equal(backend.seen.length, 1);
    } finally {
      await closeServer(backend.server);
    }
  });
});

test('ingress: proxied headers for a Funnel request, a user device and a tagged device; client Tailscale-* and forwarding headers removed', async () => {
  const backend = await echoBackend();
  try {
    await withNet(async (net) => {
      const fqdn = fqdnOf(net, 'laptop');
      const target = `${fqdn}:443`;
      const cfg = {
        TCP: { 443: { HTTPS: true } },
        Web: { [target]: { Handlers: { '/': { Proxy: `http://127.0.0.1:${backend.port}` }, '/api/': { Proxy: `127.0.0.1:${backend.port}/v1` } } } },
        AllowFunnel: { [target]: true },
      };
      assert.equal((await setServe(net, 'laptop', cfg)).status, 200);
      const ing = net.ingress('laptop');
      assert.equal(ing.tailnet.host, net.device('laptop').address);
      assert.equal(ing.funnel.host, net.device('laptop').address);
      const spoofed = {
        Host: fqdn,
        'Tailscale-User-Login': 'mallory@example.com',
        'Tailscale-User-Name': 'Mallory',
        'Tailscale-User-Profile-Pic': 'x',
        'Tailscale-Funnel-Request': '?1',
        'Tailscale-Headers-Info': 'x',
        'Tailscale-App-Capabilities': '{}',
        'X-Forwarded-For': '203.0.113.9',
        'X-Forwarded-Proto': 'http',
        Forwarded: 'for=203.0.113.9',
      };
      const identity = ['tailscale-user-login', 'tailscale-user-name', 'tailscale-user-profile-pic', 'tailscale-headers-info', 'tailscale-funnel-request', 'tailscale-app-capabilities'];
      const pick = (h: IncomingHttpHeaders): Record<string, string | string[] | undefined> =>
        Object.fromEntries(Object.entries(h).filter(([k]) => identity.includes(k) || k.startsWith('x-forwarded') || k === 'forwarded' || k === 'host'));

      // From the internet through Funnel: only the funnel marker.
      assert.equal(asReply(await viaIngress(ing.funnel, { path: '/a?b=1', from: '127.0.0.1', headers: spoofed })).status, 200);
      // From the user's phone (untagged): the user's identity, the display name Q-encoded.
      assert.equal(asReply(await viaIngress(ing.tailnet, { path: '/api/items?x=1', from: net.device('phone').address, headers: spoofed })).status, 200);
      // From a tagged server: no identity at all.
      assert.equal(asReply(await viaIngress(ing.tailnet, { path: '/api', from: net.device('server').address, headers: spoofed })).status, 200);

      const [funnel, phone, server] = backend.seen;
      assert.equal(funnel?.url, '/a?b=1');
      assert.deepEqual(pick(funnel?.headers ?? {}), {
        host: fqdn,
        'x-forwarded-host': fqdn,
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '127.0.0.1',
        'tailscale-funnel-request': '?1',
      });
      // The mount point is cut off and the target's path put in front.
      assert.equal(phone?.url, '/v1/items?x=1');
      assert.deepEqual(pick(phone?.headers ?? {}), {
        host: fqdn,
        'x-forwarded-host': fqdn,
        'x-forwarded-proto': 'https',
        'x-forwarded-for': net.device('phone').address,
        'tailscale-user-login': 'alice@example.com',
        'tailscale-user-name': '=?utf-8?q?Zo=C3=AB_Example?=',
        'tailscale-user-profile-pic': '',
        'tailscale-headers-info': 'https://tailscale.com/s/serve-headers',
      });
      // An exact match on the mount point goes to the target's path itself.
      assert.equal(server?.url, '/v1');
      assert.deepEqual(pick(server?.headers ?? {}), {
        host: fqdn,
        'x-forwarded-host': fqdn,
        'x-forwarded-proto': 'https',
        'x-forwarded-for': net.device('server').address,
      });
      // http.Transport asked for gzip on the client's behalf, and undoes it.
      assert.equal(server?.headers['accept-encoding'], 'gzip');
      const gz = asReply(await viaIngress(ing.tailnet, { path: '/gz', from: net.device('server').address }));
      assert.equal(gz.body, 'unzipped by the transport');
      assert.equal(gz.headers['content-encoding'], undefined);
    });
  } finally {
    await closeServer(backend.server);
  }
});

test('ingress refusals: no AllowFunnel resets Funnel, non-tailnet sources reset the tailnet listener, unserved port, offline caller', async () => {
  const backend = await echoBackend();
  try {
    await withNet(async (net) => {
      const fqdn = fqdnOf(net, 'server');
      const ing = net.ingress('server');
      const from = net.device('laptop').address;
      // Nothing configured: port 443 is not intercepted.
      assert.deepEqual(await viaIngress(ing.tailnet, { from }), { error: 'ECONNRESET' });
      const cfg = { TCP: { 443: { HTTPS: true } }, Web: { [`${fqdn}:443`]: { Handlers: { '/': { Proxy: String(backend.port) } } } } };
      assert.equal((await setServe(net, 'server', cfg)).status, 200);
      assert.equal(asReply(await viaIngress(ing.tailnet, { from })).status, 200);
      // Served on the tailnet only: Funnel connections are reset.
      assert.deepEqual(await viaIngress(ing.funnel, { from: '127.0.0.1' }), { error: 'ECONNRESET' });
      // AllowFunnel false is the same as absent.
      assert.equal((await setServe(net, 'server', { ...cfg, AllowFunnel: { [`${fqdn}:443`]: false } })).status, 200);
      assert.deepEqual(await viaIngress(ing.funnel, { from: '127.0.0.1' }), { error: 'ECONNRESET' });
      // A source that is no tailnet device cannot reach the tailnet side.
      assert.deepEqual(await viaIngress(ing.tailnet, { from: '127.0.0.1' }), { error: 'ECONNRESET' });
      assert.deepEqual(await viaIngress(ing.tailnet, { from: '127.77.144.99' }), { error: 'ECONNRESET' });
      // An offline caller sends nothing; nor does a device that left.
      net.setOnline('desktop', false);
      assert.deepEqual(await viaIngress(ing.tailnet, { from: net.device('desktop').address }), { error: 'ECONNRESET' });
      net.removeNode('phone');
      assert.deepEqual(await viaIngress(ing.tailnet, { from: net.device('phone').address }), { error: 'ECONNRESET' });
      // The served device's daemon stopped: nothing answers.
      await net.setFault('server', 'stopped');
      assert.deepEqual(await viaIngress(ing.tailnet, { from }), { error: 'ECONNRESET' });
      await net.setFault('server', 'none');
      assert.equal(asReply(await viaIngress(ing.tailnet, { from })).status, 200);
    });
  } finally {
    await closeServer(backend.server);
  }
});

test('ingress handlers: Text, longest mount, 404 with no handler, redirect, unreachable backend 502, proxy to the LocalAPI refused', async () => {
  await withNet(async (net) => {
    const fqdn = fqdnOf(net, 'desktop');
    const handlers = {
      '/': { Text: 'root' },
      '/docs/': { Text: 'docs' },
      '/docs/api': { Text: 'api' },
      '/go': { Redirect: '301:https://${HOST}/elsewhere${REQUEST_URI}' },
      '/down': { Proxy: 'http://127.0.0.1:1' },
      '/self': { Proxy: `unix:${net.device('desktop').socketPath}` },
    };
    assert.equal((await setServe(net, 'desktop', { TCP: { 443: { HTTPS: true } }, Web: { [`${fqdn}:443`]: { Handlers: handlers } } })).status, 200);
    const ep = net.ingress('desktop').tailnet;
    const from = net.device('laptop').address;
    const get = async (path: string): Promise<Reply> => asReply(await viaIngress(ep, { path, from, headers: { Host: fqdn } }));
    const text = await get('/docs/api/v2');
    assert.equal(text.status, 200);
    assert.equal(text.body, 'api');
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await get('/docs/other')).body, 'docs');
    assert.equal((await get('/docs')).body, 'docs');
    assert.equal((await get('/anything')).body, 'root');
    const moved = await get('/go?q=1');
    assert.equal(moved.status, 301);
    assert.equal(moved.headers['location'], `https://${fqdn}/elsewhere/go?q=1`);
    assert.equal((await get('/down/x')).status, 502);
    const self = await get('/self');
    assert.equal(self.status, 500);
    assert.equal(self.body, 'unknown proxy destination\n');

    // With no "/" handler, a path under no mount point is 404 as net/http's NotFound.
    const { '/': _root, ...rest } = handlers;
    assert.equal((await setServe(net, 'desktop', { TCP: { 443: { HTTPS: true } }, Web: { [`${fqdn}:443`]: { Handlers: rest } } })).status, 200);
    const missing = await get('/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '404 page not found\n');
    assert.equal(missing.headers['x-content-type-options'], 'nosniff');
  });
});

test('ingress: a protocol upgrade is spliced through to the backend', async () => {
  const backend = await echoBackend();
  try {
    await withNet(async (net) => {
      const fqdn = fqdnOf(net, 'laptop');
      const cfg = { TCP: { 443: { HTTPS: true } }, Web: { [`${fqdn}:443`]: { Handlers: { '/ws': { Proxy: `http://127.0.0.1:${backend.port}` } } } } };
      assert.equal((await setServe(net, 'laptop', cfg)).status, 200);
      const ep = net.ingress('laptop').tailnet;
      const echoed = await new Promise<string>((resolve, reject) => {
        const req = request({ host: ep.host, port: ep.port, path: '/ws/chat', localAddress: net.device('phone').address, agent: false, headers: { Host: fqdn, Connection: 'Upgrade', Upgrade: 'echo' } });
        req.on('upgrade', (res, socket) => {
          assert.equal(res.statusCode, 101);
          socket.once('data', (d: Buffer) => {
            resolve(d.toString('utf8'));
            socket.destroy();
          });
          socket.write('ping');
        });
        req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode ?? 0}`)));
        req.on('error', reject);
        req.end();
      });
      assert.equal(echoed, 'ping');
      const seen = backend.seen.at(-1);
      assert.equal(seen?.url, '/chat');
      assert.equal(seen?.headers['upgrade'], 'echo');
      assert.equal(seen?.headers['tailscale-user-login'], 'alice@example.com');
    });
  } finally {
    await closeServer(backend.server);
  }
});

test('foreground serve configs live as long as their ipn bus session', async () => {
  await withNet(async (net) => {
    const fg = (session: string) => ({ Foreground: { [session]: { TCP: { 8443: { HTTPS: true } } } } });
    // A session ID no watcher has is dropped when the config is reloaded.
    assert.equal((await setServe(net, 'laptop', fg('0123456789abcdef'))).status, 200);
    assert.equal((await getServe(net, 'laptop')).body, '{}');

    // Open a watch with NotifyInitialState (2) to learn its SessionID.
    const watch = await new Promise<{ session: string; close: () => void }>((resolve, reject) => {
      const req = request({ socketPath: net.device('laptop').socketPath, path: '/localapi/v0/watch-ipn-bus?mask=2', headers: { Host: 'local-tailscaled.sock' } }, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          const nl = buf.indexOf('\n');
          if (nl >= 0) resolve({ session: (JSON.parse(buf.slice(0, nl)) as { SessionID: string }).SessionID, close: () => req.destroy() });
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
      req.end();
    });
    assert.equal((await setServe(net, 'laptop', fg(watch.session))).status, 200);
    assert.equal((await getServe(net, 'laptop')).body, `{"Foreground":{"${watch.session}":{"TCP":{"8443":{"HTTPS":true}}}}}`);
    // A background listener may not take a port a foreground session holds.
    const clash = await setServe(net, 'laptop', { TCP: { 8443: { HTTPS: true } }, ...fg(watch.session) });
    assert.equal(clash.status, 500);
    assert.match(clash.body, /foreground listener already exists for port 8443/);
    // The session ends: its config goes (DeleteForegroundSession).
    // The server learns of the close asynchronously; each GET is a round trip, at most 200 of them.
    watch.close();
    let body = '';
    for (let i = 0; i < 200 && body !== '{}'; i++) body = (await getServe(net, 'laptop')).body;
    assert.equal(body, '{}');
  });
});
