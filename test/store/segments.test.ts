// Large envelopes in segment files beside LMDB: what is stored where, reading back, re-puts,
// quota, deletion giving the disk space back (compaction), leftovers of a crash, and damage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { open } from 'lmdb';
import { LmdbSymbolStore, StoreError, type SymbolEntry } from '../../src/store/index.js';
import { SEGMENT_MIN_BYTES } from '../../src/store/segments.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const BIG = 8168;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const parent = await mkdtemp(join(tmpdir(), 'fcp-seg-'));
  try {
    // Inside a directory of its own, so stores moved aside are removed with it.
    await fn(join(parent, 'store'));
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

function segmentFiles(dir: string): Array<{ name: string; size: number }> {
  return readdirSync(join(dir, 'segments'))
    .sort()
    .map((name) => ({ name, size: statSync(join(dir, 'segments', name)).size }));
}

const segmentBytes = (dir: string) => segmentFiles(dir).reduce((n, f) => n + f.size, 0);

function batch(n: number, size = BIG): SymbolEntry[] {
  return Array.from({ length: n }, (_, esi) => ({ sbn: 0, esi, env: bytes(size) }));
}

function assertSame(got: SymbolEntry[], want: SymbolEntry[]): void {
  assert.deepEqual(
    got.map((e) => [e.sbn, e.esi]),
    want.map((e) => [e.sbn, e.esi]),
  );
  got.forEach((e, i) => assert.ok(Buffer.from(e.env).equals(Buffer.from(want[i]!.env)), `envelope ${i} reads back as stored`));
}

test('envelopes from SEGMENT_MIN_BYTES on go to segment files; LMDB keeps where they are; mixed objects read back in order', async () => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(dir);
    const id = bytes(32);
    // Interleaved small and large envelopes of one object, over two blocks.
    const entries = Array.from({ length: 40 }, (_, i) => ({ sbn: i % 2, esi: i, env: bytes(i % 3 === 0 ? 700 : BIG) }));
    await store.putSymbols(id, entries);
    const sorted = [...entries].sort((a, b) => a.sbn - b.sbn || a.esi - b.esi);
    assertSame(await store.getSymbols(id), sorted);
    assertSame(await store.getSymbols(id, [[1, 39], [0, 0], [1, 5]]), [entries[39]!, entries[0]!, entries[5]!]);
    assertSame(await store.getSymbols(id, undefined, 3), sorted.slice(0, 3));
    const bigBytes = entries.filter((e) => e.env.length >= SEGMENT_MIN_BYTES).reduce((n, e) => n + e.env.length, 0);
    assert.equal(segmentBytes(dir), bigBytes, 'the segment holds exactly the large envelopes');
    assert.deepEqual(store.usage(), { symbols: 40, bytes: entries.reduce((n, e) => n + e.env.length, 0), quotaBytes: null });
    await store.close();

    const root = open({ path: dir, readOnly: true, maxDbs: 12 });
    const stats = root.openDB('symbols', { encoding: 'binary', keyEncoding: 'binary' }).getStats() as { overflowPages: number; entryCount: number };
    await root.close();
    assert.equal(stats.entryCount, 40);
    assert.equal(stats.overflowPages, 0, 'no envelope sits on LMDB overflow pages');

    const again = await LmdbSymbolStore.open(dir);
    assertSame(await again.getSymbols(id), sorted);
    assert.deepEqual(await again.verify(), { ok: true, symbols: 40, bytes: again.usage().bytes, manifests: 0, orphans: 1 });
    await again.close();
  });
});

test('a re-put of held envelopes writes no data; other bytes at a held position are refused; a quota refusal writes nothing', async () => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(dir, { quotaBytes: 30 * BIG });
    const id = bytes(32);
    const first = batch(20);
    await store.putSymbols(id, first);
    const size = segmentBytes(dir);
    await store.putSymbols(id, first);
    assert.equal(segmentBytes(dir), size, 'an idempotent re-put appends nothing');
    await assert.rejects(store.putSymbols(id, [{ sbn: 0, esi: 3, env: bytes(BIG) }]), (e: StoreError) => e.code === 'STORE_CONFLICT');
    assert.equal(segmentBytes(dir), size);
    await assert.rejects(store.putSymbols(bytes(32), batch(11)), (e: StoreError) => e.code === 'STORE_QUOTA');
    assert.equal(segmentBytes(dir), size, 'a batch above the quota appends nothing');
    assertSame(await store.getSymbols(id), first);
    await store.close();
  });
});

