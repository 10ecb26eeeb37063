// The decoder keeps received symbols in the object itself (repair symbols in the places of
// source symbols not received) and solves in bands, byte ranges of every symbol. These tests
// force many narrow bands and every way a repair symbol can be moved. The kernel's compact
// bands (an encoding solve on copies of column bands) are checked here too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaptorQDecoder, RaptorQEncoder, blockParams, packetEsi } from '../../src/raptorq/index.js';
import { bandWidth, setBandBytes } from '../../src/raptorq/block-decoder.js';
import { clearEncodingPlans } from '../../src/raptorq/intermediate.js';
import { compactWidth, setCompactLimits } from '../../src/raptorq/simd-kernel.js';
import { bytesEqual, sampleData, seededRandom, shuffle } from './helpers.js';

/** Source packets kept with probability 1 - loss, repair packets for the rest, shuffled. */
function lossyStream(enc: RaptorQEncoder, loss: number, random: () => number): Uint8Array[] {
  const stream: Uint8Array[] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    const kept = enc.blockSourcePackets(sbn).filter(() => random() >= loss);
    stream.push(...kept, ...enc.repairPackets(sbn, k, k - kept.length + 3));
  }
  return shuffle(stream, random);
}

function decode(enc: RaptorQEncoder, packets: Uint8Array[]): Uint8Array | null {
  const dec = new RaptorQDecoder(enc.oti);
  let result: Uint8Array | null = null;
  for (const p of packets) result = dec.addPacket(p) ?? result;
  return result;
}

test('narrow bands rebuild the object: sub-blocks, alignments 1/4/8, a cut last symbol', () => {
  const configs = [
    { size: 150_001, symbolSize: 1000, alignment: 8, maxSubBlockSize: 30_000 },
    { size: 80_003, symbolSize: 404, alignment: 4, maxSubBlockSize: 9_000 },
    { size: 33_333, symbolSize: 77, alignment: 1, maxSubBlockSize: 2_000 },
    { size: 64_000, symbolSize: 1280, alignment: 8, maxSubBlockSize: 1 << 20 },
  ];
  try {
    for (const [i, c] of configs.entries()) {
      const data = sampleData(c.size, 7 + i);
      const enc = new RaptorQEncoder(data, { ...c, minSubSymbolSize: c.alignment });
      const k = enc.sourceSymbolCount(0);
      const rows = blockParams(k).l + k;
      for (const bytes of [512, 4096, 1 << 30]) {
        setBandBytes(bytes);
        // 512 bytes of rows: bands a few bytes wide, each cutting across sub-blocks.
        if (bytes < 1 << 30) assert.ok(bandWidth(rows, c.symbolSize) < c.symbolSize, `config ${i} solves in several bands`);
        const result = decode(enc, lossyStream(enc, 0.3, seededRandom(100 * i + bytes)));
        assert.ok(bytesEqual(result, data), `config ${i}, bands of at most ${bytes} bytes`);
      }
    }
  } finally {
    setBandBytes();
  }
});

test('repair symbols held in missing symbols\' places move on when those arrive, or wait aside', () => {
  // The last symbol is cut by the object's end, so its place never holds a repair symbol.
  const t = 64;
  const data = sampleData(20 * t - 10, 3);
  const enc = new RaptorQEncoder(data, { symbolSize: t });
  const k = enc.sourceSymbolCount(0);
  const random = seededRandom(11);
  let failures = 0;
  for (let trial = 0; trial < 3000 && failures < 3; trial++) {
    // Repair symbols first (they take the highest free places), then source symbols, which
    // push them out of their places one by one.
    const sources = shuffle(enc.blockSourcePackets(0), random);
    const repairCount = 1 + Math.floor(random() * (k - 1));
    const repairs = enc.repairPackets(0, k + Math.floor(random() * 500), 3 * k);
    const dec = new RaptorQDecoder(enc.oti);
    let result: Uint8Array | null = null;
    const first = [...repairs.slice(0, repairCount), ...sources.slice(0, k - repairCount)];
    for (const p of first) result = dec.addPacket(p) ?? result;
    if (result) {
      assert.ok(bytesEqual(result, data));
      continue;
    }
    // Not determined by these K: every place is taken, so the next source symbols push repair
    // symbols aside (highest ESI first: those are the places they took).
    failures++;
    const rest = sources.slice(k - repairCount).sort((a, b) => packetEsi(b) - packetEsi(a));
    for (const p of [...rest, ...repairs.slice(repairCount)]) {
      result = dec.addPacket(p);
      if (result) break;
    }
    assert.ok(bytesEqual(result, data), `trial ${trial}`);
  }
  assert.ok(failures >= 1, 'expected at least one rank-deficient draw');
});

test('an encoding solve run on compact copies of column bands gives the same repair symbols', () => {
  const data = sampleData(900_000, 21);
  const repairs = (): Buffer => {
    clearEncodingPlans();
    const enc = RaptorQEncoder.withDefaults(data, 1280);
    const k = enc.sourceSymbolCount(0);
    const packets = enc.repairPackets(0, k, 40);
    enc.releaseBlock(0);
    return Buffer.concat(packets);
  };
  const inPlace = repairs();
  try {
    // 64 KiB bands of a 900 KiB block: 80-byte bands, the last one narrower.
    setCompactLimits(0, 64 << 10);
    assert.ok(compactWidth(blockParams(704).l + 1, 1280) > 0, 'the solve runs on compact bands');
    assert.ok(repairs().equals(inPlace));
  } finally {
    setCompactLimits();
  }
});
