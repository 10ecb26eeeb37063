// LMDB-specific behaviour: durability across reopen, and corrupt values returned as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { open } from 'lmdb';
import { LmdbSymbolStore, symbolKey, type Manifest } from '../../src/store/index.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fcp-lmdb-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('written symbols, manifests and counters survive close and reopen', async () => {
  await withDir(async (dir) => {
    const id = bytes(32);
    const batch = Array.from({ length: 50 }, (_, i) => ({ sbn: i % 3, esi: i, env: bytes(1344) }));
    const m: Manifest = {
      objectId: id, zone: 'z:owner', schema: 'fcp.mesh:blob@1', oti: bytes(12), length: 50_000, keyId: bytes(8),
      epoch: 1, created: Date.now(), writer: 'node-b', placement: { target: 1.5, minDevices: 3, maxShare: 0.34, tolerate: 1 },
    };
    let store = await LmdbSymbolStore.open(dir, { quotaBytes: 1 << 20 });
    await store.putSymbols(id, batch);
    await store.putManifest(m);
    await store.close();

    store = await LmdbSymbolStore.open(dir, { quotaBytes: 1 << 20 });
    try {
      assert.deepEqual(store.usage(), { symbols: 50, bytes: 50 * 1344, quotaBytes: 1 << 20 });
      assert.deepEqual(store.getManifest(id), m);
      const got = await store.getSymbols(id);
      assert.equal(got.length, 50);
      for (const e of got) assert.deepEqual(e.env, batch[e.esi]!.env);
    } finally {
      await store.close();
    }
  });
});

