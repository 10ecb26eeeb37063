// The byte budget and the gate the server bounds itself with: arrival order, an oversized
// item passing an empty budget, cancelled waiters giving way, a full queue refusing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBudget } from '../../src/mesh/budget.js';
import { Gate } from '../../src/mesh/gate.js';

describe('byte budget', () => {
  test('waiters are served in arrival order, and a small one does not overtake a large one', async () => {
    const b = new ByteBudget(100);
    assert.ok(b.tryTake(80));
    const order: string[] = [];
    const big = b.acquire(60).then(() => order.push('big'));
    const small = b.acquire(10).then(() => order.push('small'));
    assert.equal(b.tryTake(5), false, 'nobody jumps the queue');
    b.release(80);
    await Promise.all([big, small]);
    assert.deepEqual(order, ['big', 'small']);
    assert.equal(b.inUse, 70);
  });

  test('an item larger than the whole budget passes when the budget is empty', async () => {
    const b = new ByteBudget(10);
    assert.ok(b.tryTake(5));
    const huge = b.acquire(50);
    b.release(5);
    await huge;
    assert.equal(b.inUse, 50);
    assert.equal(b.withinLimit, false);
  });

  test('an aborted waiter rejects with MESH_CLOSED and the next one gets its turn', async () => {
    const b = new ByteBudget(10);
    b.force(10);
    const ac = new AbortController();
    const first = b.acquire(8, ac.signal);
    const second = b.acquire(2);
    ac.abort();
    await assert.rejects(first, (err: Error & { code?: string }) => err.code === 'MESH_CLOSED');
    b.release(2);
    await second;
    assert.equal(b.inUse, 10);
  });
});

describe('gate', () => {
  test('holders up to the concurrency, then a bounded queue, then MESH_BUSY', async () => {
    const g = new Gate(1, 1, 'fetches');
    const a = await g.enter();
    const queued = g.enter();
    await assert.rejects(g.enter(), (err: Error & { code?: string }) => err.code === 'MESH_BUSY');
    assert.equal(g.waiting, 1);
    a();
    a(); // releasing twice frees one slot only
    const b = await queued;
    assert.equal(g.running, 1);
    b();
    assert.equal(g.running, 0);
  });

  test('a queued entry whose signal aborts leaves the queue', async () => {
    const g = new Gate(1, 4, 'fetches');
    const a = await g.enter();
    const ac = new AbortController();
    const cancelled = g.enter(ac.signal);
    const next = g.enter();
    ac.abort();
    await assert.rejects(cancelled, (err: Error & { code?: string }) => err.code === 'MESH_CLOSED');
    a();
    (await next)();
    assert.equal(g.running, 0);
    assert.equal(g.waiting, 0);
  });
});
