// Round trips over parameters the reference build cannot produce (sub-blocks N > 1, alignments
// 1 and 4, several source blocks from a small sub-block limit), and the RFC's own properties.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RaptorQDecoder,
  RaptorQEncoder,
  blockParams,
  encodeOti,
  packetSbn,
  parseOti,
  type Oti,
} from '../../src/raptorq/index.js';
import { IntermediateSymbols } from '../../src/raptorq/intermediate.js';
import { allKPrimes } from '../../src/raptorq/params.js';
import { bytesEqual, sampleData, seededRandom, shuffle } from './helpers.js';

/** Feeds a lossy, shuffled stream; adds repair packets one at a time until the object is back. */
function decodeWithLoss(enc: RaptorQEncoder, loss: number, random: () => number): { result: Uint8Array | null; extra: number } {
  const dec = new RaptorQDecoder(enc.oti);
  const stream: Uint8Array[] = [];
  const nextRepair: number[] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    const kept = enc.blockSourcePackets(sbn).filter(() => random() >= loss);
    const firstRepair = k + Math.floor(random() * 1000);
    stream.push(...kept, ...enc.repairPackets(sbn, firstRepair, k - kept.length));
    nextRepair.push(firstRepair + k - kept.length);
  }
  let result: Uint8Array | null = null;
  for (const p of shuffle(stream, random)) result = dec.addPacket(p) ?? result;
  let extra = 0;
  while (!result && extra < 20) {
    for (let sbn = 0; sbn < enc.blockCount && !result; sbn++) {
      if (dec.isBlockComplete(sbn)) continue;
      result = dec.addPacket(enc.repairPackets(sbn, nextRepair[sbn]!++, 1)[0]!);
      extra++;
    }
  }
  return { result, extra };
}

test('round trip over random sizes, alignments 1/4/8, sub-blocks and source blocks', () => {
  const random = seededRandom(42);
  let sawSubBlocks = 0;
  let sawBlocks = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60_000 }),
      fc.constantFrom(1, 4, 8),
      fc.integer({ min: 1, max: 24 }),
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 0, max: 2 }),
      (size, alignment, units, subLimit, lossIndex) => {
        const symbolSize = alignment * units;
        // A small WS forces N > 1 and Z > 1; the floor keeps at least 10 sub-symbols per sub-block.
        const maxSubBlockSize = Math.max(10 * symbolSize, subLimit * 2048);
        const enc = new RaptorQEncoder(sampleData(size, size), { symbolSize, alignment, maxSubBlockSize, minSubSymbolSize: alignment });
        const oti = parseOti(enc.oti);
        if (oti.subBlocks > 1) sawSubBlocks++;
        if (oti.sourceBlocks > 1) sawBlocks++;
        const { result } = decodeWithLoss(enc, [0, 0.2, 0.5][lossIndex]!, random);
        assert.ok(bytesEqual(result, sampleData(size, size)), `size ${size} T ${symbolSize} Al ${alignment} N ${oti.subBlocks} Z ${oti.sourceBlocks}`);
      },
    ),
    { numRuns: 120, seed: 20240601 },
  );
  assert.ok(sawSubBlocks > 10, `only ${sawSubBlocks} runs had sub-blocks`);
  assert.ok(sawBlocks > 10, `only ${sawBlocks} runs had several source blocks`);
});

test('OTI serialization round-trips every field', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 946270874880 }),
      fc.constantFrom(1, 2, 4, 8),
      fc.integer({ min: 1, max: 8000 }),
      (transferLength, alignment, units) => {
        const symbolSize = alignment * units;
        const kt = Math.ceil(transferLength / symbolSize);
        const sourceBlocks = Math.min(255, kt, Math.max(1, Math.ceil(kt / 56403)));
        fc.pre(Math.ceil(kt / sourceBlocks) <= 56403);
        const oti: Oti = { transferLength, symbolSize, sourceBlocks, subBlocks: Math.min(units, 3), alignment };
        assert.deepEqual(parseOti(encodeOti(oti)), oti);
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});

