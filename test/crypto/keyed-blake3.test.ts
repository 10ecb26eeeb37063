// The fast keyed BLAKE3 behind computeObjectId, natively and in WebAssembly: both must give the
// official keyed_hash vectors and agree byte for byte with objectId (@noble's pure-JS BLAKE3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { computeObjectId, objectId } from '../../src/crypto/index.js';
import { schemaHash } from '../../src/crypto/object-id.js';
import { keyedBlake3, keyedBlake3Backend } from '../../src/crypto/keyed-blake3.js';
import { BLAKE3_KEY, BLAKE3_VECTORS } from './blake3-vectors.js';

const backends = ['native', 'wasm'] as const;

test('the native addon loads on this platform (else every store hashes 10x slower)', () => {
  // The addon ships prebuilt for linux-x64, which the test machines are; FCP_BLAKE3=wasm is the only opt-out.
  assert.equal(keyedBlake3Backend, process.env['FCP_BLAKE3'] === 'wasm' ? 'wasm' : 'native');
});

test('both backends give the official keyed_hash vectors, also with the input in several parts', async () => {
  const key = new TextEncoder().encode(BLAKE3_KEY);
  for (const backend of backends) {
    for (const v of BLAKE3_VECTORS) {
      const input = Uint8Array.from({ length: v.inputLen }, (_, i) => i % 251);
      const whole = await keyedBlake3(key, [input], backend);
      assert.equal(Buffer.from(whole).toString('hex'), v.keyedHash, `${backend} length ${v.inputLen}`);
      const cut = Math.floor(v.inputLen / 3);
      const parts = await keyedBlake3(key, [input.subarray(0, cut), new Uint8Array(0), input.subarray(cut)], backend);
      assert.deepEqual(parts, whole, `${backend} length ${v.inputLen} in parts`);
    }
  }
});

test('native, WebAssembly and pure-JS ObjectIds agree on many lengths, keys, zones and schemas', async () => {
  const lengths = [0, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 65537, 1 << 20];
  for (const len of lengths) {
    const key = new Uint8Array(randomBytes(32));
    const content = new Uint8Array(randomBytes(len));
    for (const [zone, schema] of [['z:owner', 'fcp.blob.v1'], ['z:private', 'notes@2']] as const) {
      const expected = objectId(key, zone, schema, content);
      assert.deepEqual(await computeObjectId(key, zone, schema, content), expected, `length ${len}`);
      const enc = new TextEncoder();
      for (const backend of backends) {
        // computeObjectId's own parts, through each backend: the domain, zone, schema hash, content.
        const viaParts = await keyedBlake3(key, [enc.encode('FCP2-OBJECT-V2'), enc.encode(zone), schemaHash(schema), content], backend);
        assert.deepEqual(viaParts, expected, `${backend} length ${len}`);
      }
    }
  }
});

test('a cached keyed hasher does not leak state between keys or calls', async () => {
  const a = new Uint8Array(randomBytes(32));
  const b = new Uint8Array(randomBytes(32));
  const data = new Uint8Array(randomBytes(5000));
  for (const backend of backends) {
    const first = await keyedBlake3(a, [data], backend);
    await keyedBlake3(b, [data], backend);
    assert.deepEqual(await keyedBlake3(a, [data], backend), first, backend);
    assert.notDeepEqual(await keyedBlake3(b, [data], backend), first, backend);
  }
  await assert.rejects(computeObjectId(new Uint8Array(31), 'z:work', 's', data), /ObjectIdKey/);
});
