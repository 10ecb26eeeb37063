// ContentService on an in-process five-device mesh (real FCP over TCP, memory stores):
// streaming round trip read on another device, dedup across puts, references, short prefixes,
// whole objects streamed, and typed errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { LOCAL_CONTROL, type DevicePrincipal } from '../../src/authz/index.js';
import { InProcessMesh } from '../mesh/in-process.js';
import { bytes } from './data.js';

async function* pieces(data: Uint8Array, size = 256 * 1024): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of stream) out.push(c);
  return Buffer.concat(out);
}

describe('content service: streaming files through the mesh', () => {
  let mesh: InProcessMesh;
  const data = bytes(12 * 1024 * 1024, 21);
  let id = '';

  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(50));
  });
  after(async () => mesh?.stop());

  test('a streamed put reads back byte-identical on another device, with its size first', async () => {
    const r = await mesh.node('laptop').storeStream(pieces(data), 'z:private');
    id = r.id;
    assert.match(r.id, /^[0-9a-f]{64}$/);
    assert.equal(r.size, data.length);
    assert.ok(r.chunks >= 4, `${r.chunks} chunks`);
    assert.equal(r.storedBytes, data.length);
    assert.equal(r.dedupBytes, 0);
    const back = await mesh.node('server').retrieveStream(r.id, { verify: true });
    assert.equal(back.size, data.length);
    assert.equal(back.zone, 'z:private');
    assert.ok((await collect(back.stream)).equals(Buffer.from(data)));
  });

  test('with reuse, chunks handed back carry later chunks; the bytes are still exact', async () => {
    const s = await mesh.node('desktop').retrieveStream(id, { reuse: true });
    const seen = new Set<ArrayBufferLike>();
    let reused = 0;
    const out: Buffer[] = [];
    for await (const chunk of s.stream) {
      if (seen.has(chunk.buffer)) reused++;
      seen.add(chunk.buffer);
      out.push(Buffer.from(chunk)); // a copy: the buffer is handed back below
      s.release(chunk);
    }
    assert.ok(Buffer.concat(out).equals(Buffer.from(data)));
    assert.ok(reused > 0, 'a buffer handed back was used again');
  });

  test('the same bytes again store nothing new; an edit stores one or two chunks', async () => {
    const again = await mesh.node('laptop').storeStream(pieces(data), 'z:private');
    assert.equal(again.id, id);
    assert.equal(again.storedBytes, 0);
    assert.equal(again.dedupBytes, data.length);
    const edited = Uint8Array.from(data);
    for (let i = 0; i < 8; i++) edited[6_000_000 + i] ^= 0x5a;
    const r = await mesh.node('laptop').storeStream(pieces(edited, 100_000), 'z:private');
    assert.notEqual(r.id, id);
    assert.ok(r.storedBytes > 0 && r.storedBytes <= 2 * 4 * 1024 * 1024, `stored ${r.storedBytes} of ${edited.length}`);
    assert.ok((await collect((await mesh.node('desktop').retrieveStream(r.id)).stream)).equals(Buffer.from(edited)));
  });

  test('references lists every chunk; a 12-hex prefix names the file', async () => {
    const content = mesh.node('laptop').services.content;
    const refs = await content.references(LOCAL_CONTROL, id.slice(0, 12));
    const listed = new Set(mesh.node('laptop').node.store.listManifests('z:private').map((m) => Buffer.from(m.objectId).toString('hex')));
    assert.ok(refs.length >= 4 && refs.every((r) => listed.has(r)));
    assert.ok(!refs.includes(id));
    const s = await content.getStream(LOCAL_CONTROL, id.slice(0, 12));
    assert.equal(s.id, id);
  });

  test('a whole object from store() streams as its bytes', async () => {
    const small = bytes(50_000, 22);
    const oid = await mesh.node('laptop').store(small, 'z:owner');
    const s = await mesh.node('server').retrieveStream(oid);
    assert.equal(s.size, small.length);
    assert.ok((await collect(s.stream)).equals(Buffer.from(small)));
    assert.deepEqual(await mesh.node('server').services.content.references(LOCAL_CONTROL, oid), []);
  });

  test('unknown zone, bad ids and a peer outside the zone get typed errors', async () => {
    const m = mesh.node('laptop');
    await assert.rejects(m.storeStream(pieces(data.subarray(0, 10)), 'z:nope'), { code: 'ZONE_UNKNOWN' });
    await assert.rejects(m.retrieveStream('xyz'), { code: 'MESH_BAD_ID' });
    await assert.rejects(m.retrieveStream('abc'), { code: 'MESH_BAD_ID' });
    await assert.rejects(m.retrieveStream('ab'.repeat(32)), { code: 'MESH_NOT_FOUND' });
    const work: DevicePrincipal = { kind: 'device', stableId: 'w', hostName: 'worklaptop', address: '127.77.50.4', tags: ['tag:fcp-work'], zones: [m.node.zones.get('z:work')], path: 'direct' };
    await assert.rejects(m.services.content.putStream(work, 'z:private', pieces(data.subarray(0, 10))), { code: 'AUTHZ_DENIED' });
    await assert.rejects(m.services.content.getStream(work, id), { code: 'AUTHZ_DENIED' });
  });

  test('an aborted put rejects with FILES_CANCELLED and stores no file object', async () => {
    const ac = new AbortController();
    let sent = 0;
    async function* slow(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 10_000; i++) {
        sent += 256 * 1024;
        if (sent === 3 * 1024 * 1024) ac.abort();
        yield bytes(256 * 1024, 100 + i);
      }
    }
    const before = mesh.node('laptop').node.store.listManifests().filter((m) => m.schema === 'fcp.file.v1').length;
    await assert.rejects(mesh.node('laptop').storeStream(slow(), 'z:private', { signal: ac.signal }), { code: 'FILES_CANCELLED' });
    assert.ok(sent <= 3 * 1024 * 1024 + 256 * 1024);
    assert.equal(mesh.node('laptop').node.store.listManifests().filter((m) => m.schema === 'fcp.file.v1').length, before);
  });
});