test('deleting gives the disk space back: sealed segments at most half live are copied forward and removed', async () => {
  await withDir(async (dir) => {
    // Three objects of 8 envelopes per segment.
    const SEGMENT = 3 * 8 * BIG;
    const store = await LmdbSymbolStore.open(dir, { segmentBytes: SEGMENT });
    const objects = Array.from({ length: 24 }, () => ({ id: bytes(32), entries: batch(8) }));
    for (const o of objects) await store.putSymbols(o.id, o.entries);
    assert.equal(segmentFiles(dir).length, 8);
    const stored = segmentBytes(dir);
    // Keep every third object: every segment ends up a third live.
    const kept = objects.filter((_, i) => i % 3 === 0);
    for (const [i, o] of objects.entries()) {
      if (i % 3 === 0) continue;
      if (i % 2 === 0) await store.deleteObject(o.id);
      else await store.deleteSymbols(o.id, o.entries.map((e) => [e.sbn, e.esi]));
    }
    await store.compacted();
    const live = kept.length * 8 * BIG;
    const after = segmentBytes(dir);
    assert.ok(after < stored / 2, `segments shrank from ${stored} to ${after} bytes`);
    // What is left is the live data, plus at most one segment not worth copying yet.
    assert.ok(after <= live + SEGMENT, `${after} bytes on disk for ${live} live`);
    for (const o of kept) assertSame(await store.getSymbols(o.id), o.entries);
    assert.equal(store.usage().bytes, live);
    await store.close();

    const again = await LmdbSymbolStore.open(dir, { segmentBytes: SEGMENT });
    for (const o of kept) assertSame(await again.getSymbols(o.id), o.entries);
    const check = await again.verify();
    assert.equal(check.ok, true, JSON.stringify(check));
    await again.close();
  });
});

test('a small store gets its space back too: the segment being appended to is sealed and compacted once at most half live', async () => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(dir);
    const objects = Array.from({ length: 6 }, () => ({ id: bytes(32), entries: batch(8) }));
    for (const o of objects) await store.putSymbols(o.id, o.entries);
    assert.equal(segmentFiles(dir).length, 1);
    await store.deleteObject(objects[0]!.id);
    await store.deleteObject(objects[1]!.id);
    await store.compacted();
    assert.equal(segmentBytes(dir), 6 * 8 * BIG, 'two thirds live: left as it is');
    for (const o of objects.slice(2, 5)) await store.deleteObject(o.id);
    await store.compacted();
    assert.equal(segmentBytes(dir), 8 * BIG, 'one sixth live: copied forward, the old segment removed');
    assertSame(await store.getSymbols(objects[5]!.id), objects[5]!.entries);
    await store.putSymbols(objects[0]!.id, objects[0]!.entries);
    assertSame(await store.getSymbols(objects[0]!.id), objects[0]!.entries);
    await store.close();
  });
});

test('a check out of process holds compaction off, so no segment is removed under its snapshot', async (t) => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(dir);
    const objects = Array.from({ length: 6 }, () => ({ id: bytes(32), entries: batch(8) }));
    for (const o of objects) await store.putSymbols(o.id, o.entries);
    const before = segmentBytes(dir);
    let checking = true;
    const check = store.verify().finally(() => (checking = false));
    for (const o of objects.slice(0, 5)) await store.deleteObject(o.id);
    // The child takes far longer to start than five deletes; if it was done already, the
    // hold-off had nothing to hold and only the outcome below is checked.
    if (checking) assert.equal(segmentBytes(dir), before, 'nothing compacted while the check runs');
    else t.diagnostic('the check ended before the deletes did');
    const report = await check;
    assert.equal(report.ok, true, JSON.stringify(report));
    await store.compacted();
    assert.equal(segmentBytes(dir), 8 * BIG, 'compaction ran once the check was over');
    await store.close();
  });
});

