// The per-zone holdings summary both stores keep up to date on every write, and the LMDB store
// reloads (or, for a store made before it existed, rebuilds) at open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { open } from 'lmdb';
import { HOLDING_BUCKETS, HOLDING_DIGEST_BYTES, LmdbSymbolStore, MemorySymbolStore, entryHash, type Manifest, type SymbolStore } from '../../src/store/index.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function manifest(objectId: Uint8Array, zone: string): Manifest {
  return { objectId, zone, schema: 'fcp.mesh:blob@1', oti: bytes(12), length: 4096, keyId: bytes(8), epoch: 0, created: 1_790_000_000_000, writer: 'node-a', placement: { target: 1.5, minDevices: 2, maxShare: 0.5, tolerate: 1 } };
}

const sym = (sbn: number, esi: number, size = 100) => ({ sbn, esi, env: bytes(size) });

/** Every entry of a zone's summary, through the paged reader, as hex id -> counts. */
function allEntries(s: SymbolStore, zone: string, limit = 2): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const all = Array.from({ length: HOLDING_BUCKETS }, (_, i) => i);
  let after: Uint8Array | undefined;
  for (let page = 0; page < 1000; page++) {
    const p = s.holdingsPage(zone, all, after, limit);
    for (const e of p.entries) out.set(hex(e.objectId), e.counts);
    if (!p.next) return out;
    after = p.next;
  }
  throw new Error('pages did not end');
}

const factories: Record<string, () => Promise<{ store: SymbolStore; dir: string | null; cleanup: () => Promise<void> }>> = {
  lmdb: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fcp-holdings-'));
    const store = await LmdbSymbolStore.open(dir);
    return { store, dir, cleanup: async () => { await store.close().catch(() => undefined); await rm(dir, { recursive: true, force: true }); } };
  },
  memory: async () => {
    const store = new MemorySymbolStore();
    return { store, dir: null, cleanup: () => store.close() };
  },
};