test('a write from a child process that exits right after the promise resolves is on disk', async () => {
  await withDir(async (dir) => {
    const { spawnSync } = await import('node:child_process');
    const storeUrl = new URL('../../src/store/index.js', import.meta.url).href;
    const script = `
      import { LmdbSymbolStore } from ${JSON.stringify(storeUrl)};
      const s = await LmdbSymbolStore.open(${JSON.stringify(dir)});
      await s.putSymbols(new Uint8Array(32).fill(7), [{ sbn: 0, esi: 1, env: new Uint8Array(100).fill(9) }]);
      process.exit(0); // no close(): the acknowledged write must already be durable
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const store = await LmdbSymbolStore.open(dir);
    try {
      const got = await store.getSymbols(new Uint8Array(32).fill(7));
      assert.equal(got.length, 1);
      assert.deepEqual(got[0]!.env, new Uint8Array(100).fill(9));
      assert.equal(store.usage().symbols, 1);
    } finally {
      await store.close();
    }
  });
});

test('a value corrupted below the store is returned as-is (AEAD upstream detects it)', async () => {
  await withDir(async (dir) => {
    const id = bytes(32);
    const env = bytes(200);
    let store = await LmdbSymbolStore.open(dir);
    await store.putSymbols(id, [{ sbn: 3, esi: 9, env }]);
    await store.close();

    // Flip bytes of the stored value directly in the LMDB file's database.
    const raw = open({ path: dir, maxDbs: 4 });
    const symbols = raw.openDB<Uint8Array, Buffer>('symbols', { encoding: 'binary', keyEncoding: 'binary' });
    const key = symbolKey(id, 3, 9);
    const corrupted = Uint8Array.from(symbols.getBinary(key)!);
    corrupted[0]! ^= 0xff;
    corrupted[199]! ^= 0x01;
    await symbols.put(key, corrupted);
    await raw.close();

    store = await LmdbSymbolStore.open(dir);
    try {
      const [got] = await store.getSymbols(id, [[3, 9]]);
      assert.deepEqual(got!.env, corrupted);
      assert.notDeepEqual(got!.env, env);
    } finally {
      await store.close();
    }
  });
});

test('range scans over a large store return only the asked object, lazily bounded by limit', async () => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(dir);
    try {
      const ids = Array.from({ length: 20 }, () => bytes(32));
      await Promise.all(ids.map((id) => store.putSymbols(id, Array.from({ length: 200 }, (_, i) => ({ sbn: 0, esi: i, env: bytes(40) })))));
      assert.equal(store.usage().symbols, 4000);
      for (const id of ids.slice(0, 5)) {
        assert.equal(store.symbolKeys(id).length, 200);
        const some = await store.getSymbols(id, undefined, 7);
        assert.deepEqual(some.map((e) => e.esi), [0, 1, 2, 3, 4, 5, 6]);
      }
    } finally {
      await store.close();
    }
  });
});

test('orphan records survive a restart; a manifest after the restart still ends them', async () => {
  await withDir(async (dir) => {
    const [a, b] = [bytes(32), bytes(32)];
    const before = Date.now();
    let store = await LmdbSymbolStore.open(dir);
    await store.putSymbols(a, [{ sbn: 0, esi: 0, env: bytes(90) }]);
    await store.putSymbols(b, [{ sbn: 0, esi: 0, env: bytes(90) }]);
    await store.close();
    const closedAt = Date.now();
    store = await LmdbSymbolStore.open(dir);
    try {
      await store.putManifest({
        objectId: b, zone: 'z:owner', schema: 'fcp.mesh:blob@1', oti: bytes(12), length: 90, keyId: bytes(8),
        epoch: 0, created: before, writer: 'node-a', placement: { target: 1.5, minDevices: 2, maxShare: 0.5, tolerate: 1 },
      });
      const report = await store.collectOrphans(10_000, closedAt + 10_000);
      assert.equal(report.objects.length, 1);
      assert.deepEqual(report.objects[0]!.objectId, a);
      assert.ok(report.objects[0]!.firstSeen >= before && report.objects[0]!.firstSeen <= closedAt, 'the time from before the restart');
      assert.equal(store.symbolKeys(b).length, 1);
    } finally {
      await store.close();
    }
  });
});

test('startFresh waits for writes in flight, and writes issued after it land in the new store', async () => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(join(dir, 'store'));
    try {
      const [early, late] = [bytes(32), bytes(32)];
      const earlyPut = store.putSymbols(early, [{ sbn: 0, esi: 0, env: bytes(50) }]);
      const swap = store.startFresh('replaced by a test');
      const latePut = store.putSymbols(late, [{ sbn: 0, esi: 1, env: bytes(60) }]);
      const [, fresh] = await Promise.all([earlyPut, swap, latePut]);
      assert.ok(fresh.movedTo);
      assert.deepEqual(store.symbolKeys(early), [], 'the write before the swap went with the old store');
      assert.deepEqual(store.symbolKeys(late), [[0, 1]]);
      assert.deepEqual(store.usage(), { symbols: 1, bytes: 60, quotaBytes: null });
      const old = await LmdbSymbolStore.open(fresh.movedTo);
      try {
        assert.deepEqual(old.symbolKeys(early), [[0, 0]], 'and is kept there');
      } finally {
        await old.close();
      }
    } finally {
      await store.close();
    }
  });
});

test('a manifest damaged below the store is left out of the listing, named by getManifest, and replaced by a fresh put', async () => {
  await withDir(async (dir) => {
    const m = (objectId: Uint8Array): Manifest => ({
      objectId, zone: 'z:owner', schema: 'fcp.mesh:blob@1', oti: bytes(12), length: 9, keyId: bytes(8),
      epoch: 0, created: 1, writer: 'node-a', placement: { target: 1.5, minDevices: 2, maxShare: 0.5, tolerate: 1 },
    });
    const [good, bad] = [bytes(32), bytes(32)];
    let store = await LmdbSymbolStore.open(dir);
    await store.putManifest(m(good));
    await store.putManifest(m(bad));
    await store.close();
    const raw = open({ path: dir, maxDbs: 8 });
    const manifests = raw.openDB<Uint8Array, Buffer>('manifests', { encoding: 'binary', keyEncoding: 'binary' });
    await manifests.put(Buffer.from(bad), Buffer.from([0xff, 0x00, 0x13]));
    await raw.close();
    store = await LmdbSymbolStore.open(dir);
    try {
      assert.deepEqual(store.listManifests().map((x) => Buffer.from(x.objectId).toString('hex')), [Buffer.from(good).toString('hex')]);
      assert.throws(() => store.getManifest(bad), { code: 'STORE_CORRUPT' });
      await store.putManifest(m(bad));
      assert.equal(store.listManifests().length, 2);
      assert.equal(store.health().state, 'ok', 'one bad value is not a damaged file');
    } finally {
      await store.close();
    }
  });
});

test('heads and tombstones survive close and reopen', async () => {
  await withDir(async (dir) => {
    const commit = bytes(32);
    const id = bytes(32);
    const store = await LmdbSymbolStore.open(dir);
    await store.putRef({ zone: 'z:private', device: 'dev-a', seq: 4, commit, forgotten: [], time: 5 });
    await store.putTombstone({ objectId: id, zone: 'z:private', at: 9, dead: true });
    await store.close();
    const again = await LmdbSymbolStore.open(dir);
    try {
      assert.deepEqual(again.listRefs('z:private').map((r) => [r.device, r.seq, Buffer.from(r.commit).toString('hex')]), [['dev-a', 4, Buffer.from(commit).toString('hex')]]);
      assert.equal(again.getTombstone(id)?.dead, true);
      assert.equal(await again.putRef({ zone: 'z:private', device: 'dev-a', seq: 3, commit: bytes(32), forgotten: [], time: 6 }), false, 'still only forward');
    } finally {
      await again.close();
    }
  });
});

test('symbols of the sizes objects are coded with take about their own size on disk: segments hold them, LMDB only where they are', async () => {
  const { chooseSymbolSize } = await import('../../src/mesh/objects.js');
  const { ENVELOPE_OVERHEAD } = await import('../../src/crypto/index.js');
  for (const objectBytes of [1 << 20, 3 << 20]) {
    await withDir(async (dir) => {
      const t = chooseSymbolSize(objectBytes);
      const store = await LmdbSymbolStore.open(dir);
      let stored = 0;
      for (let o = 0; o < 24; o++) {
        const entries = Array.from({ length: 40 }, (_, esi) => ({ sbn: 0, esi, env: bytes(t + ENVELOPE_OVERHEAD) }));
        await store.putSymbols(bytes(32), entries);
        stored += entries.length * (t + ENVELOPE_OVERHEAD);
      }
      await store.close();
      const segments = join(dir, 'segments');
      const segmentBytes = readdirSync(segments).reduce((n, f) => n + statSync(join(segments, f)).size, 0);
      // data.mdb grows in steps of its map: count the pages the symbols tree uses instead.
      const root = open({ path: dir, readOnly: true, maxDbs: 12 });
      const s = root.openDB('symbols', { encoding: 'binary', keyEncoding: 'binary' }).getStats() as { overflowPages: number; treeLeafPageCount: number; treeBranchPageCount: number; pageSize: number; entryCount: number };
      await root.close();
      assert.equal(s.entryCount, 24 * 40);
      assert.equal(s.overflowPages, 0, 'no envelope sits on LMDB overflow pages');
      const used = segmentBytes + (s.treeLeafPageCount + s.treeBranchPageCount) * s.pageSize;
      // The index costs about 60 bytes per symbol (key, location, node header), leaves half full.
      assert.ok(used <= stored * 1.02, `T=${t}: ${used} bytes on disk for ${stored} bytes of envelopes`);
    });
  }
});
