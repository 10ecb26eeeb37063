// The SymbolStore contract, run against both the LMDB store and the memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LmdbSymbolStore, MemorySymbolStore, StoreError, type Manifest, type SymbolEntry, type SymbolStore } from '../../src/store/index.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));

function manifest(objectId: Uint8Array, zone: string): Manifest {
  return {
    objectId,
    zone,
    schema: 'fcp.mesh:blob@1',
    oti: bytes(12),
    length: 4096,
    keyId: bytes(8),
    epoch: 0,
    created: 1_790_000_000_000,
    writer: 'node-a',
    placement: { target: 1.5, minDevices: 2, maxShare: 0.5, tolerate: 1 },
  };
}

function entries(n: number, size = 100, sbn = 0): SymbolEntry[] {
  return Array.from({ length: n }, (_, i) => ({ sbn, esi: i, env: bytes(size) }));
}

type Factory = (opts?: { quotaBytes?: number }) => Promise<{ store: SymbolStore; cleanup: () => Promise<void> }>;

const factories: Record<string, Factory> = {
  lmdb: async (opts) => {
    const dir = await mkdtemp(join(tmpdir(), 'fcp-store-'));
    const store = await LmdbSymbolStore.open(dir, opts);
    return { store, cleanup: async () => { await store.close(); await rm(dir, { recursive: true, force: true }); } };
  },
  memory: async (opts) => {
    const store = new MemorySymbolStore(opts);
    return { store, cleanup: () => store.close() };
  },
};