test('systematic property: encoding symbol ISI i < K is source symbol i; padding symbols are zero', () => {
  const kPrimes = allKPrimes().filter((k) => k <= 1200);
  const ks = [...new Set([1, 2, 5, 9, ...kPrimes, ...kPrimes.map((k) => k + 1).filter((k) => k <= 1200)])];
  const random = seededRandom(3);
  for (const k of ks) {
    const params = blockParams(k);
    const t = 8 + 4 * Math.floor(random() * 4);
    const source = sampleData(k * t, k);
    const symbols = IntermediateSymbols.encode(params, t, (buffer, row, esi) => buffer.setRow(row, source, esi * t));
    const isis = Array.from({ length: params.kPrime }, (_, i) => i);
    symbols.encodeMany(isis, (isi, buffer, offset) => {
      const bytes = buffer.subarray(offset, offset + t);
      if (isi < k) assert.ok(bytesEqual(bytes, source.subarray(isi * t, isi * t + t)), `K=${k} isi=${isi}`);
      else assert.ok(bytes.every((b) => b === 0), `K=${k} padding isi=${isi} not zero`);
    });
  }
});

test('source packets are the object bytes themselves (N = 1)', () => {
  const data = sampleData(10_000, 9);
  const enc = new RaptorQEncoder(data, { symbolSize: 96 });
  const joined = Buffer.concat(enc.sourcePackets().map((p) => p.subarray(4)));
  assert.ok(bytesEqual(joined.subarray(0, data.length), data));
  assert.ok(joined.subarray(data.length).every((b) => b === 0), 'padding of the last symbol is zero');
});

test('decodes from repair packets only, and with blocks interleaved in any order', () => {
  const data = sampleData(200_000, 5);
  const enc = new RaptorQEncoder(data, { symbolSize: 256, maxSubBlockSize: 40_000, minSubSymbolSize: 256 });
  assert.ok(enc.blockCount > 3);
  const packets: Uint8Array[] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    packets.push(...enc.repairPackets(sbn, k + 100, k + 3));
  }
  const dec = new RaptorQDecoder(enc.oti);
  let result: Uint8Array | null = null;
  let decodedAt = -1;
  for (const [i, p] of shuffle(packets, seededRandom(1)).entries()) {
    const r = dec.addPacket(p);
    if (r && !result) decodedAt = i;
    result = r ?? result;
  }
  assert.ok(bytesEqual(result, data));
  assert.ok(decodedAt >= 0 && decodedAt < packets.length);
  assert.equal(packetSbn(packets[0]!) < enc.blockCount, true);
});

for (const symbolSize of [16, 1024]) {
  // T = 16 runs on the TypeScript kernel, T = 1024 on the SIMD kernel's memory.
  test(`K received symbols usually suffice; a failed attempt keeps every symbol (T = ${symbolSize})`, () => {
    const random = seededRandom(99 + symbolSize);
    const data = sampleData(20 * symbolSize, 1);
    const enc = new RaptorQEncoder(data, { symbolSize });
    const k = enc.sourceSymbolCount(0);
    let failures = 0;
    for (let trial = 0; trial < 3000 && failures < 3; trial++) {
      const pool = shuffle([...enc.blockSourcePackets(0), ...enc.repairPackets(0, k, 3 * k)], random);
      const dec = new RaptorQDecoder(enc.oti);
      let result: Uint8Array | null = null;
      for (let i = 0; i < k; i++) result = dec.addPacket(pool[i]!);
      if (result) {
        assert.ok(bytesEqual(result, data));
        continue;
      }
      // Rank-deficient with exactly K: nothing is lost, a few more symbols finish it.
      failures++;
      assert.equal(dec.receivedCount(0), k);
      for (let i = k; i < pool.length && !result; i++) result = dec.addPacket(pool[i]!);
      assert.ok(bytesEqual(result, data));
    }
    assert.ok(failures >= 1, 'expected at least one rank-deficient draw among 3000 tries at K = 20');
  });
}

