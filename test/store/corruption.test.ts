// Damaged LMDB files (truncated, garbage, flipped tree pointers) on real stores: the store
// never takes the process down, names the file, moves the damage aside and starts empty.
// Each case opens the damaged store in a child process, where a SIGBUS/SIGSEGV would show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbSymbolStore, StoreError, type FreshStart, type StoreHealth } from '../../src/store/index.js';
import { objectIdOf } from './children/ids.js';
import { breakBranchPages, garbage, oversizeLeafValues, truncate } from './damage.js';

const child = fileURLToPath(new URL('./children/open-damaged.js', import.meta.url));
const OBJECTS = 150;

interface Report {
  atOpen: StoreHealth;
  readable: number;
  readError: { code: string | null; path: string | null; message: string } | null;
  afterRead: { state: string; detail: string | null };
  writeError: { code: string | null; path: string | null; message: string } | null;
  fresh: FreshStart | null;
  probeBack: Array<[number, number, number]>;
  final: StoreHealth;
  usage: { symbols: number; bytes: number };
  reopened: { startedFresh: FreshStart | null; usage: { symbols: number; bytes: number } };
  modes: { dir: string; data: string; lock: string };
}

async function buildStore(): Promise<{ root: string; dir: string; file: string }> {
  const root = mkdtempSync(join(tmpdir(), 'fcp-damage-'));
  const dir = join(root, 'store');
  const store = await LmdbSymbolStore.open(dir);
  for (let i = 0; i < OBJECTS; i++) {
    const env = (esi: number) => Uint8Array.from({ length: 1300 }, (_, k) => (i + esi + k) & 0xff);
    await store.putSymbols(objectIdOf(i), Array.from({ length: 20 }, (_, esi) => ({ sbn: 0, esi, env: env(esi) })));
  }
  assert.equal(store.usage().symbols, OBJECTS * 20);
  await store.close();
  return { root, dir, file: join(dir, 'data.mdb') };
}

