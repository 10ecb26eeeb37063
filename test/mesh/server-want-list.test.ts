// Want-list normalisation and batched reading of a fetch: repeats cost one read, positions of
// blocks the object lacks are dropped, the list is capped, and reads go a batch at a time.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeOti } from '../../src/raptorq/index.js';
import { ENVELOPE_OVERHEAD, type SymbolEntry } from '../../src/crypto/index.js';
import { normaliseWant, type Position } from '../../src/mesh/want-list.js';
import { symbolBatches } from '../../src/mesh/fetch-reader.js';
import { MemorySymbolStore } from '../../src/store/index.js';

const T = 1024;
/** A manifest's layout part: 3 source blocks of 1 KiB symbols. */
const manifest = { objectId: new Uint8Array(32).fill(3), oti: encodeOti({ transferLength: 3 * 10 * T, symbolSize: T, sourceBlocks: 3, subBlocks: 1, alignment: 8 }) };
const limits = { maxWantPositions: 1000 };

describe('want-list normalisation', () => {
  test('one position repeated 1,000,000 times is one position', () => {
    const want: Position[] = Array.from({ length: 1_000_000 }, () => [0, 5]);
    assert.deepEqual(normaliseWant(want, manifest, limits), [[0, 5]]);
  });

  test('order is kept, repeats and blocks the object lacks are dropped', () => {
    const want: Position[] = [[0, 2], [2, 9], [0, 2], [3, 0], [255, 1], [1, 0], [2, 9]];
    assert.deepEqual(normaliseWant(want, manifest, limits), [[0, 2], [2, 9], [1, 0]]);
  });

  test('the list is capped at maxWantPositions distinct positions', () => {
    const want: Position[] = Array.from({ length: 5000 }, (_, i) => [i % 3, i]);
    const out = normaliseWant(want, manifest, limits)!;
    assert.equal(out.length, 1000);
    assert.deepEqual(out[999], [0, 999]);
  });

  test('no want-list means the whole object', () => {
    assert.equal(normaliseWant(undefined, manifest, limits), undefined);
  });
});

describe('batched fetch reads', () => {
  async function storeWith(count: number): Promise<MemorySymbolStore> {
    const store = new MemorySymbolStore();
    const symbols: SymbolEntry[] = Array.from({ length: count }, (_, esi) => ({ sbn: 0, esi, env: new Uint8Array(T + ENVELOPE_OVERHEAD).fill(esi & 0xff) }));
    await store.putSymbols(manifest.objectId, symbols);
    return store;
  }

  test('a whole-object fetch is read a batch at a time, in (SBN, ESI) order', async () => {
    const store = await storeWith(100);
    const sizes: number[] = [];
    const esis: number[] = [];
    for await (const b of symbolBatches(store, manifest, undefined, undefined, 16 * (T + ENVELOPE_OVERHEAD))) {
      sizes.push(b.length);
      esis.push(...b.map((s) => s.esi));
    }
    assert.deepEqual(sizes, [16, 16, 16, 16, 16, 16, 4]);
    assert.deepEqual(esis, Array.from({ length: 100 }, (_, i) => i));
  });

  test('max bounds the symbols read, and positions not held are skipped', async () => {
    const store = await storeWith(40);
    const want: Position[] = [[0, 39], [0, 500], [0, 1], [0, 2], [0, 3]];
    const got: number[] = [];
    for await (const b of symbolBatches(store, manifest, want, 3, 2 * (T + ENVELOPE_OVERHEAD))) got.push(...b.map((s) => s.esi));
    assert.deepEqual(got, [39, 1, 2]);
  });
});
