// computeObjectId (hash-wasm BLAKE3) must agree byte for byte with objectId (@noble BLAKE3),
// which the official BLAKE3 vectors check independently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { computeObjectId, objectId } from '../../src/crypto/index.js';

test('WebAssembly and pure-JS ObjectIds agree on many lengths, keys, zones and schemas', async () => {
  const lengths = [0, 1, 63, 64, 65, 1023, 1024, 1025, 4096, 65537, 1 << 20];
  for (const len of lengths) {
    const key = new Uint8Array(randomBytes(32));
    const content = new Uint8Array(randomBytes(len));
    for (const [zone, schema] of [['z:owner', 'fcp.blob.v1'], ['z:private', 'notes@2']] as const) {
      assert.deepEqual(await computeObjectId(key, zone, schema, content), objectId(key, zone, schema, content), `length ${len}`);
    }
  }
});

test('a cached keyed hasher does not leak state between keys or calls', async () => {
  const a = new Uint8Array(randomBytes(32));
  const b = new Uint8Array(randomBytes(32));
  const data = new Uint8Array(randomBytes(5000));
  const first = await computeObjectId(a, 'z:work', 's', data);
  await computeObjectId(b, 'z:work', 's', data);
  assert.deepEqual(await computeObjectId(a, 'z:work', 's', data), first);
  assert.notDeepEqual(await computeObjectId(b, 'z:work', 's', data), first);
  await assert.rejects(computeObjectId(new Uint8Array(31), 'z:work', 's', data), /ObjectIdKey/);
});