for (const [name, make] of Object.entries(factories)) {
  test(`${name}: symbols round-trip in (sbn, esi) order; range scans stay inside one object`, async () => {
    const { store, cleanup } = await make();
    try {
      const a = bytes(32);
      const b = Uint8Array.from(a);
      b[31]! ^= 1; // neighbouring key range
      const put = [
        { sbn: 1, esi: 0, env: bytes(80) },
        { sbn: 0, esi: 0xffffff, env: bytes(80) },
        { sbn: 0, esi: 2, env: bytes(80) },
        { sbn: 255, esi: 0xffffff, env: bytes(80) },
      ];
      await store.putSymbols(a, put);
      await store.putSymbols(b, entries(3));
      const got = await store.getSymbols(a);
      assert.deepEqual(got.map((e) => [e.sbn, e.esi]), [[0, 2], [0, 0xffffff], [1, 0], [255, 0xffffff]]);
      for (const e of got) assert.deepEqual(e.env, put.find((p) => p.sbn === e.sbn && p.esi === e.esi)!.env);
      assert.deepEqual(store.symbolKeys(a), [[0, 2], [0, 0xffffff], [1, 0], [255, 0xffffff]]);
      assert.equal(store.symbolKeys(b).length, 3);
      assert.deepEqual(store.symbolKeys(bytes(32)), []);
      const wanted = await store.getSymbols(a, [[1, 0], [7, 7], [0, 2]]);
      assert.deepEqual(wanted.map((e) => [e.sbn, e.esi]), [[1, 0], [0, 2]], 'want order kept, missing skipped');
      assert.equal((await store.getSymbols(a, undefined, 2)).length, 2);
      assert.equal((await store.getSymbols(a, [[1, 0], [0, 2]], 1)).length, 1);
      assert.deepEqual(await store.getSymbols(a, undefined, 0), []);
      assert.deepEqual(store.usage(), { symbols: 7, bytes: 4 * 80 + 3 * 100, quotaBytes: null });
    } finally {
      await cleanup();
    }
  });

  test(`${name}: re-putting a symbol is idempotent; different bytes are refused and nothing of the batch is written`, async () => {
    const { store, cleanup } = await make();
    try {
      const id = bytes(32);
      const batch = entries(5, 64);
      await store.putSymbols(id, batch);
      await store.putSymbols(id, batch);
      await store.putSymbols(id, [batch[0]!, batch[0]!]);
      assert.deepEqual(store.usage(), { symbols: 5, bytes: 320, quotaBytes: null });
      const replacement = { sbn: 0, esi: 0, env: bytes(100) };
      const fresh = { sbn: 0, esi: 9, env: bytes(64) };
      await assert.rejects(store.putSymbols(id, [fresh, replacement]), (err: Error & { code?: string }) => err.code === 'STORE_CONFLICT');
      assert.deepEqual(store.usage(), { symbols: 5, bytes: 320, quotaBytes: null });
      assert.deepEqual((await store.getSymbols(id, [[0, 0]]))[0]!.env, batch[0]!.env);
      assert.equal((await store.getSymbols(id, [[0, 9]])).length, 0, 'the batch was all or nothing');
    } finally {
      await cleanup();
    }
  });

  test(`${name}: resealSymbols replaces held positions in place (same length), skips others, keeps usage and holdings`, async () => {
    const { store, cleanup } = await make();
    try {
      const id = bytes(32);
      const batch = entries(4, 64);
      await store.putSymbols(id, batch);
      await store.putManifest(manifest(id, 'z:private'));
      const digest = store.holdingsDigest('z:private');
      const fresh = [{ sbn: 0, esi: 1, env: bytes(64) }, { sbn: 0, esi: 3, env: bytes(64) }, { sbn: 0, esi: 9, env: bytes(64) }];
      assert.equal(await store.resealSymbols(id, fresh), 2, 'the position not held is skipped');
      const got = await store.getSymbols(id);
      assert.deepEqual(got.map((e) => Buffer.from(e.env)), [batch[0]!.env, fresh[0]!.env, batch[2]!.env, fresh[1]!.env].map((b) => Buffer.from(b)));
      assert.deepEqual(store.usage(), { symbols: 4, bytes: 256, quotaBytes: null });
      assert.deepEqual(store.holdingsDigest('z:private'), digest, 'counts and bytes did not change');
      await assert.rejects(store.resealSymbols(id, [{ sbn: 0, esi: 0, env: bytes(65) }, { sbn: 0, esi: 2, env: bytes(64) }]), (err: Error & { code?: string }) => err.code === 'STORE_CONFLICT');
      assert.deepEqual((await store.getSymbols(id, [[0, 2]]))[0]!.env, batch[2]!.env, 'nothing of a refused batch was written');
      assert.equal(await store.resealSymbols(bytes(32), fresh), 0, 'an object not held: nothing');
    } finally {
      await cleanup();
    }
  });

  test(`${name}: deleteSymbols removes only the named symbols, keeps the manifest and the counters exact`, async () => {
    const { store, cleanup } = await make();
    try {
      const id = bytes(32);
      await store.putSymbols(id, entries(5, 100));
      await store.putManifest(manifest(id, 'z:private'));
      await store.deleteSymbols(id, [[0, 1], [0, 3], [0, 99]]);
      assert.deepEqual(store.symbolKeys(id), [[0, 0], [0, 2], [0, 4]]);
      assert.deepEqual(store.usage(), { symbols: 3, bytes: 300, quotaBytes: null });
      assert.ok(store.getManifest(id), 'the manifest stays');
      await store.deleteSymbols(bytes(32), [[0, 0]]); // unknown object: nothing happens
      assert.equal(store.usage().symbols, 3);
      await assert.rejects(store.deleteSymbols(id, [[256, 0]]), (err: StoreError) => err.code === 'STORE_BAD_INPUT');
    } finally {
      await cleanup();
    }
  });

  test(`${name}: a batch over the quota is refused whole with STORE_QUOTA`, async () => {
    const { store, cleanup } = await make({ quotaBytes: 1000 });
    try {
      const id = bytes(32);
      await store.putSymbols(id, entries(6, 100));
      await assert.rejects(store.putSymbols(id, entries(5, 100, 1)), (e: unknown) => e instanceof StoreError && e.code === 'STORE_QUOTA');
      assert.deepEqual(store.usage(), { symbols: 6, bytes: 600, quotaBytes: 1000 });
      assert.deepEqual(store.symbolKeys(id).filter(([sbn]) => sbn === 1), [], 'nothing of the refused batch was written');
      const fill = entries(4, 100, 1);
      await store.putSymbols(id, fill); // exactly fills the quota
      assert.equal(store.usage().bytes, 1000);
      await store.putSymbols(id, fill); // idempotent re-put still fine at the limit
      await store.deleteObject(id);
      assert.deepEqual(store.usage(), { symbols: 0, bytes: 0, quotaBytes: 1000 });
    } finally {
      await cleanup();
    }
  });

  test(`${name}: concurrent batches keep counters exact and the quota strict`, async () => {
    const { store, cleanup } = await make({ quotaBytes: 20 * 10 * 50 });
    try {
      const ids = Array.from({ length: 30 }, () => bytes(32));
      // 30 batches of 10 symbols x 50 bytes race for room for 20 of them.
      const results = await Promise.allSettled(ids.map((id) => store.putSymbols(id, entries(10, 50))));
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(ok, 20);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as StoreError).code, 'STORE_QUOTA');
      assert.deepEqual(store.usage(), { symbols: 200, bytes: 10000, quotaBytes: 10000 });
      const held = ids.map((id) => store.symbolKeys(id).length);
      assert.ok(held.every((n) => n === 0 || n === 10), 'every batch is all or nothing');
    } finally {
      await cleanup();
    }
  });

  test(`${name}: manifests put, get, list by zone, delete with the object`, async () => {
    const { store, cleanup } = await make();
    try {
      const ids = [bytes(32), bytes(32), bytes(32)];
      await store.putManifest(manifest(ids[0]!, 'z:private'));
      await store.putManifest(manifest(ids[1]!, 'z:owner'));
      await store.putManifest(manifest(ids[2]!, 'z:private'));
      const m = manifest(ids[0]!, 'z:private');
      m.length = 9999;
      await store.putManifest(m);
      assert.deepEqual(store.getManifest(ids[0]!), m);
      assert.equal(store.getManifest(bytes(32)), undefined);
      assert.equal(store.listManifests().length, 3);
      assert.equal(store.listManifests('z:private').length, 2);
      assert.equal(store.listManifests('z:work').length, 0);
      assert.equal(store.manifestCount(), 3, 'a replaced manifest is counted once');
      // A walk a few at a time sees each once, in id order, and ends empty.
      const hexes = (ms: Manifest[]) => ms.map((x) => Buffer.from(x.objectId).toString('hex'));
      const sorted = ids.map((id) => Buffer.from(id).toString('hex')).sort();
      const firstTwo = store.manifestsAfter(undefined, 2);
      assert.deepEqual(hexes(firstTwo), sorted.slice(0, 2));
      assert.deepEqual(hexes(store.manifestsAfter(firstTwo[1]!.objectId, 2)), sorted.slice(2));
      assert.deepEqual(store.manifestsAfter(Buffer.from(sorted[2]!, 'hex'), 5), []);
      assert.deepEqual(hexes(store.manifestsAfter(new Uint8Array(32), 0)), []);
      await store.putSymbols(ids[0]!, entries(3));
      await store.deleteObject(ids[0]!);
      assert.equal(store.getManifest(ids[0]!), undefined);
      assert.equal(store.manifestCount(), 2);
      assert.deepEqual(store.symbolKeys(ids[0]!), []);
      assert.deepEqual(store.usage(), { symbols: 0, bytes: 0, quotaBytes: null });
      await store.deleteObject(bytes(32)); // deleting an unknown object is harmless
    } finally {
      await cleanup();
    }
  });

  test(`${name}: bad input gets STORE_BAD_INPUT and changes nothing`, async () => {
    const { store, cleanup } = await make();
    try {
      const id = bytes(32);
      await store.putSymbols(id, entries(2));
      const code = (e: unknown) => e instanceof StoreError && e.code === 'STORE_BAD_INPUT';
      await assert.rejects(store.putSymbols(bytes(31), entries(1)), code);
      await assert.rejects(store.putSymbols(id, [{ sbn: 256, esi: 0, env: bytes(5) }]), code);
      await assert.rejects(store.putSymbols(id, [{ sbn: 0, esi: 1 << 24, env: bytes(5) }]), code);
      await assert.rejects(store.putSymbols(id, [{ sbn: 0, esi: 9, env: bytes(5) }, { sbn: 0, esi: 10, env: new Uint8Array(0) }]), code);
      await assert.rejects(store.putSymbols(id, 'x' as unknown as SymbolEntry[]), code);
      await assert.rejects(store.getSymbols(id, [[0, -1]]), code);
      await assert.rejects(store.getSymbols(id, undefined, -1), code);
      await assert.rejects(store.putManifest({ ...manifest(id, 'z:a'), oti: bytes(3) }), code);
      assert.throws(() => store.symbolKeys(new Uint8Array(3)), code);
      assert.deepEqual(store.usage(), { symbols: 2, bytes: 200, quotaBytes: null });
      assert.equal(store.symbolKeys(id).length, 2);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: symbols without a manifest are collected after the grace period; a manifest or a delete ends the record`, async () => {
    const { store, cleanup } = await make();
    try {
      const [orphan, late, whole, dropped] = [bytes(32), bytes(32), bytes(32), bytes(32)];
      const before = Date.now();
      await store.putManifest(manifest(whole, 'z:private'));
      await store.putSymbols(whole, entries(3, 100));
      await store.putSymbols(orphan, entries(4, 100));
      await store.putSymbols(orphan, entries(2, 100, 1)); // a later batch keeps the first time
      await store.putSymbols(late, entries(5, 100));
      await store.putSymbols(dropped, entries(5, 100));
      await store.putManifest(manifest(late, 'z:private'));
      await store.deleteObject(dropped);
      const after = Date.now();
      assert.deepEqual(store.listOrphans(60_000, after), [], 'none due inside the grace period');
      const due = store.listOrphans(60_000, after + 60_000);
      assert.deepEqual(due.map((c) => [Buffer.from(c.objectId).toString('hex'), c.symbols]), [[Buffer.from(orphan).toString('hex'), 6]]);
      assert.equal(store.symbolKeys(orphan).length, 6, 'listing removes nothing');
      const none = await store.collectOrphans(60_000, after);
      assert.deepEqual(none, { objects: [], symbols: 0, bytes: 0, more: false }, 'nothing is collected inside the grace period');
      const report = await store.collectOrphans(60_000, after + 60_000);
      assert.equal(report.objects.length, 1);
      const [got] = report.objects;
      assert.deepEqual(got!.objectId, orphan);
      assert.equal(got!.symbols, 6);
      assert.equal(got!.bytes, 600);
      assert.ok(got!.firstSeen >= before && got!.firstSeen <= after, 'first seen when its first batch came');
      assert.deepEqual([report.symbols, report.bytes, report.more], [6, 600, false]);
      assert.deepEqual(store.symbolKeys(orphan), []);
      assert.equal(store.symbolKeys(late).length, 5, 'symbols whose manifest came later are kept');
      assert.equal(store.symbolKeys(whole).length, 3);
      assert.deepEqual(store.usage(), { symbols: 8, bytes: 800, quotaBytes: null });
      assert.deepEqual((await store.collectOrphans(0, after + 120_000)).objects, [], 'collected once');
      await assert.rejects(store.collectOrphans(-1, after), { code: 'STORE_BAD_INPUT' });
      await assert.rejects(store.collectOrphans(0, Number.NaN), { code: 'STORE_BAD_INPUT' });
      await assert.rejects(store.collectOrphans(0, after, 0), { code: 'STORE_BAD_INPUT' });
    } finally {
      await cleanup();
    }
  });

  test(`${name}: collectOrphans takes at most maxObjects per call and says when more are due`, async () => {
    const { store, cleanup } = await make();
    try {
      const ids = [bytes(32), bytes(32), bytes(32)];
      for (const id of ids) await store.putSymbols(id, entries(2, 50));
      const far = Date.now() + 3_600_000;
      const first = await store.collectOrphans(1000, far, 2);
      assert.equal(first.objects.length, 2);
      assert.equal(first.more, true);
      const second = await store.collectOrphans(1000, far, 2);
      assert.equal(second.objects.length, 1);
      assert.equal(second.more, false);
      assert.deepEqual(store.usage(), { symbols: 0, bytes: 0, quotaBytes: null });
    } finally {
      await cleanup();
    }
  });

  test(`${name}: health is ok; startFresh empties the store, keeps taking writes and is reported`, async () => {
    const { store, cleanup } = await make();
    try {
      const id = bytes(32);
      await store.putSymbols(id, entries(3));
      await store.putManifest(manifest(id, 'z:owner'));
      const h = store.health();
      assert.equal(h.state, 'ok');
      assert.equal(h.detail, null);
      assert.equal(h.startedFresh, null);
      assert.deepEqual(await store.verify(), { ok: true, symbols: 3, bytes: 300, manifests: 1, orphans: 0 });
      await assert.rejects(store.startFresh(''), { code: 'STORE_BAD_INPUT' });
      const fresh = await store.startFresh('found damaged by a test');
      assert.equal(fresh.reason, 'found damaged by a test');
      assert.match(fresh.message, /repaired from the other devices/);
      assert.deepEqual(store.usage(), { symbols: 0, bytes: 0, quotaBytes: null });
      assert.equal(store.getManifest(id), undefined);
      assert.deepEqual((await store.collectOrphans(0, Date.now() + 1000)).objects, [], 'orphan records went with the old store');
      await store.putSymbols(id, entries(2));
      assert.equal(store.symbolKeys(id).length, 2);
      assert.deepEqual(store.health().startedFresh, fresh);
      await store.close();
      assert.equal(store.health().state, 'closed');
    } finally {
      await cleanup();
    }
  });

  test(`${name}: heads move forward only; tombstones keep the later decision`, async () => {
    const { store, cleanup } = await make();
    try {
      const ref = (device: string, seq: number, zone = 'z:private') => ({ zone, device, seq, commit: bytes(32), forgotten: [bytes(32)], time: 1_790_000_000_000 + seq });
      const r2 = ref('dev-a', 2);
      assert.equal(await store.putRef(r2), true);
      assert.equal(await store.putRef(ref('dev-a', 1)), false, 'a lower seq is ignored');
      assert.equal(await store.putRef(ref('dev-a', 2)), false, 'the same seq is ignored');
      await store.putRef(ref('dev-b', 7));
      await store.putRef(ref('dev-a', 1, 'z:owner'));
      assert.deepEqual(store.listRefs('z:private').map((r) => [r.device, r.seq]), [['dev-a', 2], ['dev-b', 7]]);
      assert.deepEqual(store.listRefs('z:private')[0]!.commit, r2.commit);
      assert.equal(store.listRefs().length, 3);
      const r3 = ref('dev-a', 3);
      assert.equal(await store.putRef(r3), true);
      assert.deepEqual(store.listRefs('z:private')[0]!.forgotten, r3.forgotten);

      const id = bytes(32);
      assert.equal(await store.putTombstone({ objectId: id, zone: 'z:private', at: 100, dead: true }), true);
      assert.equal(await store.putTombstone({ objectId: id, zone: 'z:private', at: 50, dead: false }), false, 'an earlier decision loses');
      assert.equal(await store.putTombstone({ objectId: id, zone: 'z:private', at: 100, dead: false }), false, 'at the same instant dead wins');
      assert.equal(store.getTombstone(id)?.dead, true);
      assert.equal(await store.putTombstone({ objectId: id, zone: 'z:private', at: 200, dead: false }), true, 'stored again later');
      assert.equal(store.getTombstone(id)?.dead, false);
      await store.putTombstone({ objectId: bytes(32), zone: 'z:owner', at: 1, dead: true });
      assert.equal(store.listTombstones('z:private').length, 1);
      assert.equal(store.listTombstones().length, 2);
      assert.equal(store.getTombstone(bytes(32)), undefined);
      await assert.rejects(store.putRef({ ...ref('dev-c', 0) }), (e: StoreError) => e.code === 'STORE_BAD_INPUT');
      await assert.rejects(store.putTombstone({ objectId: bytes(31), zone: 'z:private', at: 1, dead: true }), (e: StoreError) => e.code === 'STORE_BAD_INPUT');
      // Expiry (the tombstone TTL): decisions before the instant go, later ones stay.
      assert.equal(await store.expireTombstones(150), 1, 'the z:owner tombstone at 1 goes; the later decision at 200 stays');
      assert.deepEqual(store.listTombstones().map((t) => t.at), [200]);
      assert.equal(await store.expireTombstones(150), 0);
      assert.equal(await store.expireTombstones(201), 1);
      assert.deepEqual(store.listTombstones(), []);
    } finally {
      await cleanup();
    }
  });

  test(`${name}: a closed store refuses calls with STORE_CLOSED`, async () => {
    const { store, cleanup } = await make();
    await store.close();
    assert.throws(() => store.usage(), { code: 'STORE_CLOSED' });
    await assert.rejects(store.putSymbols(bytes(32), entries(1)), { code: 'STORE_CLOSED' });
    await cleanup();
  });
}
