// The worker pool codes off the event loop and gives the same packets as the in-thread codec.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaptorQEncoder, RaptorQWorkerPool, closeSharedWorkerPool, decodeInWorker, encodeInWorker, packetEsi } from '../../src/raptorq/index.js';
import { bytesEqual, sampleData, seededRandom, shuffle } from './helpers.js';

test('pool round trip: encode and decode in workers, packets identical to in-thread encoding', async () => {
  const pool = new RaptorQWorkerPool(2);
  try {
    const data = sampleData(3 << 20, 77);
    const { oti, packets } = await pool.encode(data, { symbolSize: 1024 }, { repairPerBlock: 50 });
    const local = new RaptorQEncoder(data, { symbolSize: 1024 });
    assert.deepEqual(oti, local.oti);
    const k = local.sourceSymbolCount(0);
    assert.equal(packets.length, local.blockCount * 50 + local.sourcePackets().length);
    assert.ok(bytesEqual(packets[k + 7]!, local.repairPackets(0, k + 7, 1)[0]!));
    // Lose 40 source packets, keep the repair ones, shuffle.
    const random = seededRandom(5);
    const lost = new Set(shuffle([...Array(k).keys()], random).slice(0, 40));
    const kept = shuffle(packets.filter((p) => !lost.has(packetEsi(p))), random);
    // Two jobs at once run on both workers.
    const [a, b] = await Promise.all([pool.decode(oti, kept), pool.decode(oti, kept.slice(0, k - 100))]);
    assert.ok(bytesEqual(a, data));
    assert.equal(b, null, 'too few packets decode to null');
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.encode(new Uint8Array(10), { mtu: 100 }), { code: 'RAPTORQ_WORKER_FAILED' });
});

test('typed errors cross the thread boundary', async () => {
  const pool = new RaptorQWorkerPool(1);
  try {
    await assert.rejects(pool.encode(new Uint8Array(100), { symbolSize: 10, alignment: 4 }), { code: 'RAPTORQ_BAD_PARAMETERS' });
    await assert.rejects(pool.decode(new Uint8Array(12), []), { code: 'RAPTORQ_BAD_OTI' });
    const { oti } = await pool.encode(new Uint8Array(100), { mtu: 64 });
    await assert.rejects(pool.decode(oti, [new Uint8Array(5)]), { code: 'RAPTORQ_BAD_PACKET' });
  } finally {
    await pool.close();
  }
});

test('shared pool helpers with reference-default parameters', async () => {
  const data = sampleData(100_000, 8);
  const { oti, packets } = await encodeInWorker(data, { mtu: 1280 }, { repairPerBlock: 5 });
  assert.deepEqual(oti, RaptorQEncoder.withDefaults(data, 1280).oti);
  const result = await decodeInWorker(oti, packets.slice(3));
  assert.ok(bytesEqual(result, data));
  await closeSharedWorkerPool();
});

test('closing the pool under a running job fails that job with RAPTORQ_WORKER_FAILED', async () => {
  const pool = new RaptorQWorkerPool(1);
  const job = pool.encode(sampleData(8 << 20, 3), { symbolSize: 1024 }, { repairPerBlock: 100 });
  const queued = pool.decode(new RaptorQEncoder(new Uint8Array(10), { symbolSize: 8 }).oti, []);
  const jobFails = assert.rejects(job, { code: 'RAPTORQ_WORKER_FAILED' });
  const queuedFails = assert.rejects(queued, { code: 'RAPTORQ_WORKER_FAILED' });
  await pool.close();
  await jobFails;
  await queuedFails;
});
