import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedBufferPool } from '../../src/mesh/shared-buffers.js';
import { setTimeout as delay } from 'node:timers/promises';

test('a buffer given back is reused for a request of about its size, never handed out twice, and the idle cap holds', () => {
  const pool = new SharedBufferPool(3 * 1024 * 1024);
  const a = pool.take(1_000_000);
  assert.equal(a.length, 1_000_000);
  assert.ok(a.buffer instanceof SharedArrayBuffer);
  pool.give(a);
  pool.give(a); // a second give of the same buffer must not let two takers share it
  assert.equal(pool.idleBytes, a.buffer.byteLength);
  const b = pool.take(900_000);
  assert.equal(b.buffer, a.buffer, 'reused');
  assert.equal(b.length, 900_000);
  const c = pool.take(900_000);
  assert.notEqual(c.buffer, b.buffer, 'a buffer in use is not handed out again');
  pool.give(b);
  // Much smaller requests do not take a large buffer a large chunk could use.
  assert.notEqual(pool.take(10_000).buffer, b.buffer);
  // Nor does a larger one take a buffer too small for it.
  assert.notEqual(pool.take(2_000_000).buffer, b.buffer);
  // Idle buffers beyond the cap are dropped, not kept.
  pool.give(c);
  pool.give(pool.take(2_900_000));
  assert.ok(pool.idleBytes <= 3 * 1024 * 1024);
  // Only shared buffers (the pool's own kind) are taken back.
  const before = pool.idleBytes;
  pool.give(new Uint8Array(1000));
  assert.equal(pool.idleBytes, before);
});

test('idle buffers are dropped once nothing was given back for a while', async () => {
  const pool = new SharedBufferPool(8 * 1024 * 1024, 50);
  const a = pool.take(1_000_000);
  pool.give(a);
  assert.ok(pool.idleBytes > 0);
  // Bounded wait for the pool's own idle timer (50 ms), polled every 10 ms for at most 5 s.
  for (let i = 0; i < 500 && pool.idleBytes > 0; i++) await delay(10);
  assert.equal(pool.idleBytes, 0);
  assert.notEqual(pool.take(1_000_000).buffer, a.buffer, 'a dropped buffer is not handed out again');
});
