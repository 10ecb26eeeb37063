// FileWriter and FileReader over an in-memory object map: paging past a page's entries,
// dedup accounting, bounded chunks in flight, cancel, and damaged chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CHUNK_SCHEMA, FILE_SCHEMA, FileReader, FileWriter, decodeFileObject, type ObjectGetter, type ObjectPutter } from '../../src/files/index.js';
import { bytes } from './data.js';

const SMALL = { min: 64, avg: 256, max: 1024 };

/** Objects kept in a map by sha-256 of schema and bytes (content-addressed like the mesh). */
class MemoryObjects implements ObjectPutter, ObjectGetter {
  readonly objects = new Map<string, { schema: string; bytes: Uint8Array }>();
  active = 0;
  maxActive = 0;
  activeBytes = 0;
  /** Bytes of chunks (not pages or file objects) being placed at once, at most. */
  maxActiveBytes = 0;
  delayMs = 0;
  async put(b: Uint8Array, schema: string) {
    const id = createHash('sha256').update(schema).update(b).digest('hex');
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const chunkBytes = schema === CHUNK_SCHEMA ? b.length : 0;
    this.activeBytes += chunkBytes;
    this.maxActiveBytes = Math.max(this.maxActiveBytes, this.activeBytes);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    this.active--;
    this.activeBytes -= chunkBytes;
    const created = !this.objects.has(id);
    this.objects.set(id, { schema, bytes: b.slice() });
    return { id, created };
  }
  async get(id: string, schema: string, opts: { length?: number } = {}) {
    const o = this.objects.get(id);
    if (!o) throw Object.assign(new Error(`no ${id}`), { code: 'MESH_NOT_FOUND' });
    if (o.schema !== schema) throw Object.assign(new Error('wrong schema'), { code: 'FILES_BAD_OBJECT' });
    if (opts.length !== undefined && opts.length !== o.bytes.length) throw Object.assign(new Error('wrong length'), { code: 'FILES_BAD_OBJECT' });
    return o.bytes;
  }
}

async function* pieces(data: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

async function readAll(objects: MemoryObjects, id: string): Promise<Buffer> {
  const r = new FileReader(objects);
  const out: Uint8Array[] = [];
  for await (const c of r.bytes(await r.open(id))) out.push(c);
  return Buffer.concat(out);
}

test('a file with more chunks than a page holds is listed in pages and reads back whole', async () => {
  const objects = new MemoryObjects();
  const data = bytes(200_000, 11);
  const w = new FileWriter(objects, { params: SMALL, pageEntries: 16 });
  const r = await w.write(pieces(data));
  assert.equal(r.size, data.length);
  assert.ok(r.chunks > 40, `${r.chunks} chunks`);
  const file = decodeFileObject(objects.objects.get(r.id)!.bytes);
  assert.ok('pages' in file && file.pages.length === Math.ceil(r.chunks / 16));
  assert.deepEqual(await readAll(objects, r.id), Buffer.from(data));
  const refs = await new FileReader(objects).references(file);
  assert.equal(refs.length, new Set(refs).size);
  assert.ok(refs.length >= file.pages.length + 1 && refs.every((id) => objects.objects.has(id)));
});

test('the same file twice stores nothing new; a small edit stores about one chunk', async () => {
  const objects = new MemoryObjects();
  const data = bytes(300_000, 12);
  const w = new FileWriter(objects, { params: SMALL });
  const first = await w.write(pieces(data));
  assert.equal(first.storedBytes + first.dedupBytes, data.length);
  const again = await w.write(pieces(data));
  assert.equal(again.id, first.id);
  assert.equal(again.storedBytes, 0);
  const edited = Uint8Array.from(data);
  edited[150_000] ^= 0xff;
  const third = await w.write(pieces(edited));
  assert.notEqual(third.id, first.id);
  assert.ok(third.storedBytes > 0 && third.storedBytes <= 2 * SMALL.max, `stored ${third.storedBytes}`);
  assert.deepEqual(await readAll(objects, third.id), Buffer.from(edited));
});

test('at most `inflight` chunks are placed at once', async () => {
  const objects = new MemoryObjects();
  objects.delayMs = 2;
  await new FileWriter(objects, { params: SMALL, inflight: 2 }).write(pieces(bytes(30_000, 13)));
  assert.equal(objects.maxActive, 2);
});

test('at most `inflightBytes` of chunks are placed at once, however many `inflight` allows', async () => {
  const objects = new MemoryObjects();
  objects.delayMs = 2;
  const data = bytes(30_000, 14);
  const r = await new FileWriter(objects, { params: SMALL, inflight: 50, inflightBytes: 1500 }).write(pieces(data));
  assert.ok(objects.maxActiveBytes <= 1500, `placed ${objects.maxActiveBytes} bytes at once`);
  assert.ok(objects.maxActive >= 2, `only ${objects.maxActive} chunk(s) at once`);
  assert.deepEqual(await readAll(objects, r.id), Buffer.from(data));
});

test('an empty stream is a file of size 0', async () => {
  const objects = new MemoryObjects();
  const r = await new FileWriter(objects).write(pieces(new Uint8Array(0)));
  assert.deepEqual([r.size, r.chunks, r.storedBytes], [0, 0, 0]);
  assert.equal(objects.objects.get(r.id)!.schema, FILE_SCHEMA);
  assert.equal((await readAll(objects, r.id)).length, 0);
});

test('abort stops reading the source and rejects with FILES_CANCELLED; no file object is written', async () => {
  const objects = new MemoryObjects();
  const ac = new AbortController();
  let pulled = 0;
  async function* endless(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 1_000_000; i++) {
      pulled++;
      if (pulled === 50) ac.abort();
      yield bytes(1000, i + 1);
    }
  }
  await assert.rejects(new FileWriter(objects, { params: SMALL }).write(endless(), { signal: ac.signal }), { code: 'FILES_CANCELLED' });
  assert.ok(pulled <= 51, `source read ${pulled} times`);
  assert.ok([...objects.objects.values()].every((o) => o.schema === CHUNK_SCHEMA));
  // A source that stalls forever is left at once too.
  const stalled = new AbortController();
  const never: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => undefined) }) };
  const p = new FileWriter(objects).write(never, { signal: stalled.signal });
  stalled.abort();
  await assert.rejects(p, { code: 'FILES_CANCELLED' });
});

test('a chunk with the wrong length or a missing chunk fails the read with a typed error', async () => {
  const objects = new MemoryObjects();
  const r = await new FileWriter(objects, { params: SMALL }).write(pieces(bytes(5000, 14)));
  const file = decodeFileObject(objects.objects.get(r.id)!.bytes);
  assert.ok('chunks' in file);
  const victim = Buffer.from(file.chunks[1]![0]).toString('hex');
  objects.objects.set(victim, { schema: CHUNK_SCHEMA, bytes: new Uint8Array(3) });
  await assert.rejects(readAll(objects, r.id), { code: 'FILES_BAD_OBJECT' });
  objects.objects.delete(victim);
  await assert.rejects(readAll(objects, r.id), { code: 'MESH_NOT_FOUND' });
});
