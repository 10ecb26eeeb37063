// A holder's summary is untrusted input: a malformed page (out of order, from buckets not asked
// for, too long, a cursor that does not match) or an oversized one is refused with a typed error,
// and what was cached of that holder stays as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SummaryCache, type Holder } from '../../src/mesh/index.js';
import { MemorySymbolStore, type HoldingEntry, type Manifest } from '../../src/store/index.js';
import { makeMessage, validateMessage, SUMMARY_PAGE_MAX } from '../../src/wire/index.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function manifest(objectId: Uint8Array): Manifest {
  return { objectId, zone: 'z:private', schema: 's', oti: bytes(12), length: 10, keyId: bytes(8), epoch: 0, created: 1, writer: 'w', placement: { target: 1.5, minDevices: 2, maxShare: 0.5, tolerate: 1 } };
}

/** A holder that answers from a real store, with its pages passed through `tamper`. */
function holderOf(store: MemorySymbolStore, tamper: (entries: HoldingEntry[], next: Uint8Array | undefined) => { entries: HoldingEntry[]; next?: Uint8Array }): Holder {
  return {
    stableId: 'nHostile',
    hostName: 'hostile',
    local: false,
    summaryDigests: async (zones) => zones.map((z) => store.holdingsDigest(z)),
    summaryPage: async (zone, buckets, after, limit) => {
      const p = store.holdingsPage(zone, buckets, after, limit);
      return tamper(p.entries, p.next);
    },
  } as Partial<Holder> as Holder;
}

async function filled(n: number): Promise<{ store: MemorySymbolStore; ids: Uint8Array[] }> {
  const store = new MemorySymbolStore();
  const ids: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const id = bytes(32);
    id[0] = 7; // one bucket, so a change refetches several pages of it
    ids.push(id);
    await store.putSymbols(id, [{ sbn: 0, esi: 0, env: bytes(80) }, { sbn: 0, esi: 1, env: bytes(80) }]);
    await store.putManifest(manifest(id));
  }
  return { store, ids };
}

test('malformed summary pages are refused with MESH_BAD_SUMMARY and leave the cache as it was', async () => {
  const { store, ids } = await filled(12);
  const cache = new SummaryCache({ pageLimit: 4 });
  const honest = holderOf(store, (entries, next) => ({ entries, ...(next ? { next } : {}) }));
  const first = (await cache.refresh([{ holder: honest, zones: ['z:private'] }])).get('nHostile')!;
  assert.ok(first.ok);
  assert.deepEqual(first.zones.get('z:private')!.counts(hex(ids[0]!)), [2]);

  // The store changes, so the next refresh must fetch pages; each hostile variant is refused.
  await store.putSymbols(ids[0]!, [{ sbn: 0, esi: 9, env: bytes(80) }]);
  const other = bytes(32);
  const variants: Array<[string, Parameters<typeof holderOf>[1]]> = [
    ['reversed order', (e, n) => ({ entries: [...e].reverse(), ...(n ? { next: n } : {}) })],
    ['an entry of a bucket not asked for', (e, n) => ({ entries: [...e.slice(0, -1), { objectId: Uint8Array.from([(e[0]!.objectId[0]! + 1) % 256, ...bytes(31)]), counts: [1] }].sort((x, y) => Buffer.compare(x.objectId, y.objectId)), ...(n ? { next: n } : {}) })],
    ['more entries than asked', (e, n) => ({ entries: [...e, ...e, ...e], ...(n ? { next: n } : {}) })],
    ['a cursor that is not the last entry', (e) => ({ entries: e, next: other })],
    ['a cursor that never ends', () => ({ entries: [], next: other })],
  ];
  for (const [what, tamper] of variants) {
    const r = (await cache.refresh([{ holder: holderOf(store, tamper), zones: ['z:private'] }])).get('nHostile')!;
    assert.equal(r.ok, false, what);
    assert.equal((r as { error: Error & { code?: string } }).error.code, 'MESH_BAD_SUMMARY', what);
  }
  // Nothing of the refused pages was kept: the honest holder's old counts are still there, and
  // the next honest refresh sees the change.
  const again = (await cache.refresh([{ holder: honest, zones: ['z:private'] }])).get('nHostile')!;
  assert.ok(again.ok);
  assert.deepEqual(again.zones.get('z:private')!.counts(hex(ids[0]!)), [3]);
});

test('a digest that is not the XOR of its buckets, or of a zone not asked for, is refused', async () => {
  const { store } = await filled(3);
  const cache = new SummaryCache();
  const lying: Holder = {
    ...holderOf(store, (entries) => ({ entries })),
    summaryDigests: async (zones) => zones.map((z) => ({ ...store.holdingsDigest(z), digest: bytes(16) })),
  };
  const r = (await cache.refresh([{ holder: lying, zones: ['z:private'] }])).get('nHostile')!;
  assert.equal(!r.ok && (r.error as Error & { code?: string }).code, 'MESH_BAD_SUMMARY');
  const stray: Holder = { ...lying, summaryDigests: async () => [store.holdingsDigest('z:owner')] };
  const s = (await cache.refresh([{ holder: stray, zones: ['z:private'] }])).get('nHostile')!;
  assert.equal(!s.ok && (s.error as Error & { code?: string }).code, 'MESH_BAD_SUMMARY');
});

test('an oversized summary page or a bucket out of range is refused by the wire schema', () => {
  const entry = { objectId: bytes(32), counts: [1] };
  const big = { v: 1, t: 'summary_page', id: 3, entries: Array.from({ length: SUMMARY_PAGE_MAX + 1 }, () => entry) };
  assert.throws(() => validateMessage(big), (e: Error & { code?: string }) => e.code === 'PROTO_BAD_MESSAGE');
  const tooManyBlocks = { v: 1, t: 'summary_page', id: 3, entries: [{ objectId: bytes(32), counts: Array.from({ length: 257 }, () => 1) }] };
  assert.throws(() => validateMessage(tooManyBlocks), (e: Error & { code?: string }) => e.code === 'PROTO_BAD_MESSAGE');
  assert.throws(() => validateMessage({ v: 1, t: 'summary', id: 4, zone: 'z:private', buckets: [256], limit: 10 }), (e: Error & { code?: string }) => e.code === 'PROTO_BAD_MESSAGE');
  assert.throws(() => validateMessage({ v: 1, t: 'summary', id: 4, zone: 'z:private', buckets: [1], limit: SUMMARY_PAGE_MAX + 1 }), (e: Error & { code?: string }) => e.code === 'PROTO_BAD_MESSAGE');
  assert.doesNotThrow(() => validateMessage(makeMessage('summary_page', 5, { entries: [entry] })));
});