test('decoders reusing released kernel memory start from clean rows', () => {
  // Alternate large and small objects so reused memories are larger than needed.
  for (const [i, size] of [400_000, 60_000, 900_000, 30_000, 400_000, 120_000].entries()) {
    const data = sampleData(size, 1000 + i);
    const enc = new RaptorQEncoder(data, { symbolSize: 512 });
    const { result } = decodeWithLoss(enc, 0.3, seededRandom(i));
    assert.ok(bytesEqual(result, data), `object ${i} of ${size} bytes`);
  }
});

test('the WebAssembly SIMD kernel and the TypeScript kernel give identical symbols', async () => {
  const { setKernelMode, simdAvailable } = await import('../../src/raptorq/simd-kernel.js');
  assert.ok(simdAvailable(), 'Node 20 supports WebAssembly SIMD');
  try {
    for (const [size, symbolSize, alignment] of [[5000, 48, 8], [70_000, 100, 4], [300_000, 1280, 8], [123_457, 33, 1]] as const) {
      const data = sampleData(size, size);
      const run = (mode: 'portable' | 'simd'): Uint8Array[] => {
        setKernelMode(mode);
        const enc = new RaptorQEncoder(data, { symbolSize, alignment });
        const k = enc.sourceSymbolCount(0);
        return enc.repairPackets(0, k, 40);
      };
      const portable = run('portable');
      const simd = run('simd');
      portable.forEach((p, i) => assert.ok(bytesEqual(p, simd[i]!), `size ${size} T ${symbolSize}: repair ${i} differs`));
      // Decoding on the SIMD path from repair-heavy input.
      setKernelMode('simd');
      const enc = new RaptorQEncoder(data, { symbolSize, alignment });
      const { result } = decodeWithLoss(enc, 0.5, seededRandom(size));
      assert.ok(bytesEqual(result, data));
    }
  } finally {
    setKernelMode('auto');
  }
});

test('an encoder makes the same repair symbols after releaseBlock, and different ESIs give different symbols', () => {
  const data = sampleData(500_000, 12);
  const enc = new RaptorQEncoder(data, { symbolSize: 1000 });
  const k = enc.sourceSymbolCount(0);
  const first = enc.repairPackets(0, k + 5, 20);
  enc.releaseBlock(0);
  // Another object reuses the released memory in between.
  new RaptorQEncoder(sampleData(400_000, 13), { symbolSize: 1000 }).repairPackets(0, 400, 3);
  const again = enc.repairPackets(0, k + 5, 20);
  first.forEach((p, i) => assert.ok(bytesEqual(p, again[i]!), `repair ${i} changed after release`));
  assert.ok(!bytesEqual(first[0]!.subarray(4), first[1]!.subarray(4)));
  // A single packet asked for alone equals the same ESI from a batch.
  assert.ok(bytesEqual(enc.repairPackets(0, k + 12, 1)[0]!, first[7]!));
});

test('an encoder of several blocks parks the blocks it is not working on; their repair symbols do not change', () => {
  const data = sampleData(600_000, 15);
  const enc = new RaptorQEncoder(data, { symbolSize: 1000, maxSubBlockSize: 250_000, minSubSymbolSize: 1000 });
  assert.ok(enc.blockCount >= 3);
  const first = [0, 1, 2].map((sbn) => enc.repairPackets(sbn, enc.sourceSymbolCount(sbn), 12));
  // Block 2 is live, 0 and 1 are parked; their kernel memories went to the pool, and another
  // encoder now leaves its own bytes in them.
  new RaptorQEncoder(sampleData(450_000, 14), { symbolSize: 1000 }).repairPackets(0, 450, 30);
  for (const sbn of [0, 2, 1, 0]) {
    const again = enc.repairPackets(sbn, enc.sourceSymbolCount(sbn), 12);
    first[sbn]!.forEach((p, i) => assert.ok(bytesEqual(p, again[i]!), `block ${sbn} repair ${i} changed after parking`));
  }
  const dec = new RaptorQDecoder(enc.oti);
  let result: Uint8Array | null = null;
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    const packets = [...enc.blockSourcePackets(sbn).slice(12), ...enc.repairPackets(sbn, k, 14)];
    for (const p of packets) result = dec.addPacket(p) ?? result;
  }
  assert.ok(result && bytesEqual(result, data));
});
