// Connection and request limits of the FCP server, in process: partial frames within the inbound
// budget, slow and idle peers timed out, connection counts, refusals that cost no lasting fd,
// a whois that never answers, and fetches queued then refused per daemon.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { FrameDecoder, encodeFrame, type Message } from '../../src/wire/index.js';
import type { RequestContext } from '../../src/mesh/server.js';
import { STRANGER, closedWithin, latch, openFds, rawSocket, rpc, startServer, until } from './server-fixture.js';

const frame = (msg: Record<string, unknown>) => encodeFrame(msg as unknown as Message);
const okHandler = async () => ({ t: 'ok' });

/** Collects the frames a raw socket receives (it reads, so it sees the server close it). */
function collect(socket: net.Socket): Message[] {
  const decoder = new FrameDecoder();
  const frames: Message[] = [];
  socket.on('data', (chunk) => frames.push(...decoder.push(chunk)));
  socket.on('error', () => undefined);
  return frames;
}

const codeOf = (m: Message | undefined) => (m as unknown as { code?: string } | undefined)?.code;

describe('partial frames', () => {
  test('connections holding partial 4 MiB frames stay within the inbound budget, and are closed at the frame timeout', async () => {
    const budget = 16 * 1024 * 1024;
    const server = await startServer(okHandler, { maxInboundBytes: budget, maxInboundBytesPerConnection: 8 * 1024 * 1024, frameTimeoutMs: 1500 });
    const before = process.memoryUsage().arrayBuffers;
    // Every attacker sends the same bytes: the test's own buffers stay one copy.
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    const header = Buffer.from([0, 0x3f, 0xff, 0xff]); // announces 4 MiB - 1
    const attackers: net.Socket[] = [];
    let peakInbound = 0;
    let peakBuffers = 0;
    try {
      for (let i = 0; i < 40; i++) {
        const s = await rawSocket(server, `127.0.0.${1 + (i % 8)}`);
        collect(s);
        s.write(header);
        s.write(body);
        attackers.push(s);
      }
      // An honest request still gets its answer while the budget is taken.
      const conn = await rpc(server, {}, '127.0.0.2');
      assert.equal((await conn.request({ t: 'info' })).t, 'ok');
      conn.close();
      peakInbound = server.load.inboundBytes;
      peakBuffers = process.memoryUsage().arrayBuffers - before;
      await Promise.all(attackers.map((s) => closedWithin(s, 10_000)));
      assert.ok(peakInbound <= budget + 1024 * 1024, `inbound bytes held ${peakInbound}`);
      assert.ok(peakBuffers < 64 * 1024 * 1024, `buffers grew by ${(peakBuffers / 2 ** 20).toFixed(1)} MiB for 40 partial frames`);
      assert.equal(server.load.inboundBytes, 0, 'closed connections give their bytes back');
    } finally {
      for (const s of attackers) s.destroy();
      await server.close();
    }
  });

  test('a client sending one byte at a time is closed at the frame timeout', async () => {
    const server = await startServer(okHandler, { frameTimeoutMs: 400 });
    const s = await rawSocket(server);
    const frames = collect(s);
    const bytes = frame({ v: 1, t: 'info', id: 1 });
    let at = 0;
    const drip = setInterval(() => {
      if (at < bytes.length && !s.destroyed) s.write(bytes.subarray(at, ++at));
    }, 150);
    try {
      await closedWithin(s, 5_000);
      assert.equal(codeOf(frames.at(-1)), 'MESH_TIMEOUT');
      assert.ok(at < bytes.length, 'closed before the trickled frame completed');
    } finally {
      clearInterval(drip);
      s.destroy();
      await server.close();
    }
  });

  test('an idle connection is closed; one with a request running is not', async () => {
    const slow = latch();
    const server = await startServer(async (_ctx: RequestContext, msg: Message) => {
      if (msg.t === 'have') await slow.promise;
      return { t: 'ok' };
    }, { idleTimeoutMs: 300 });
    try {
      const idle = await rawSocket(server);
      const frames = collect(idle);
      const busy = await rpc(server);
      const reply = busy.request({ t: 'have', objectId: new Uint8Array(32) });
      await closedWithin(idle, 5_000);
      assert.equal(codeOf(frames[0]), 'MESH_TIMEOUT');
      assert.equal(busy.closed, false, 'a connection with a request running is not idle');
      slow.open();
      assert.equal((await reply).t, 'ok');
      busy.close();
    } finally {
      await server.close();
    }
  });
});

