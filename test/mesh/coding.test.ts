import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { makeSealedSymbols, makeSymbols, WORKER_THRESHOLD } from '../../src/mesh/coding.js';
import { codeAndSeal, codeSymbols } from '../../src/mesh/coding-core.js';
import { ENVELOPE_OVERHEAD, SymbolSealer, generateZoneKey, openSymbol } from '../../src/crypto/index.js';
import { RaptorQDecoder, RaptorQEncoder } from '../../src/raptorq/index.js';

test('the coding worker makes the same symbols as inline coding, and they decode', async () => {
  const data = new Uint8Array(randomBytes(WORKER_THRESHOLD * 2 + 12345));
  const enc = new RaptorQEncoder(data, { symbolSize: 8192, alignment: 8, maxSubBlockSize: 1 << 30 });
  const k = enc.sourceSymbolCount(0);
  const requests = [{ sbn: 0, firstEsi: 10, count: k }]; // 10 source symbols skipped: decoding needs repair symbols
  const viaWorker = await makeSymbols(data, enc.oti, requests);
  const inline = codeSymbols(data, enc.oti, requests);
  assert.deepEqual(viaWorker.esis, inline.esis);
  assert.deepEqual(Buffer.from(viaWorker.bytes), Buffer.from(inline.bytes));
  assert.deepEqual([...viaWorker.esis.slice(0, 3)], [10, 11, 12]);
  const dec = new RaptorQDecoder(enc.oti);
  let out: Uint8Array | null = null;
  for (let i = 0; i < viaWorker.esis.length && !out; i++) {
    out = dec.addSymbol(0, viaWorker.esis[i]!, viaWorker.bytes.subarray(i * viaWorker.symbolSize, (i + 1) * viaWorker.symbolSize));
  }
  if (!out) {
    const more = codeSymbols(data, enc.oti, [{ sbn: 0, firstEsi: 10 + k, count: 4 }]);
    for (let i = 0; i < more.esis.length && !out; i++) out = dec.addSymbol(0, more.esis[i]!, more.bytes.subarray(i * more.symbolSize, (i + 1) * more.symbolSize));
  }
  assert.ok(out);
  assert.deepEqual(Buffer.from(out), Buffer.from(data));
});

test('a coding failure in the worker is a typed error, and the worker keeps serving', async () => {
  const data = new Uint8Array(WORKER_THRESHOLD + 1);
  const enc = new RaptorQEncoder(data, { symbolSize: 4096 });
  await assert.rejects(makeSymbols(data, enc.oti, [{ sbn: 5, firstEsi: 0, count: 1 }]), (err: Error & { code?: string }) => err.code === 'MESH_STORE_FAILED');
  const ok = await makeSymbols(data, enc.oti, [{ sbn: 0, firstEsi: 0, count: 2 }]);
  assert.equal(ok.esis.length, 2);
});

test('coding and sealing in the worker gives the envelopes of the inline path; they open to the coded symbols; the subkey is wiped', async () => {
  const data = new Uint8Array(randomBytes(WORKER_THRESHOLD + 777));
  const enc = new RaptorQEncoder(data, { symbolSize: 4096, alignment: 8, maxSubBlockSize: 1 << 30 });
  const k = enc.sourceSymbolCount(0);
  const requests = [{ sbn: 0, firstEsi: 0, count: k + 20 }];
  const zk = generateZoneKey('z:private');
  const objectId = new Uint8Array(randomBytes(32));
  const sealer = new SymbolSealer('nodeC3CNTRL', 7n);
  const run = sealer.reserveRun(zk, objectId, k + 20);
  const same = { ...run, subkey: run.subkey.slice() };
  const viaWorker = await makeSealedSymbols(data, enc.oti, requests, run);
  assert.ok(run.subkey.every((b) => b === 0), 'the caller\'s copy of the subkey is zeroed');
  const inline = codeAndSeal(data, enc.oti, requests, same);
  assert.equal(viaWorker.envelopeSize, 4096 + ENVELOPE_OVERHEAD);
  assert.deepEqual(Buffer.from(viaWorker.envelopes), Buffer.from(inline.envelopes));
  const plain = codeSymbols(data, enc.oti, requests);
  for (const i of [0, k - 1, k, k + 19]) {
    const env = viaWorker.envelopes.subarray(i * viaWorker.envelopeSize, (i + 1) * viaWorker.envelopeSize);
    const opened = openSymbol(zk, env, { objectId, sbn: 0, esi: viaWorker.esis[i]!, zoneId: 'z:private' });
    assert.deepEqual(Buffer.from(opened), Buffer.from(plain.bytes.subarray(i * 4096, (i + 1) * 4096)));
  }
});
