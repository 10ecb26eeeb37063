// The connection pool under a fan-out: when the pooled connection has closed, a burst of
// requests opens one new connection, not one each (which the server's per-address limit refuses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionPool } from '../../src/mesh/pool.js';
import { MEMBER, closedWithin, startServer, until } from './server-fixture.js';

test('200 requests finding the pooled connection closed share one new connection', async () => {
  const server = await startServer(async () => ({ t: 'ok' }), { maxConnectionsPerAddress: 4 });
  const pool = new ConnectionPool({ localAddress: MEMBER, port: server.port });
  try {
    const first = await pool.get('127.0.0.1');
    assert.equal((await first.request({ t: 'info' })).t, 'ok');
    const closed = closedWithin(first.socket, 2_000);
    first.close();
    await closed;
    const replies = await Promise.all(Array.from({ length: 200 }, async () => (await pool.get('127.0.0.1')).request({ t: 'info' })));
    assert.equal(replies.length, 200);
    assert.ok(replies.every((r) => r.t === 'ok'));
    await until('the first connection to leave the server', () => server.connections <= 1, 2_000);
    assert.equal(server.connections, 1, 'one connection serves the whole burst');
  } finally {
    pool.closeAll();
    await server.close();
  }
});