function openInChild(dir: string): Report {
  const r = spawnSync(process.execPath, [child, dir, String(OBJECTS)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, `the child was killed by ${r.signal}; stderr: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, `the child failed (status ${r.status}); stderr: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Report;
}

function assertFreshAndUsable(r: Report): void {
  assert.deepEqual(r.probeBack, [[0, 3, 80]], 'the fresh store takes writes and reads them back');
  assert.equal(r.final.state, 'ok');
  assert.deepEqual(r.usage, { symbols: 1, bytes: 80, quotaBytes: null });
  assert.equal(r.reopened.startedFresh, null, 'the fresh store is not quarantined again at the next start');
  assert.deepEqual(r.reopened.usage, { symbols: 1, bytes: 80, quotaBytes: null });
  assert.deepEqual(r.modes, { dir: '700', data: '600', lock: '600' });
}

function assertMovedAside(fresh: FreshStart, dir: string, damagedSize: number): void {
  assert.equal(fresh.dir, dir);
  assert.ok(fresh.movedTo, 'the damaged store was moved, not deleted');
  assert.equal(dirname(fresh.movedTo), dirname(dir));
  assert.match(basename(fresh.movedTo), /^store\.corrupt-\d{8}T\d{6}Z(-\d+)?$/);
  assert.equal(statSync(fresh.movedTo).mode & 0o777, 0o700);
  assert.equal(statSync(join(fresh.movedTo, 'data.mdb')).size, damagedSize, 'the damaged file is kept as it was, for inspection');
  assert.ok(fresh.message.includes(dir) && fresh.message.includes(fresh.movedTo), fresh.message);
  assert.match(fresh.message, /repaired from the other devices/);
}

for (const kind of ['truncated', 'garbage'] as const) {
  test(`a ${kind} data.mdb is caught before LMDB maps it: moved aside, an empty store opened and reported`, async () => {
    const { root, dir, file } = await buildStore();
    try {
      if (kind === 'truncated') truncate(file, 0.4);
      else garbage(file);
      const damagedSize = statSync(file).size;
      const r = openInChild(dir);
      assert.ok(r.atOpen.startedFresh, 'the store says it started fresh');
      assert.match(r.atOpen.startedFresh.reason, kind === 'truncated' ? /truncated/ : /magic|meta/);
      assertMovedAside(r.atOpen.startedFresh, dir, damagedSize);
      assert.equal(r.readable, 0);
      assert.equal(r.readError, null);
      assertFreshAndUsable(r);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('flipped tree pointers: reads fail with STORE_CORRUPT naming data.mdb, writes are refused, startFresh replaces the store at run time', async () => {
  const { root, dir, file } = await buildStore();
  try {
    assert.ok(breakBranchPages(file) > 0, 'the tree has branch pages to damage');
    const damagedSize = statSync(file).size;
    const r = openInChild(dir);
    assert.equal(r.atOpen.startedFresh, null, 'the meta pages are intact: nothing to see at open');
    assert.ok(r.readError, 'the damage shows on read');
    assert.equal(r.readError.code, 'STORE_CORRUPT', r.readError.message);
    assert.equal(r.readError.path, file);
    assert.match(r.readError.message, /MDB_PAGE_NOTFOUND/);
    assert.equal(r.afterRead.state, 'corrupt');
    assert.equal(r.writeError?.code, 'STORE_CORRUPT', 'a damaged store takes no more writes');
    assert.ok(r.fresh);
    assert.equal(r.fresh.reason, r.readError.message);
    assertMovedAside(r.fresh, dir, damagedSize);
    assert.deepEqual(r.final.startedFresh, r.fresh, 'health keeps saying that the store started fresh');
    assertFreshAndUsable(r);
    assert.ok(existsSync(r.fresh.movedTo!));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('verify walks a healthy store out of process and agrees with its usage record', async () => {
  const { root, dir } = await buildStore();
  const store = await LmdbSymbolStore.open(dir);
  try {
    assert.deepEqual(await store.verify(), { ok: true, symbols: OBJECTS * 20, bytes: OBJECTS * 20 * 1300, manifests: 0, orphans: OBJECTS });
    assert.equal(store.health().state, 'ok');
    await assert.rejects(store.verify(0), { code: 'STORE_BAD_INPUT' });
  } finally {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  }
});

for (const kind of ['flipped tree pointers', 'leaf values sized past the file'] as const) {
  test(`verify finds ${kind} without faulting this process; reads are then refused until startFresh`, async () => {
    const { root, dir, file } = await buildStore();
    try {
      // The second kind makes LMDB read outside its map: an in-process read would SIGSEGV.
      if (kind === 'flipped tree pointers') assert.ok(breakBranchPages(file) > 0);
      else assert.equal(oversizeLeafValues(file, 5), 5);
      const store = await LmdbSymbolStore.open(dir);
      try {
        assert.equal(store.health().startedFresh, null, 'the header is intact');
        const usage = store.usage();
        const report = await store.verify();
        assert.equal(report.ok, false);
        assert.ok(!report.ok && report.damaged, 'a damaged verdict');
        assert.match(!report.ok ? report.reason : '', kind === 'flipped tree pointers' ? /MDB_PAGE_NOTFOUND/ : /SIGSEGV|SIGBUS|MDB_/);
        assert.equal(store.health().state, 'corrupt');
        assert.throws(() => store.symbolKeys(objectIdOf(0)), (e: unknown) => e instanceof StoreError && e.code === 'STORE_CORRUPT' && e.path === file);
        await assert.rejects(store.getSymbols(objectIdOf(1)), { code: 'STORE_CORRUPT' });
        assert.deepEqual(store.usage(), usage, 'status still shows the last counters');
        const fresh = await store.startFresh(!report.ok ? report.reason : '');
        assert.ok(fresh.movedTo);
        assert.deepEqual(await store.verify(), { ok: true, symbols: 0, bytes: 0, manifests: 0, orphans: 0 });
        assert.deepEqual(await store.getSymbols(objectIdOf(0)), []);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