describe('connections', () => {
  test('connections are limited per source address and in total', async () => {
    const server = await startServer(okHandler, { maxConnectionsPerAddress: 3, maxConnections: 5 });
    const open: Array<Awaited<ReturnType<typeof rpc>>> = [];
    try {
      for (let i = 0; i < 3; i++) open.push(await rpc(server, {}, '127.0.0.1'));
      for (const c of open) assert.equal((await c.request({ t: 'info' })).t, 'ok');
      const fourth = await rpc(server, {}, '127.0.0.1');
      await assert.rejects(fourth.request({ t: 'info' }), (err: Error & { code?: string }) => err.code === 'MESH_BUSY' && /127\.0\.0\.1/.test(err.message));
      for (let i = 0; i < 2; i++) open.push(await rpc(server, {}, '127.0.0.2'));
      for (const c of open.slice(3)) assert.equal((await c.request({ t: 'info' })).t, 'ok');
      const sixth = await rpc(server, {}, '127.0.0.3');
      await assert.rejects(sixth.request({ t: 'info' }), (err: Error & { code?: string }) => err.code === 'MESH_BUSY');
      // A slot freed is a slot again.
      const gone = open.shift()!;
      const closed = closedWithin(gone.socket, 2_000);
      gone.close();
      await closed;
      await until('the server to see the close', () => server.connections <= 4, 2_000);
      const again = await rpc(server, {}, '127.0.0.1');
      assert.equal((await again.request({ t: 'info' })).t, 'ok');
      again.close();
    } finally {
      for (const c of open) c.close();
      await server.close();
    }
  });

  test('1,000 refused connections that never read nor close leave no server fd behind', async () => {
    const server = await startServer(okHandler, { closeLingerMs: 200 });
    const base = openFds();
    const clients: net.Socket[] = [];
    try {
      for (let batch = 0; batch < 10; batch++) {
        const made = await Promise.all(Array.from({ length: 100 }, () => rawSocket(server, STRANGER, { allowHalfOpen: true })));
        for (const s of made) {
          s.pause(); // never reads, never ends
          s.on('error', () => undefined);
        }
        clients.push(...made);
      }
      // The 1,000 client fds are ours; the server's side of each must be gone.
      await until('the server to destroy refused sockets', () => openFds() <= base + clients.length + 16 && server.connections === 0, 15_000);
    } finally {
      for (const s of clients) s.destroy();
      await server.close();
    }
    await until('client fds to close', () => openFds() <= base + 16, 5_000);
  });

  test('a whois that never answers refuses the connection after the auth timeout', async () => {
    const never = new Promise<never>(() => undefined);
    const server = await startServer(okHandler, { authTimeoutMs: 300 }, () => never);
    try {
      const s = await rawSocket(server);
      const frames = collect(s);
      await closedWithin(s, 5_000);
      assert.equal(codeOf(frames[0]), 'MESH_TIMEOUT');
      await until('the server to drop the socket', () => server.connections === 0, 2_000);
    } finally {
      await server.close();
    }
  });
});

describe('fetches per daemon', () => {
  test('fetches beyond the in-flight limit queue, and beyond the queue get MESH_BUSY', async () => {
    const release = latch();
    let running = 0;
    let peak = 0;
    const server = await startServer(async (_ctx: RequestContext, msg: Message) => {
      if (msg.t !== 'fetch') return { t: 'ok' };
      running++;
      peak = Math.max(peak, running);
      await release.promise;
      running--;
      return { t: 'fetch_end', count: 0 };
    }, { maxFetchesInFlight: 2, maxFetchesQueued: 2 });
    try {
      // One connection, so the server sees the six in the order sent.
      const conns = [await rpc(server, { limits: { busyRetries: 0 } })];
      const fetches = Array.from({ length: 6 }, () => conns[0]!.stream({ t: 'fetch', objectId: new Uint8Array(32), zone: 'z:owner' }, 'fetch_end', () => undefined).done);
      const outcomes = fetches.map((p) => p.then(() => 'done', (err: Error & { code?: string }) => err.code ?? 'error'));
      const refused = await Promise.all(outcomes.slice(4));
      assert.deepEqual(refused, ['MESH_BUSY', 'MESH_BUSY']);
      assert.equal(server.load.fetchesRunning, 2);
      assert.equal(server.load.fetchesQueued, 2);
      // Other requests are not gated.
      assert.equal((await conns[0]!.request({ t: 'info' })).t, 'ok');
      release.open();
      assert.deepEqual(await Promise.all(outcomes.slice(0, 4)), ['done', 'done', 'done', 'done']);
      assert.equal(peak, 2);
      for (const c of conns) c.close();
    } finally {
      await server.close();
    }
  });
});
