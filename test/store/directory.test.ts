// The store's directory deleted or replaced under a running store, and the modes of its files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbSymbolStore, StoreError, type SymbolEntry } from '../../src/store/index.js';

const id = (n: number) => new Uint8Array(32).fill(n);
const batch = (n: number): SymbolEntry[] => [{ sbn: 0, esi: n, env: new Uint8Array(100).fill(n) }];
const modeOf = (p: string) => statSync(p).mode & 0o777;

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fcp-storedir-'));
  try {
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a deleted store directory: writes refused with STORE_GONE naming it, reads still served, health says gone', async () => {
  await withRoot(async (root) => {
    const dir = join(root, 'store');
    const store = await LmdbSymbolStore.open(dir);
    try {
      await store.putSymbols(id(1), batch(1));
      assert.equal(store.health().state, 'ok');
      rmSync(dir, { recursive: true, force: true });
      const h = store.health();
      assert.equal(h.state, 'gone', 'status shows it before any write');
      assert.ok(h.detail?.includes(dir), h.detail ?? '');
      for (const write of [
        () => store.putSymbols(id(2), batch(2)),
        () => store.deleteObject(id(1)),
        () => store.collectOrphans(0, Date.now()),
      ]) {
        await assert.rejects(write(), (e: unknown) => e instanceof StoreError && e.code === 'STORE_GONE' && e.path === dir && e.message.includes(dir));
      }
      assert.equal((await store.getSymbols(id(1))).length, 1, 'what was stored still reads from the open files');
      assert.equal(existsSync(dir), false, 'a refused write does not recreate the directory');
      // startFresh recreates it empty and writes work again.
      const fresh = await store.startFresh('store directory deleted');
      assert.equal(fresh.movedTo, null);
      assert.match(fresh.message, /no longer there/);
      await store.putSymbols(id(3), batch(3));
      assert.deepEqual(store.usage(), { symbols: 1, bytes: 100, quotaBytes: null });
      assert.equal(store.health().state, 'ok');
      assert.deepEqual(store.health().startedFresh, fresh);
    } finally {
      await store.close();
    }
    const again = await LmdbSymbolStore.open(dir);
    try {
      assert.equal(again.symbolKeys(id(3)).length, 1, 'the write after startFresh is on disk');
    } finally {
      await again.close();
    }
  });
});

test('a store directory replaced by another one (moved away, recreated) is detected as well', async () => {
  await withRoot(async (root) => {
    const dir = join(root, 'store');
    const store = await LmdbSymbolStore.open(dir);
    try {
      await store.putSymbols(id(1), batch(1));
      renameSync(dir, join(root, 'elsewhere'));
      mkdirSync(dir);
      await assert.rejects(store.putManifest({
        objectId: id(1), zone: 'z:private', schema: 'fcp.mesh:blob@1', oti: new Uint8Array(12), length: 1, keyId: new Uint8Array(8),
        epoch: 0, created: 0, writer: 'w', placement: { target: 1.5, minDevices: 2, maxShare: 0.5, tolerate: 1 },
      }), { code: 'STORE_GONE' });
      assert.match(store.health().detail ?? '', /deleted|replaced/);
    } finally {
      await store.close();
    }
  });
});

test('data.mdb and lock.mdb are 0600 and the directory 0700, also when older files were wider', async () => {
  await withRoot(async (root) => {
    const dir = join(root, 'store');
    const old = process.umask(0o022);
    try {
      let store = await LmdbSymbolStore.open(dir);
      await store.putSymbols(id(1), batch(1));
      assert.equal(modeOf(join(dir, 'data.mdb')), 0o600);
      assert.equal(modeOf(join(dir, 'lock.mdb')), 0o600);
      assert.equal(modeOf(dir), 0o700);
      await store.close();
      for (const f of ['data.mdb', 'lock.mdb']) chmodSync(join(dir, f), 0o644);
      chmodSync(dir, 0o755);
      store = await LmdbSymbolStore.open(dir);
      await store.close();
      assert.equal(modeOf(join(dir, 'data.mdb')), 0o600);
      assert.equal(modeOf(join(dir, 'lock.mdb')), 0o600);
      assert.equal(modeOf(dir), 0o700);
    } finally {
      process.umask(old);
    }
  });
});
