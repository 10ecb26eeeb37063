// ObjectAssembler: source symbols straight to the output, a solve only when repair symbols
// are needed (in the coding worker for large objects), forged symbols dropped and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SymbolSealer, generateZoneKey, objectId, type Manifest } from '../../src/crypto/index.js';
import { ObjectAssembler, encodeAndSeal, type EncodedObject } from '../../src/mesh/objects.js';

async function sealed(size: number, overhead = 1.5): Promise<{ data: Uint8Array; manifest: Manifest; encoded: EncodedObject; zk: ReturnType<typeof generateZoneKey> }> {
  const zk = generateZoneKey('z:private');
  const data = new Uint8Array(randomBytes(size));
  const id = objectId(zk.objectIdKey, 'z:private', 'test', data);
  const encoded = await encodeAndSeal(data, (k) => Math.ceil(k * overhead) + 4, { zk, sealer: new SymbolSealer('node-test'), objectId: id });
  const manifest: Manifest = {
    objectId: id, zone: 'z:private', schema: 'test', oti: encoded.oti, length: size, keyId: zk.keyId, epoch: zk.epoch,
    created: Date.now(), writer: 'node-test', placement: { target: overhead, minDevices: 1, maxShare: 1, tolerate: 1 },
  };
  return { data, manifest, encoded, zk };
}

test('all source symbols rebuild the object with no solve', async () => {
  const { data, manifest, encoded, zk } = await sealed(300_000);
  const a = new ObjectAssembler(manifest, zk);
  for (const b of encoded.blocks) for (const s of b.symbols.slice(0, b.k)) assert.equal(a.add(s), 'added');
  assert.ok(a.done);
  assert.equal(a.ready, false);
  assert.deepEqual(Buffer.from(a.done), Buffer.from(data));
  assert.equal(a.add(encoded.blocks[0]!.symbols[0]!), 'duplicate');
});

for (const size of [200_000, 2_500_000]) {
  test(`missing source symbols: ready at K + 2, a final try at K, solved ${size >= 1 << 20 ? 'in the coding worker' : 'inline'}`, async () => {
    const { data, manifest, encoded, zk } = await sealed(size);
    const a = new ObjectAssembler(manifest, zk);
    const [block] = encoded.blocks;
    const k = block!.k;
    // Skip a fifth of the source symbols; take repair symbols instead, K in all.
    const chosen = block!.symbols.filter((s) => s.esi % 5 !== 0 || s.esi >= k).slice(0, k);
    for (const s of chosen.slice(0, k - 1)) a.add(s);
    assert.equal(a.canTry, false, 'one short of K');
    a.add(chosen[k - 1]!);
    assert.equal(a.canTry, true);
    assert.equal(a.ready, false, 'K symbols: readers keep fetching for the margin');
    assert.equal(await a.solve(), null, 'no solve before the margin unless final');
    let out = await a.solve({ final: true });
    // About 1 in 200 draws of exactly K symbols does not decode: then more are needed.
    const rest = block!.symbols.filter((s) => !chosen.includes(s) && s.esi >= k);
    if (!out) {
      assert.equal(a.canTry, false);
      a.add(rest[0]!);
      a.add(rest[1]!);
      assert.equal(a.ready, true);
      out = await a.solve();
    }
    assert.ok(out);
    assert.deepEqual(Buffer.from(out), Buffer.from(data));
  });
}

test('forged, relabelled and foreign symbols are rejected and counted; decoding goes on', async () => {
  const { data, manifest, encoded, zk } = await sealed(50_000);
  const other = await sealed(50_000);
  const a = new ObjectAssembler(manifest, zk);
  const [block] = encoded.blocks;
  const flipped = Uint8Array.from(block!.symbols[0]!.env);
  flipped[flipped.length - 1]! ^= 1;
  assert.equal(a.add({ ...block!.symbols[0]!, env: flipped }), 'rejected');
  assert.equal(a.add({ sbn: 0, esi: 1, env: block!.symbols[2]!.env }), 'rejected', 'envelope of ESI 2 offered as ESI 1');
  assert.equal(a.add(other.encoded.blocks[0]!.symbols[3]!), 'rejected', 'a symbol of another object');
  assert.equal(a.rejected, 3);
  for (const s of block!.symbols.slice(0, block!.k)) a.add(s);
  assert.deepEqual(Buffer.from(a.done!), Buffer.from(data));
});

test('an object rebuilt in a given buffer full of old bytes comes out exact, with or without a solve', async () => {
  const { data, manifest, encoded, zk } = await sealed(300_000);
  const dirty = new Uint8Array(300_000).fill(0xa5);
  const a = new ObjectAssembler(manifest, zk, dirty);
  for (const b of encoded.blocks) for (const s of b.symbols.slice(0, b.k)) a.add(s);
  assert.equal(a.done, dirty, 'rebuilt in place');
  assert.deepEqual(Buffer.from(dirty), Buffer.from(data));

  // Every source symbol but one of each block missing: the solve reads the sources it has back
  // out of the buffer, so old bytes there must not leak into the result.
  const again = new Uint8Array(300_000).fill(0x5a);
  const b2 = new ObjectAssembler(manifest, zk, again);
  for (const b of encoded.blocks) for (const s of b.symbols.filter((x) => x.esi % 3 !== 0).slice(0, b.k + 4)) b2.add(s);
  assert.ok(b2.ready);
  const solved = await b2.solve();
  assert.ok(solved);
  assert.deepEqual(Buffer.from(solved), Buffer.from(data));

  assert.throws(() => new ObjectAssembler(manifest, zk, new Uint8Array(10)), RangeError);
});
