// Conformance against the reference implementation: the wasm build of the Rust `raptorq` crate
// (npm raptorq@1.7.24), driven with the parameters of its `with_defaults(data, mtu)`.
//
// Known quirk of that build: it labels the i-th repair packet of a block with ESI K'+i, where
// RFC 6330 (section 5.3.1) says K+i; K' is the padded source symbol count. The symbol bytes it
// sends are those of ESI K+i (internal symbol id K'+i), so they are RFC-correct. We compare our
// packet at ESI K+i with its packet labelled K'+i, and relabel when feeding one decoder the
// other's repair packets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaptorQDecoder, RaptorQEncoder, blockParams, packetEsi, packetSbn } from '../../src/raptorq/index.js';
import { loadWasmReference } from './wasm-reference.js';
import { bytesEqual, sampleData, seededRandom, shuffle } from './helpers.js';

function relabel(packet: Uint8Array, esi: number): Uint8Array {
  const out = packet.slice();
  out[1] = esi >>> 16;
  out[2] = (esi >>> 8) & 0xff;
  out[3] = esi & 0xff;
  return out;
}

interface Case {
  size: number;
  mtu: number;
  repair: number;
}

/** K values on both sides of Table 2 boundaries (K' = 10, 12, 18, 101, 1002, ...). */
const boundaryKs = [10, 11, 12, 13, 18, 19, 101, 102, 1002, 1003, 2215, 2216];

const cases: Case[] = [
  { size: 1, mtu: 1280, repair: 4 },
  { size: 7, mtu: 64, repair: 3 },
  { size: 1000, mtu: 100, repair: 5 },
  { size: 1280, mtu: 1280, repair: 2 },
  { size: 1281, mtu: 1280, repair: 2 },
  { size: 65536, mtu: 1280, repair: 12 },
  { size: 100_000, mtu: 1500, repair: 10 },
  { size: 300_001, mtu: 512, repair: 30 },
  { size: 1 << 20, mtu: 1280, repair: 40 },
  ...boundaryKs.map((k) => ({ size: k * 96 - 5, mtu: 100, repair: 6 })),
];

function compareWithReference(data: Uint8Array, mtu: number, repair: number, wasmPackets: Uint8Array[]): void {
  const ours = RaptorQEncoder.withDefaults(data, mtu);
  let at = 0;
  for (let sbn = 0; sbn < ours.blockCount; sbn++) {
    const k = ours.sourceSymbolCount(sbn);
    const kPrime = blockParams(k).kPrime;
    const source = ours.blockSourcePackets(sbn);
    for (let esi = 0; esi < k; esi++) {
      const theirs = wasmPackets[at++]!;
      assert.equal(packetSbn(theirs), sbn);
      assert.equal(packetEsi(theirs), esi);
      assert.ok(bytesEqual(source[esi], theirs), `source packet sbn=${sbn} esi=${esi} differs`);
    }
    const repairs = ours.repairPackets(sbn, k, repair);
    for (let i = 0; i < repair; i++) {
      const theirs = wasmPackets[at++]!;
      assert.equal(packetEsi(theirs), kPrime + i, 'reference labels repair i with K\'+i');
      assert.equal(packetEsi(repairs[i]!), k + i);
      assert.ok(bytesEqual(repairs[i]!.subarray(4), theirs.subarray(4)), `repair symbol sbn=${sbn} esi=${k + i} differs`);
    }
  }
  assert.equal(at, wasmPackets.length);
}

test('source and repair packets are byte-identical to the reference crate', async () => {
  const ref = await loadWasmReference();
  for (const [i, c] of cases.entries()) {
    const data = sampleData(c.size, 100 + i);
    const enc = ref.encoder(data, c.mtu);
    const packets = enc.encode(c.repair);
    enc.free();
    compareWithReference(data, c.mtu, c.repair, packets);
  }
});

/** Drops `loss` of the source packets of each block, tops up with repair packets, shuffles. */
function lossyStream(enc: RaptorQEncoder, loss: number, extra: number, random: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    const kept = enc.blockSourcePackets(sbn).filter(() => random() >= loss);
    out.push(...kept, ...enc.repairPackets(sbn, k + Math.floor(random() * 50), k - kept.length + extra));
  }
  return shuffle(out, random);
}

