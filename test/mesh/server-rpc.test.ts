// The client side of the in-flight limit: a large fan-out on one connection waits for capacity
// instead of drawing MESH_BUSY, busy replies are retried a bounded number of times, and a
// request stopped while it waits locally never reaches the server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/wire/index.js';
import type { RequestContext } from '../../src/mesh/server.js';
import { MAX_IN_FLIGHT_PER_CONNECTION } from '../../src/mesh/limits.js';
import { latch, rpc, startServer } from './server-fixture.js';

/** A handler that counts requests running at once; each waits for `hold` before answering. */
function counting(hold: () => Promise<void>) {
  const seen = { running: 0, peak: 0, total: 0 };
  const handle = async (_ctx: RequestContext, _msg: Message) => {
    seen.running++;
    seen.total++;
    seen.peak = Math.max(seen.peak, seen.running);
    try {
      await hold();
    } finally {
      seen.running--;
    }
    return { t: 'ok' };
  };
  return { seen, handle };
}

describe('client in-flight limit', () => {
  test('1,000 requests on one connection all succeed, never more than the server allows at once', async () => {
    const full = latch();
    let started = 0;
    const { seen, handle } = counting(async () => {
      // Nobody answers until the connection is as full as the client lets it be.
      if (++started >= MAX_IN_FLIGHT_PER_CONNECTION) full.open();
      await full.promise;
    });
    const server = await startServer(handle);
    try {
      const conn = await rpc(server);
      const replies = await Promise.allSettled(Array.from({ length: 1000 }, () => conn.request({ t: 'have', objectId: new Uint8Array(32) })));
      const failed = replies.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as Error & { code?: string }).code);
      assert.deepEqual(failed, [], 'no request was refused');
      assert.equal(seen.total, 1000);
      assert.equal(seen.peak, MAX_IN_FLIGHT_PER_CONNECTION);
      assert.deepEqual(conn.load, { inFlight: 0, queued: 0 });
      conn.close();
    } finally {
      await server.close();
    }
  });

  test('MESH_BUSY is retried with backoff until the server has room', async () => {
    const { seen, handle } = counting(() => new Promise((r) => setImmediate(r)));
    const server = await startServer(handle, { maxInFlight: 2 });
    try {
      const conn = await rpc(server);
      const replies = await Promise.all(Array.from({ length: 6 }, () => conn.request({ t: 'have', objectId: new Uint8Array(32) })));
      assert.deepEqual(replies.map((r) => r.t), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
      assert.ok(seen.peak <= 2, `the server ran ${seen.peak} at once`);
      conn.close();
    } finally {
      await server.close();
    }
  });

  test('busy retries are bounded: a server that stays busy yields MESH_BUSY', async () => {
    const stuck = latch();
    const { handle } = counting(() => stuck.promise);
    const server = await startServer(handle, { maxInFlight: 1 });
    try {
      const conn = await rpc(server, { requestTimeoutMs: 5_000, limits: { busyRetries: 3, busyBackoffMs: 10 } });
      const first = conn.request({ t: 'have', objectId: new Uint8Array(32) });
      await assert.rejects(conn.request({ t: 'have', objectId: new Uint8Array(32) }), (err: Error & { code?: string }) => err.code === 'MESH_BUSY');
      stuck.open();
      assert.equal((await first).t, 'ok');
      conn.close();
    } finally {
      await server.close();
    }
  });

  test('a stream stopped while it waits on this side never reaches the server', async () => {
    const gate = latch();
    const { seen, handle } = counting(() => gate.promise);
    const server = await startServer(async (ctx, msg) => {
      await handle(ctx, msg);
      return { t: 'fetch_end', count: 0 };
    });
    try {
      const conn = await rpc(server, { limits: { maxInFlight: 1 } });
      const fetch = () => conn.stream({ t: 'fetch', objectId: new Uint8Array(32), zone: 'z:owner' }, 'fetch_end', () => undefined);
      const a = fetch();
      const b = fetch();
      assert.deepEqual(conn.load, { inFlight: 1, queued: 1 });
      conn.send({ t: 'stop', target: b.id });
      await assert.rejects(b.done, (err: Error & { code?: string }) => err.code === 'MESH_CLOSED');
      gate.open();
      assert.equal((await a.done).t, 'fetch_end');
      assert.equal(seen.total, 1, 'the stopped request was never sent');
      conn.close();
    } finally {
      await server.close();
    }
  });
});
