// Bad input gets a typed error with a stable code and harms nothing else.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RaptorQDecoder,
  RaptorQEncoder,
  RaptorQError,
  encodeOti,
  parseOti,
  type Oti,
} from '../../src/raptorq/index.js';
import { bytesEqual, sampleData } from './helpers.js';

function withField(oti: Uint8Array, index: number, value: number): Uint8Array {
  const copy = oti.slice();
  copy[index] = value;
  return copy;
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RaptorQError, `expected a RaptorQError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.ok(err.message.length > 10);
    return true;
  });
}

const good: Oti = { transferLength: 10_000, symbolSize: 64, sourceBlocks: 1, subBlocks: 1, alignment: 8 };

test('impossible OTI values are rejected with RAPTORQ_BAD_OTI', () => {
  const bytes = encodeOti(good);
  assert.deepEqual(parseOti(bytes), good);
  assertCode(() => parseOti(bytes.subarray(0, 11)), 'RAPTORQ_BAD_OTI');
  assertCode(() => parseOti(new Uint8Array(13)), 'RAPTORQ_BAD_OTI');
  assertCode(() => parseOti(new Uint8Array(12)), 'RAPTORQ_BAD_OTI'); // F = 0
  assertCode(() => parseOti(withField(bytes, 11, 0)), 'RAPTORQ_BAD_OTI'); // Al = 0
  assertCode(() => parseOti(withField(bytes, 11, 3)), 'RAPTORQ_BAD_OTI'); // T % Al != 0
  assertCode(() => parseOti(withField(bytes, 8, 0)), 'RAPTORQ_BAD_OTI'); // Z = 0
  assertCode(() => parseOti(withField(bytes, 8, 200)), 'RAPTORQ_BAD_OTI'); // Z > Kt
  assertCode(() => parseOti(withField(bytes, 10, 0)), 'RAPTORQ_BAD_OTI'); // N = 0
  assertCode(() => parseOti(withField(bytes, 10, 9)), 'RAPTORQ_BAD_OTI'); // N > T / Al
  assertCode(() => parseOti(withField(withField(bytes, 6, 0), 7, 0)), 'RAPTORQ_BAD_OTI'); // T = 0
  // 4 GiB in one block of 64-byte symbols: more than K'max symbols per block.
  assertCode(() => encodeOti({ ...good, transferLength: 2 ** 32 }), 'RAPTORQ_BAD_OTI');
  assertCode(() => new RaptorQDecoder(withField(bytes, 8, 0)), 'RAPTORQ_BAD_OTI');
  // A valid but huge object is refused up front instead of failing to allocate later.
  const huge = encodeOti({ transferLength: 900_000_000_000, symbolSize: 65528, sourceBlocks: 255, subBlocks: 1, alignment: 8 });
  assertCode(() => new RaptorQDecoder(huge), 'RAPTORQ_BAD_OTI');
  assertCode(() => new RaptorQDecoder(bytes, { maxTransferLength: 9_999 }), 'RAPTORQ_BAD_OTI');
  assert.equal(new RaptorQDecoder(bytes, { maxTransferLength: 10_000 }).blockCount, 1);
});

test('bad encoder parameters are rejected with RAPTORQ_BAD_PARAMETERS', () => {
  const data = sampleData(1000, 1);
  assertCode(() => new RaptorQEncoder(new Uint8Array(0), { symbolSize: 64 }), 'RAPTORQ_BAD_PARAMETERS');
  assertCode(() => new RaptorQEncoder(data, { symbolSize: 0 }), 'RAPTORQ_BAD_PARAMETERS');
  assertCode(() => new RaptorQEncoder(data, { symbolSize: 70_000 }), 'RAPTORQ_BAD_PARAMETERS');
  assertCode(() => new RaptorQEncoder(data, { symbolSize: 66, alignment: 4 }), 'RAPTORQ_BAD_PARAMETERS');
  assertCode(() => new RaptorQEncoder(data, { symbolSize: 64, maxSubBlockSize: 100 }), 'RAPTORQ_BAD_PARAMETERS');
  assertCode(() => new RaptorQEncoder(sampleData(1 << 20, 1), { symbolSize: 8, maxSubBlockSize: 200 }), 'RAPTORQ_BAD_PARAMETERS');
  assertCode(() => new RaptorQEncoder(data, { ...good, transferLength: 999 }), 'RAPTORQ_BAD_PARAMETERS');
  assertCode(() => RaptorQEncoder.withDefaults(data, 0), 'RAPTORQ_BAD_PARAMETERS');
});

test('SBN and ESI out of range on the encoder', () => {
  const enc = new RaptorQEncoder(sampleData(5000, 2), { symbolSize: 64 });
  assertCode(() => enc.repairPackets(1, 100, 1), 'RAPTORQ_SBN_OUT_OF_RANGE');
  assertCode(() => enc.repairPackets(-1, 100, 1), 'RAPTORQ_SBN_OUT_OF_RANGE');
  assertCode(() => enc.sourceSymbolCount(3), 'RAPTORQ_SBN_OUT_OF_RANGE');
  assertCode(() => enc.repairPackets(0, 2 ** 24 - 1, 2), 'RAPTORQ_ESI_OUT_OF_RANGE');
  assertCode(() => enc.repairPackets(0, -1, 1), 'RAPTORQ_ESI_OUT_OF_RANGE');
  assertCode(() => enc.repairPackets(0, 0, -1), 'RAPTORQ_BAD_PARAMETERS');
  assert.equal(enc.repairPackets(0, 2 ** 24 - 1, 1).length, 1, 'the last ESI itself is fine');
});

test('decoder: wrong length and unknown SBN throw; duplicates are ignored; state survives', () => {
  const data = sampleData(3000, 3);
  const enc = new RaptorQEncoder(data, { symbolSize: 64 });
  const k = enc.sourceSymbolCount(0);
  const dec = new RaptorQDecoder(enc.oti);
  const source = enc.sourcePackets();
  const repair = enc.repairPackets(0, k, 10);
  assert.equal(dec.addPacket(source[0]!), null);
  assertCode(() => dec.addPacket(source[1]!.subarray(0, 60)), 'RAPTORQ_BAD_PACKET');
  assertCode(() => dec.addPacket(new Uint8Array(69)), 'RAPTORQ_BAD_PACKET');
  const wrongSbn = source[1]!.slice();
  wrongSbn[0] = 4;
  assertCode(() => dec.addPacket(wrongSbn), 'RAPTORQ_SBN_OUT_OF_RANGE');
  assert.equal(dec.addPacket(source[0]!), null);
  assert.equal(dec.duplicatePackets, 1);
  assert.equal(dec.receivedCount(0), 1);
  // Too few symbols: null every time, nothing lost.
  for (let i = 2; i < k - 3; i++) assert.equal(dec.addPacket(source[i]!), null);
  assert.equal(dec.addPacket(repair[0]!), null);
  assert.equal(dec.addPacket(repair[0]!), null);
  assert.equal(dec.duplicatePackets, 2);
  let result: Uint8Array | null = null;
  for (let i = 1; i < repair.length && !result; i++) result = dec.addPacket(repair[i]!);
  assert.ok(bytesEqual(result, data));
  assert.ok(dec.isComplete);
  // Source symbol 1 never arrived (its packet was refused), yet the object is whole.
  assert.ok(bytesEqual(dec.addPacket(source[1]!), data), 'after completion the object is returned again');
});

test('fast path: all K source symbols need no solve and give the object at once', () => {
  const data = sampleData(50_000, 4);
  const enc = new RaptorQEncoder(data, { symbolSize: 100, alignment: 4 });
  const dec = new RaptorQDecoder(enc.oti);
  const source = enc.sourcePackets().reverse();
  let result: Uint8Array | null = null;
  for (const [i, p] of source.entries()) {
    result = dec.addPacket(p);
    if (i < source.length - 1) assert.equal(result, null);
  }
  assert.ok(bytesEqual(result, data));
});

test('addSymbol takes SBN, ESI and a bare symbol, with the same rules as addPacket', () => {
  const data = sampleData(40_000, 6);
  const enc = new RaptorQEncoder(data, { symbolSize: 200, maxSubBlockSize: 8000, minSubSymbolSize: 200 });
  assert.ok(enc.blockCount > 1);
  const dec = new RaptorQDecoder(enc.oti);
  const symbol = (p: Uint8Array): Uint8Array => p.subarray(4);
  assertCode(() => dec.addSymbol(0, 0, new Uint8Array(199)), 'RAPTORQ_BAD_PACKET');
  assertCode(() => dec.addSymbol(enc.blockCount, 0, new Uint8Array(200)), 'RAPTORQ_SBN_OUT_OF_RANGE');
  assertCode(() => dec.addSymbol(0, 2 ** 24, new Uint8Array(200)), 'RAPTORQ_ESI_OUT_OF_RANGE');
  assertCode(() => dec.addSymbol(0, -1, new Uint8Array(200)), 'RAPTORQ_ESI_OUT_OF_RANGE');
  let result: Uint8Array | null = null;
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    // Half the source symbols plus repair symbols, through addSymbol and addPacket alternately.
    const packets = [...enc.blockSourcePackets(sbn).filter((_, i) => i % 2 === 0), ...enc.repairPackets(sbn, k, Math.ceil(k / 2) + 2)];
    packets.forEach((p, i) => {
      const r = i % 2 === 0 ? dec.addSymbol(sbn, (p[1]! << 16) | (p[2]! << 8) | p[3]!, symbol(p)) : dec.addPacket(p);
      result = r ?? result;
    });
  }
  assert.ok(bytesEqual(result, data));
});