test('the reference decoder decodes our packets under random loss', async () => {
  const ref = await loadWasmReference();
  const random = seededRandom(7);
  for (const [i, c] of cases.entries()) {
    const data = sampleData(c.size, 200 + i);
    const ours = RaptorQEncoder.withDefaults(data, c.mtu);
    const dec = ref.decoder(data.length, c.mtu);
    let result: Uint8Array | undefined;
    for (const packet of lossyStream(ours, 0.2, 3, random)) {
      const sbn = packetSbn(packet);
      const k = ours.sourceSymbolCount(sbn);
      const esi = packetEsi(packet);
      // The reference decoder expects its own repair labels (K'+i), see the note at the top.
      const p = esi < k ? packet : relabel(packet, esi - k + blockParams(k).kPrime);
      result = dec.decode(p) ?? result;
      if (result) break;
    }
    dec.free();
    assert.ok(bytesEqual(result, data), `reference failed to decode our packets for size ${c.size} mtu ${c.mtu}`);
  }
});

test('our decoder decodes the reference packets under random loss', async () => {
  const ref = await loadWasmReference();
  const random = seededRandom(11);
  for (const [i, c] of cases.entries()) {
    const data = sampleData(c.size, 300 + i);
    const probe = RaptorQEncoder.withDefaults(data, c.mtu);
    const enc = ref.encoder(data, c.mtu);
    const repairPerBlock = Math.ceil(probe.sourceSymbolCount(0) * 0.3) + 4;
    const packets = enc.encode(repairPerBlock);
    enc.free();
    const kept = shuffle(
      packets.filter((p) => packetEsi(p) >= probe.sourceSymbolCount(packetSbn(p)) || random() >= 0.25),
      random,
    );
    const dec = new RaptorQDecoder(probe.oti);
    let result: Uint8Array | null = null;
    for (const packet of kept) {
      const sbn = packetSbn(packet);
      const k = probe.sourceSymbolCount(sbn);
      const esi = packetEsi(packet);
      const p = esi < k ? packet : relabel(packet, esi - blockParams(k).kPrime + k);
      result = dec.addPacket(p) ?? result;
      if (result) break;
    }
    assert.ok(bytesEqual(result, data), `failed to decode reference packets for size ${c.size} mtu ${c.mtu}`);
  }
});

test('16 MiB object (two sub-blocks per symbol): identical packets and cross decoding', async () => {
  const ref = await loadWasmReference();
  const data = sampleData(16 << 20, 16);
  const enc = ref.encoder(data, 1280);
  const packets = enc.encode(8);
  enc.free();
  compareWithReference(data, 1280, 8, packets);
  const ours = RaptorQEncoder.withDefaults(data, 1280);
  assert.equal(ours.parameters.subBlocks, 2);
  const random = seededRandom(16);
  const stream = lossyStream(ours, 0.2, 2, random);
  const dec = new RaptorQDecoder(ours.oti);
  let result: Uint8Array | null = null;
  for (const p of stream) result = dec.addPacket(p) ?? result;
  assert.ok(bytesEqual(result, data));
});

test('an object split into two source blocks matches the reference', async () => {
  const ref = await loadWasmReference();
  // T = 64: a block holds at most 56403 symbols, so 56404 symbols need Z = 2.
  const data = sampleData(56404 * 64, 2);
  const enc = ref.encoder(data, 64);
  const packets = enc.encode(3);
  enc.free();
  const ours = RaptorQEncoder.withDefaults(data, 64);
  assert.equal(ours.blockCount, 2);
  compareWithReference(data, 64, 3, packets);
});

test('repair symbols match the reference across Table 2 (every 6th K\' up to 12000, and K\'max)', async () => {
  const { allKPrimes } = await import('../../src/raptorq/params.js');
  const ref = await loadWasmReference();
  const table = allKPrimes();
  const sample = [...table.filter((k, i) => k <= 12000 && i % 6 === 0), table[table.length - 1]!];
  for (const k of sample) {
    // T = 64 with the reference defaults: one block of exactly K = K' symbols.
    const data = sampleData(k * 64 - 1, k);
    const enc = ref.encoder(data, 64);
    const theirs = enc.encode(2).slice(k);
    enc.free();
    const ours = RaptorQEncoder.withDefaults(data, 64);
    assert.equal(ours.sourceSymbolCount(0), k);
    const repairs = ours.repairPackets(0, k, 2);
    for (let i = 0; i < 2; i++) assert.ok(bytesEqual(repairs[i]!.subarray(4), theirs[i]!.subarray(4)), `K'=${k} repair ${i}`);
  }
});