for (const [name, make] of Object.entries(factories)) {
  test(`${name}: the summary follows put, manifest, drop, erase and orphan collection`, async () => {
    const { store, cleanup } = await make();
    try {
      const a = bytes(32);
      const b = bytes(32);
      b[0] = a[0]!; // same bucket
      const empty = store.holdingsDigest('z:private');
      assert.equal(empty.objects, 0);
      assert.deepEqual(empty.digest, new Uint8Array(HOLDING_DIGEST_BYTES));

      // Symbols without a manifest are not listed (a peer's `have` would not count them either).
      await store.putSymbols(a, [sym(0, 0), sym(0, 1), sym(1, 0)]);
      assert.equal(store.holdingsDigest('z:private').objects, 0);
      await store.putManifest(manifest(a, 'z:private'));
      let d = store.holdingsDigest('z:private');
      assert.equal(d.objects, 1);
      assert.equal(d.symbols, 3);
      assert.ok(d.bytes >= 300);
      assert.deepEqual(allEntries(store, 'z:private'), new Map([[hex(a), [2, 1]]]));
      assert.deepEqual(d.digest, entryHash(a, [2, 1]));

      // Re-putting a stored symbol changes nothing; a new one does.
      const before = d.digest;
      await store.putSymbols(a, (await store.getSymbols(a, [[0, 0]])));
      assert.deepEqual(store.holdingsDigest('z:private').digest, before);
      await store.putManifest(manifest(b, 'z:private')).catch(() => undefined);
      await store.putSymbols(b, [sym(0, 5)]);
      d = store.holdingsDigest('z:private');
      assert.equal(d.objects, 2);
      const bucket = a[0]!;
      const x = new Uint8Array(HOLDING_DIGEST_BYTES);
      const ha = entryHash(a, [2, 1]);
      const hb = entryHash(b, [1]);
      for (let i = 0; i < x.length; i++) x[i] = ha[i]! ^ hb[i]!;
      assert.deepEqual(d.buckets.subarray(bucket * HOLDING_DIGEST_BYTES, (bucket + 1) * HOLDING_DIGEST_BYTES), x);
      assert.deepEqual(d.digest, x);

      await store.deleteSymbols(a, [[1, 0]]);
      assert.deepEqual(allEntries(store, 'z:private').get(hex(a)), [2]);
      await store.deleteSymbols(a, [[0, 0], [0, 1]]);
      assert.equal(allEntries(store, 'z:private').has(hex(a)), false, 'an object with no symbols left is not listed');
      await store.putSymbols(a, [sym(0, 7)]);
      assert.deepEqual(allEntries(store, 'z:private').get(hex(a)), [1]);
      await store.deleteObject(a);
      assert.deepEqual([...allEntries(store, 'z:private').keys()], [hex(b)]);
      d = store.holdingsDigest('z:private');
      assert.deepEqual(d.digest, hb);
      assert.equal(d.symbols, 1);

      // Orphans (no manifest) are collected without touching the summary of listed objects.
      const c = bytes(32);
      await store.putSymbols(c, [sym(0, 0)]);
      await store.collectOrphans(0, Date.now() + 1);
      assert.deepEqual(store.holdingsDigest('z:private').digest, hb);
      assert.deepEqual(store.holdingsDigest('z:work').objects, 0);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: summary pages come in id order, bounded, only from the asked buckets`, async () => {
    const { store, cleanup } = await make();
    try {
      const ids: Uint8Array[] = [];
      for (let i = 0; i < 12; i++) {
        const id = bytes(32);
        id[0] = i % 3; // buckets 0, 1, 2
        ids.push(id);
        await store.putSymbols(id, [sym(0, 0, 60)]);
        await store.putManifest(manifest(id, 'z:work'));
      }
      const p = store.holdingsPage('z:work', [2, 0], undefined, 5);
      assert.equal(p.entries.length, 5);
      assert.ok(p.next);
      const got = [...allEntries(store, 'z:work', 3).keys()];
      assert.deepEqual(got, ids.map(hex).sort());
      const only = store.holdingsPage('z:work', [1], undefined, 100).entries.map((e) => hex(e.objectId));
      assert.deepEqual(only, ids.filter((id) => id[0] === 1).map(hex).sort());
      assert.deepEqual(store.holdingsPage('z:owner', [0, 1, 2], undefined, 100).entries, []);
    } finally {
      await cleanup();
    }
  });
}

test('lmdb: the summary survives a restart, and a store made before it had one gets it rebuilt at open', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fcp-holdings-'));
  try {
    let store = await LmdbSymbolStore.open(dir);
    const ids = [bytes(32), bytes(32), bytes(32)];
    for (const [i, id] of ids.entries()) {
      await store.putSymbols(id, [sym(0, 0), sym(0, 1), sym(1, i)]);
      await store.putManifest(manifest(id, i === 2 ? 'z:work' : 'z:private'));
    }
    await store.deleteSymbols(ids[0]!, [[0, 1]]);
    const before = { p: store.holdingsDigest('z:private'), w: store.holdingsDigest('z:work'), e: allEntries(store, 'z:private') };
    await store.close();

    store = await LmdbSymbolStore.open(dir);
    assert.deepEqual(store.holdingsDigest('z:private'), before.p);
    assert.deepEqual(store.holdingsDigest('z:work'), before.w);
    assert.deepEqual(allEntries(store, 'z:private'), before.e);
    await store.close();

    // As an older version left it: no holdings tree, no marker.
    const raw = open({ path: dir, maxDbs: 8 });
    const meta = raw.openDB<unknown, string>('meta', { encoding: 'msgpack' });
    const holdings = raw.openDB<unknown, Buffer>('holdings', { encoding: 'msgpack', keyEncoding: 'binary' });
    await raw.transaction(() => {
      meta.remove('holdings-v1');
      for (const key of [...holdings.getKeys({})]) holdings.remove(key);
    });
    await raw.close();

    store = await LmdbSymbolStore.open(dir);
    assert.deepEqual(store.holdingsDigest('z:private'), before.p);
    assert.deepEqual(store.holdingsDigest('z:work'), before.w);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