test('a read under way keeps its segment: compaction passes over it until the read ends', async () => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(dir, { segmentBytes: 8 * BIG });
    const a = { id: bytes(32), entries: batch(8) };
    const b = { id: bytes(32), entries: batch(8) };
    await store.putSymbols(a.id, a.entries);
    await store.putSymbols(b.id, b.entries); // seals a's segment
    const reading = store.getSymbols(a.id);
    await store.deleteObject(a.id);
    assertSame(await reading, a.entries);
    await store.compacted();
    // Once nothing reads it, the next compaction removes the emptied segment.
    await store.deleteSymbols(b.id, [[0, 0]]);
    await store.compacted();
    assert.equal(segmentFiles(dir).length, 1, 'only the active segment is left');
    await store.close();
  });
});

test('re-sealing large envelopes: the new bytes read back, usage is unchanged, the old copy is dead space', async () => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(dir);
    const id = bytes(32);
    await store.putSymbols(id, batch(10));
    const usage = store.usage();
    const resealed = batch(10);
    assert.equal(await store.resealSymbols(id, [...resealed, { sbn: 0, esi: 99, env: bytes(BIG) }]), 10);
    assertSame(await store.getSymbols(id), resealed);
    assert.deepEqual(store.usage(), usage);
    await assert.rejects(store.resealSymbols(id, [{ sbn: 0, esi: 0, env: bytes(BIG + 8) }]), (e: StoreError) => e.code === 'STORE_CONFLICT');
    await store.close();
  });
});

test('leftovers of a crash: a segment file no pointer names is removed at open, and appends start a new segment', async () => {
  await withDir(async (dir) => {
    let store = await LmdbSymbolStore.open(dir);
    const id = bytes(32);
    const entries = batch(4);
    await store.putSymbols(id, entries);
    await store.close();
    // An append whose transaction never committed leaves a file (or a tail) nothing points into.
    writeFileSync(join(dir, 'segments', '00000007.seg'), bytes(3 * BIG));
    store = await LmdbSymbolStore.open(dir);
    assert.deepEqual(segmentFiles(dir).map((f) => f.name), ['00000000.seg']);
    await store.putSymbols(bytes(32), batch(2));
    assert.deepEqual(segmentFiles(dir).map((f) => f.name), ['00000000.seg', '00000008.seg']);
    assertSame(await store.getSymbols(id), entries);
    await store.close();
  });
});

test('damage: a missing segment moves the store aside at open; a cut one is STORE_CORRUPT on read and found by verify', async () => {
  await withDir(async (dir) => {
    let store = await LmdbSymbolStore.open(dir);
    const id = bytes(32);
    await store.putSymbols(id, batch(6));
    await store.close();
    truncateSync(join(dir, 'segments', '00000000.seg'), 2 * BIG);
    store = await LmdbSymbolStore.open(dir);
    const check = await store.verify();
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.reason, /point past the end of their segment file/);
    assert.equal(store.health().state, 'corrupt');
    await store.startFresh('segment cut short');
    assert.equal(store.usage().symbols, 0);
    await store.putSymbols(id, batch(2));
    await store.close();

    store = await LmdbSymbolStore.open(dir);
    await store.close();
    truncateSync(join(dir, 'segments', '00000000.seg'), BIG);
    store = await LmdbSymbolStore.open(dir);
    await assert.rejects(store.getSymbols(id), (e: StoreError) => e.code === 'STORE_CORRUPT' && /ends early/.test(e.message));
    assert.equal(store.health().state, 'corrupt');
    await store.close();

    unlinkSync(join(dir, 'segments', '00000000.seg'));
    store = await LmdbSymbolStore.open(dir);
    const fresh = store.health().startedFresh;
    assert.ok(fresh, 'the store started fresh');
    assert.match(fresh.reason, /00000000\.seg is missing/);
    assert.equal(store.usage().symbols, 0);
    await store.close();
    assert.ok(fresh.movedTo && statSync(fresh.movedTo).isDirectory(), 'the damaged store was kept aside');
  });
});

test('a deleted segments directory is noticed before the next write: STORE_GONE', async () => {
  await withDir(async (dir) => {
    const store = await LmdbSymbolStore.open(dir);
    await store.putSymbols(bytes(32), batch(2));
    await rm(join(dir, 'segments'), { recursive: true });
    await assert.rejects(store.putSymbols(bytes(32), batch(2)), (e: StoreError) => e.code === 'STORE_GONE');
    assert.equal(store.health().state, 'gone');
    await store.close();
  });
});
