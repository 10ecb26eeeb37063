// Short ids as users type them: found from a few index entries next to the prefix, on both stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbSymbolStore, MemorySymbolStore, type Manifest, type SymbolStore } from '../../src/store/index.js';
import { resolveObjectId } from '../../src/services/object-ids.js';

const ID_HEX = [
  '00000000' + '0'.repeat(56), // the lowest id there is
  'abcdef01' + '1'.repeat(56),
  'abcdef01' + '2'.repeat(56),
  'abcdef02' + '0'.repeat(56), // exactly the prefix padded with zeros
  'abcdef03' + 'f'.repeat(56),
  'abcdef01' + '3'.repeat(56),
  'abcdef05' + '1'.repeat(56),
  'abcdef05' + '2'.repeat(56),
  'ffffffff' + 'f'.repeat(56),
];

function manifest(hex: string): Manifest {
  return {
    objectId: new Uint8Array(Buffer.from(hex, 'hex')),
    zone: 'z:private',
    schema: 'fcp.mesh:blob@1',
    oti: new Uint8Array(12),
    length: 1,
    keyId: new Uint8Array(8),
    epoch: 0,
    created: 1_790_000_000_000,
    writer: 'node-a',
    placement: { target: 1.5, minDevices: 2, maxShare: 0.5, tolerate: 1 },
  };
}

async function check(store: SymbolStore): Promise<void> {
  for (const hex of ID_HEX) await store.putManifest(manifest(hex));
  assert.equal(resolveObjectId(store, 'abcdef02'), ID_HEX[3], 'an id equal to its padded prefix');
  assert.equal(resolveObjectId(store, 'ABCDEF03F'), ID_HEX[4], 'odd length, upper case');
  assert.equal(resolveObjectId(store, '00000000'), ID_HEX[0], 'the lowest id');
  assert.equal(resolveObjectId(store, 'ffffffff'), ID_HEX[8], 'the highest id');
  assert.throws(() => resolveObjectId(store, 'abcdef05'), (e: Error & { code?: string }) => e.code === 'MESH_BAD_ID' && /^2 objects start with abcdef05/.test(e.message));
  assert.throws(() => resolveObjectId(store, 'abcdef01'), (e: Error & { code?: string }) => e.code === 'MESH_BAD_ID' && /^3 or more objects start with abcdef01/.test(e.message));
  assert.throws(() => resolveObjectId(store, 'abcdef04'), (e: Error & { code?: string }) => e.code === 'MESH_NOT_FOUND');
  assert.throws(() => resolveObjectId(store, 'abcd'), (e: Error & { code?: string }) => e.code === 'MESH_BAD_ID');
  assert.equal(resolveObjectId(store, ID_HEX[1]!), ID_HEX[1], 'a full id is taken as it is');
}

test('memory store: unique prefixes resolve, ambiguous and unknown ones are typed errors', async () => {
  await check(new MemorySymbolStore());
});

test('LMDB store: the same, read from a few entries of the index', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcp-ids-'));
  const store = await LmdbSymbolStore.open(join(dir, 'store'));
  try {
    await check(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
