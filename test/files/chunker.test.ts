// FastCDC chunking: sizes within bounds, boundaries that survive an insertion, streaming that
// does not depend on how the input is split, the empty stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CHUNK_PARAMS, Chunker, GEAR, chunkStream } from '../../src/files/index.js';
import { bytes } from './data.js';

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

async function chunksOf(data: Uint8Array, pieceSize = 64 * 1024): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of chunkStream(pieces(data, pieceSize))) out.push(c);
  return out;
}

const digest = (c: Uint8Array) => createHash('sha256').update(c).digest('hex');

test('the Gear table is fixed forever (its first entries and a digest of all of it)', () => {
  // Changing these changes every chunk boundary, and so every chunk id already stored.
  assert.deepEqual([...GEAR.slice(0, 4)], [-369587552, -1015491203, 1941866400, -369451777]);
  assert.equal(createHash('sha256').update(new Uint8Array(GEAR.buffer)).digest('hex'), 'f0b037e159de07fba7db42ffaab16351b06ed27219d840154849d71ebe4cd4d5');
});

test('chunk sizes stay within min and max; they add up to the input', async () => {
  const data = bytes(24 * 1024 * 1024, 1);
  const chunks = await chunksOf(data);
  assert.equal(chunks.reduce((a, c) => a + c.length, 0), data.length);
  for (const c of chunks.slice(0, -1)) {
    assert.ok(c.length >= CHUNK_PARAMS.min, `chunk of ${c.length} below min`);
    assert.ok(c.length <= CHUNK_PARAMS.max, `chunk of ${c.length} above max`);
  }
  const avg = data.length / chunks.length;
  assert.ok(avg > CHUNK_PARAMS.min && avg < 2.5 * CHUNK_PARAMS.avg, `average chunk ${avg} near 1 MiB`);
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(data));
});

test('input without any cut point is cut at max; zeros too', async () => {
  const zeros = new Uint8Array(9 * 1024 * 1024);
  const chunks = await chunksOf(zeros);
  assert.deepEqual(chunks.map((c) => c.length), [CHUNK_PARAMS.max, CHUNK_PARAMS.max, 1024 * 1024]);
});

test('boundaries do not depend on how the stream is split', async () => {
  const data = bytes(8 * 1024 * 1024, 2);
  const a = (await chunksOf(data, 4093)).map(digest).join();
  const b = (await chunksOf(data, 1_000_003)).map(digest).join();
  const c = (await chunksOf(data, 7 * 1024 * 1024)).map(digest).join();
  assert.equal(a, b);
  assert.equal(a, c);
});

test('an insertion at the start changes only the first chunk or two', async () => {
  const data = bytes(20 * 1024 * 1024, 3);
  const before = (await chunksOf(data)).map(digest);
  const edited = new Uint8Array(data.length + 100);
  edited.set(bytes(100, 4), 0);
  edited.set(data, 100);
  const after = (await chunksOf(edited)).map(digest);
  const shared = after.filter((d) => before.includes(d)).length;
  assert.ok(shared >= before.length - 2, `${shared} of ${before.length} chunks shared`);
  assert.notEqual(after[0], before[0]);
});

test('the empty stream has no chunks; a tiny one has one', async () => {
  assert.deepEqual(await chunksOf(new Uint8Array(0)), []);
  const tiny = await chunksOf(Uint8Array.of(1, 2, 3));
  assert.deepEqual(tiny.map((c) => [...c]), [[1, 2, 3]]);
  assert.throws(() => new Chunker({ min: 10, avg: 100, max: 1000 }), RangeError, 'avg must be a power of two');
});

test('the cut points of a fixed input never change (they fix every chunk id already stored)', () => {
  // 24 MiB of SHA-256 counter-mode bytes, fed in 64 KiB pieces; lengths recorded once.
  const parts: Buffer[] = [];
  for (let i = 0; i < (24 << 20) / 32; i++) parts.push(createHash('sha256').update(`fcp-mesh chunker golden ${i}`).digest());
  const data = Buffer.concat(parts);
  const c = new Chunker();
  const lengths: number[] = [];
  for (let o = 0; o < data.length; o += 65536) for (const chunk of c.push(data.subarray(o, o + 65536))) lengths.push(chunk.length);
  const last = c.end();
  if (last) lengths.push(last.length);
  assert.deepEqual(lengths, [
    1179863, 1855260, 1191285, 1445561, 733017, 1201978, 513679, 1204297, 419830, 1876069,
    1200366, 1969608, 1652503, 1153676, 1583036, 1137870, 1354600, 1234123, 1558944, 700259,
  ]);
});
