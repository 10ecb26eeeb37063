// Replies of the FCP server against peers that go away or stop reading: nothing is thrown into
// the void, and queued reply bytes stay within the per-connection and per-daemon budgets.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { encodeFrame, type Message } from '../../src/wire/index.js';
import type { FcpServer, RequestContext } from '../../src/mesh/server.js';
import { latch, rawSocket, rpc, startServer } from './server-fixture.js';

const FRAME_BODY = new Uint8Array(512 * 1024);
const frame = (msg: Record<string, unknown>) => encodeFrame(msg as unknown as Message);

describe('replies to connections that closed', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  after(() => process.off('unhandledRejection', onUnhandled));

  test('a store and a streaming fetch whose caller closed first are dropped, and send rejects with MESH_CLOSED', async () => {
    const gate = latch();
    const sendFailed = latch();
    let sendError: (Error & { code?: string }) | undefined;
    const server = await startServer(async (ctx: RequestContext, msg: Message) => {
      if (msg.t === 'fetch') {
        try {
          // This handler ignores its signal: a send to a closed connection must stop it.
          for (let i = 0; i < 1000; i++) await ctx.send({ t: 'secret_result', body: FRAME_BODY });
        } catch (err) {
          sendError = err as Error & { code?: string };
          sendFailed.open();
          throw err;
        }
        return { t: 'fetch_end', count: 0 };
      }
      if (msg.t === 'info') return { t: 'ok' };
      await gate.promise;
      return { t: 'ok' };
    });
    try {
      const socket = await rawSocket(server);
      socket.write(frame({ v: 1, t: 'store', id: 1, objectId: new Uint8Array(32), zone: 'z:owner', symbols: [] }));
      socket.write(frame({ v: 1, t: 'fetch', id: 2, objectId: new Uint8Array(32), zone: 'z:owner' }));
      socket.end();
      await sendFailed.promise;
      assert.equal(sendError?.code, 'MESH_CLOSED');
      gate.open(); // the store now answers a connection that is gone
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, [], 'no reply to a closed connection escapes as an unhandled rejection');
      const conn = await rpc(server);
      assert.equal((await conn.request({ t: 'info' })).t, 'ok', 'the server goes on serving');
      conn.close();
      assert.equal(server.load.replyBytes, 0);
      assert.equal(server.load.inboundBytes, 0);
    } finally {
      await server.close();
    }
  });
});

describe('reply backpressure', () => {
  /** A fetch handler streaming 512 KiB frames; records the budgets' peak as it goes. */
  function streamingServer(limits: Parameters<typeof startServer>[1]) {
    const peak = { replyBytes: 0, arrayBuffers: 0 };
    const closedSends = latch();
    let failures = 0;
    let server!: FcpServer;
    const handle = async (ctx: RequestContext, msg: Message) => {
      if (msg.t !== 'fetch') return { t: 'ok' };
      try {
        for (let i = 0; i < 400 && !ctx.signal.aborted; i++) {
          peak.replyBytes = Math.max(peak.replyBytes, server.load.replyBytes);
          peak.arrayBuffers = Math.max(peak.arrayBuffers, process.memoryUsage().arrayBuffers);
          await ctx.send({ t: 'secret_result', body: FRAME_BODY });
        }
      } catch (err) {
        failures++;
        closedSends.open();
        throw err;
      }
      return { t: 'fetch_end', count: 0 };
    };
    return {
      peak,
      closedSends,
      failures: () => failures,
      start: async () => (server = await startServer(handle, limits)),
    };
  }

  async function neverReading(server: FcpServer, fetches: number, from?: string): Promise<net.Socket> {
    const socket = await rawSocket(server, from);
    socket.pause();
    for (let id = 1; id <= fetches; id++) socket.write(frame({ v: 1, t: 'fetch', id, objectId: new Uint8Array(32), zone: 'z:owner' }));
    return socket;
  }

  test('a caller that never reads holds at most the per-connection reply cap and is closed at the write deadline', async () => {
    const cap = 1024 * 1024;
    const s = streamingServer({ maxReplyBytesPerConnection: cap, writeDeadlineMs: 1500, maxFetchesInFlight: 128 });
    const server = await s.start();
    const base = process.memoryUsage().arrayBuffers;
    try {
      const socket = await neverReading(server, 128);
      await s.closedSends.promise; // the deadline closed the connection and the sends failed
      assert.ok(s.peak.replyBytes <= cap + FRAME_BODY.length + 64, `reply bytes queued peaked at ${s.peak.replyBytes}`);
      assert.ok(s.peak.arrayBuffers - base < 48 * 1024 * 1024, `buffers grew by ${((s.peak.arrayBuffers - base) / 2 ** 20).toFixed(1)} MiB for 128 never-read streams`);
      socket.destroy();
      assert.equal(server.load.replyBytes, 0, 'a closed connection gives its reply bytes back');
    } finally {
      await server.close();
    }
  });

  test('reply bytes over all connections stay within the daemon budget', async () => {
    const daemonCap = 2 * 1024 * 1024;
    const s = streamingServer({ maxReplyBytesPerConnection: 1024 * 1024, maxReplyBytes: daemonCap, writeDeadlineMs: 1500 });
    const server = await s.start();
    try {
      const sockets = await Promise.all(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'].map((ip) => neverReading(server, 8, ip)));
      await s.closedSends.promise;
      assert.ok(s.peak.replyBytes <= daemonCap + FRAME_BODY.length + 64, `reply bytes queued peaked at ${s.peak.replyBytes}`);
      for (const so of sockets) so.destroy();
    } finally {
      await server.close();
    }
  });

  test('a slow reader still receives every frame of its stream', async () => {
    const s = streamingServer({ maxReplyBytesPerConnection: 1024 * 1024 });
    const server = await s.start();
    try {
      const conn = await rpc(server);
      let items = 0;
      const stream = conn.stream({ t: 'fetch', objectId: new Uint8Array(32), zone: 'z:owner' }, 'fetch_end', () => {
        items++;
        if (items % 50 === 0) {
          conn.socket.pause();
          setImmediate(() => conn.socket.resume());
        }
      });
      await stream.done;
      assert.equal(items, 400);
      assert.equal(s.failures(), 0);
      conn.close();
    } finally {
      await server.close();
    }
  });
});
