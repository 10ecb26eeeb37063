import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  LocalApiClient,
  TailscaleError,
  socketErrorToTailscaleError,
  type TailscaleErrorCode,
} from '../../src/tailscale/index.js';
import { fixture, startFixtureDaemon, waitFor } from './fixture-daemon.js';

function isCode(code: TailscaleErrorCode) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof TailscaleError, `expected a TailscaleError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

test('a missing socket is TS_NOT_RUNNING and says how to start the daemon', async () => {
  const c = new LocalApiClient({ socketPath: join(tmpdir(), 'no-such-dir-fcp', 'tailscaled.sock') });
  await assert.rejects(c.status(), (e: unknown) => isCode('TS_NOT_RUNNING')(e) && /start it/.test((e as Error).message));
});

test('socket errors map to typed codes', () => {
  const err = (code: string): Error => Object.assign(new Error(code), { code });
  assert.equal(socketErrorToTailscaleError('/s', err('EACCES')).code, 'TS_PERMISSION');
  assert.equal(socketErrorToTailscaleError('/s', err('EPERM')).code, 'TS_PERMISSION');
  assert.equal(socketErrorToTailscaleError('/s', err('ECONNREFUSED')).code, 'TS_NOT_RUNNING');
  assert.equal(socketErrorToTailscaleError('/s', err('ENOENT')).code, 'TS_NOT_RUNNING');
  // Unix-socket reads are always permitted: EACCES is a file or mount problem, not --operator.
  assert.doesNotMatch(socketErrorToTailscaleError('/s', err('EACCES')).message, /--operator/);
  assert.match(socketErrorToTailscaleError('/s', err('EACCES')).message, /file-permission or mount problem/);
});

test('requests carry the LocalAPI Host and Sec-Tailscale headers', async () => {
  const d = await startFixtureDaemon({ status: fixture('status-running.json') });
  try {
    await new LocalApiClient({ socketPath: d.socketPath }).status();
    assert.equal(d.requests[0]?.host, 'local-tailscaled.sock');
    assert.equal(d.requests[0]?.secTailscale, 'localapi');
    assert.equal(d.requests[0]?.url, '/localapi/v0/status');
  } finally {
    await d.close();
  }
});

test('a logged-out daemon is TS_NOT_LOGGED_IN unless asked to allow it', async () => {
  const d = await startFixtureDaemon({ status: fixture('status-needs-login.json') });
  try {
    const c = new LocalApiClient({ socketPath: d.socketPath });
    await assert.rejects(c.status(), (e: unknown) => isCode('TS_NOT_LOGGED_IN')(e) && /tailscale up/.test((e as Error).message));
    const st = await c.status({ allowNotRunning: true });
    assert.equal(st.backendState, 'NeedsLogin');
    assert.deepEqual(st.peers, []);
    assert.deepEqual(st.tailscaleIps, []);
  } finally {
    await d.close();
  }
});

test('malformed JSON and wrong shapes are TS_BAD_JSON naming the field', async () => {
  for (const [body, pattern] of [
    ['{"BackendState": "Running", ', /offset/],
    ['{"BackendState": 6}', /Status\.BackendState: expected a string/],
    ['{"BackendState": "Running", "Peer": {"nodekey:aa": {"Tags": "tag:x"}}}', /Tags: expected an array/],
    ['[]', /Status: expected an object/],
  ] as const) {
    const d = await startFixtureDaemon({ status: body });
    try {
      await assert.rejects(new LocalApiClient({ socketPath: d.socketPath }).status(), (e: unknown) => isCode('TS_BAD_JSON')(e) && pattern.test((e as Error).message));
    } finally {
      await d.close();
    }
  }
});

test('HTTP errors are TS_HTTP with the daemon message; 403 is TS_PERMISSION', async () => {
  const d500 = await startFixtureDaemon({ override: { status: 500, body: '{"error":"backend exploded"}\n' } });
  const d403 = await startFixtureDaemon({ override: { status: 403, body: 'status access denied\n', contentType: 'text/plain' } });
  try {
    await assert.rejects(new LocalApiClient({ socketPath: d500.socketPath }).status(), (e: unknown) => isCode('TS_HTTP')(e) && /backend exploded/.test((e as Error).message));
    await assert.rejects(new LocalApiClient({ socketPath: d500.socketPath }).whois('100.64.0.1:1'), isCode('TS_HTTP'));
    await assert.rejects(new LocalApiClient({ socketPath: d403.socketPath }).status(), (e: unknown) => isCode('TS_PERMISSION')(e) && /status access denied/.test((e as Error).message));
  } finally {
    await d500.close();
    await d403.close();
  }
});

test('a ping nobody answers ends in TS_TIMEOUT after our own timeout', async () => {
  const d = await startFixtureDaemon({ ping: {} });
  try {
    const t0 = Date.now();
    await assert.rejects(new LocalApiClient({ socketPath: d.socketPath }).ping('100.101.1.9', 'disco', { timeoutMs: 150 }), isCode('TS_TIMEOUT'));
    assert.ok(Date.now() - t0 < 1500);
  } finally {
    await d.close();
  }
});

test('a ping to an unknown IP reports the daemon error in the result', async () => {
  const d = await startFixtureDaemon({ ping: { '100.101.1.77': fixture('ping-no-peer.json') } });
  try {
    const r = await new LocalApiClient({ socketPath: d.socketPath }).ping('100.101.1.77');
    assert.equal(r.err, 'no matching peer');
    assert.equal(r.path, 'unknown');
  } finally {
    await d.close();
  }
});

test('bad input is TS_BAD_INPUT and never reaches the daemon', async () => {
  const d = await startFixtureDaemon({ status: fixture('status-running.json') });
  try {
    const c = new LocalApiClient({ socketPath: d.socketPath });
    for (const addr of ['', 'not-an-ip:80', '100.64.0.1:99999', '100.64.0.1:', 'nodekey:zz']) {
      await assert.rejects(c.whois(addr), isCode('TS_BAD_INPUT'), addr);
    }
    await assert.rejects(c.whois('100.64.0.1', 70000), isCode('TS_BAD_INPUT'));
    await assert.rejects(c.ping('laptop'), isCode('TS_BAD_INPUT'));
    await assert.rejects(c.ping('100.64.0.1', 'udp' as 'disco'), isCode('TS_BAD_INPUT'));
    assert.throws(() => new LocalApiClient({ timeoutMs: -1 }), isCode('TS_BAD_INPUT'));
    assert.equal(d.requests.length, 0);
    // IPv6 and nodekey forms are accepted.
    assert.equal(await c.whois('[fd7a:115c:a1e0::9]:9473'), null);
    assert.equal(await c.whois(`nodekey:${'ab'.repeat(32)}`), null);
  } finally {
    await d.close();
  }
});

test('watch: aborting ends the loop quietly and closes the stream', async () => {
  const d = await startFixtureDaemon({ watch: fixture('watch-ipn-bus.ndjson') });
  try {
    const ac = new AbortController();
    let count = 0;
    const loop = (async () => {
      for await (const n of new LocalApiClient({ socketPath: d.socketPath }).watch({ signal: ac.signal })) {
        void n;
        count++;
      }
    })();
    await waitFor(() => count === 4, 2000, 'four notifications');
    assert.equal(d.openWatches(), 1);
    ac.abort();
    await loop;
    await waitFor(() => d.openWatches() === 0, 2000, 'the stream to close');
  } finally {
    await d.close();
  }
});

test('watch: breaking out of the loop closes the stream; the mask asks for status and peer changes', async () => {
  const d = await startFixtureDaemon({ watch: fixture('watch-ipn-bus.ndjson') });
  try {
    for await (const n of new LocalApiClient({ socketPath: d.socketPath }).watch()) {
      assert.equal(n.state, 'Running');
      break;
    }
    await waitFor(() => d.openWatches() === 0, 2000, 'the stream to close');
    const mask = Number(new URL(d.requests[0]?.url ?? '', 'http://x').searchParams.get('mask'));
    assert.ok(mask & (1 << 14), 'NotifyInitialStatus');
    assert.ok(mask & (1 << 12), 'NotifyPeerChanges');
    assert.ok(mask & (1 << 1), 'NotifyInitialState');
  } finally {
    await d.close();
  }
});

test('watch: the daemon ending the stream is TS_WATCH_CLOSED; garbage is TS_BAD_JSON', async () => {
  const d = await startFixtureDaemon({ watch: fixture('watch-ipn-bus.ndjson') });
  const c = new LocalApiClient({ socketPath: d.socketPath });
  const loop = (async () => {
    for await (const _ of c.watch()) void _;
  })();
  await waitFor(() => d.openWatches() === 1, 2000, 'the stream');
  await d.close();
  await assert.rejects(loop, isCode('TS_WATCH_CLOSED'));

  const g = await startFixtureDaemon({ watch: '{"Version":"1"}\nnot json\n' });
  try {
    await assert.rejects(
      (async () => {
        for await (const _ of new LocalApiClient({ socketPath: g.socketPath }).watch()) void _;
      })(),
      isCode('TS_BAD_JSON'),
    );
  } finally {
    await g.close();
  }
});
