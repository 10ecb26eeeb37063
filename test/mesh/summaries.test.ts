// Listing, status health and clean repair passes decide from holders' summaries, in process
// (real FCP over TCP, memory stores): the verdicts equal the per-object `have` path's, a change
// on one device refetches only its bucket from that device, and healthy objects cost no per-object
// round trips.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { RpcConnection } from '../../src/mesh/rpc.js';
import { objectIdFromHex } from '../../src/crypto/index.js';
import { inspectObject, type ObjectHealth } from '../../src/mesh/index.js';
import type { SovereignMesh } from '../../src/sovereign-mesh.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from './in-process.js';
import { LOCAL_LIBRARY } from '../../src/authz/index.js';

const NET: TailnetDescription = {
  tailnet: 'summaries.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1, address: '127.77.60.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 2, address: '127.77.60.2' },
    { name: 'desktop', tags: ['tag:fcp-owner'], os: 'windows', path: 'direct', latencyMs: 3, address: '127.77.60.3' },
    { name: 'nas', tags: ['tag:fcp-private'], os: 'linux', path: 'direct', latencyMs: 3, address: '127.77.60.4' },
    { name: 'guest', tags: ['tag:fcp-public'], os: 'linux', path: 'direct', latencyMs: 5, address: '127.77.60.5' },
  ],
};

async function sent(n: SovereignMesh, type: string): Promise<number> {
  return (await n.node.metrics.requestsSent.get()).values.filter((v) => v.labels.type === type).reduce((a, v) => a + v.value, 0);
}

async function counts(n: SovereignMesh): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['summary_digest', 'summary', 'have', 'manifest_get', 'fetch']) out[t] = await sent(n, t);
  return out;
}

function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(b).map((k) => [k, b[k]! - (a[k] ?? 0)]));
}

/** What the per-object path says of every object the laptop lists. */
async function perObject(n: SovereignMesh): Promise<ObjectHealth[]> {
  return Promise.all(n.node.store.listManifests().map((m) => inspectObject(m, n.node.zones.get(m.zone), n.node.eligibility, n.node.marks)));
}

describe('holdings summaries across a mesh', () => {
  let mesh: InProcessMesh;
  const ids: string[] = [];

  before(async () => {
    mesh = await InProcessMesh.start(NET);
    for (let i = 0; i < 8; i++) ids.push(await mesh.node('laptop').store(new Uint8Array(randomBytes(2000 + i * 900)), i % 2 ? 'z:owner' : 'z:private'));
  });
  after(async () => mesh?.stop());

  test('ls from summaries equals the per-object inspection, healthy or not', async () => {
    const laptop = mesh.node('laptop');
    const byId = (l: ObjectHealth[]) => new Map(l.map((h) => [h.objectId, h]));
    assert.deepEqual(byId(await laptop.list()), byId(await perObject(laptop)));
    assert.ok((await laptop.list()).every((h) => h.ok));

    // One object loses every symbol on the server, another a single one: both paths agree.
    const server = mesh.stores.get('server')!;
    const a = objectIdFromHex(ids[0]!);
    await server.deleteSymbols(a, server.symbolKeys(a));
    const b = objectIdFromHex(ids[1]!);
    await server.deleteSymbols(b, server.symbolKeys(b).slice(0, 1));
    const list = await laptop.list();
    assert.deepEqual(byId(list), byId(await perObject(laptop)));
    assert.equal(list.find((h) => h.objectId === ids[0])!.holders.some((h) => h.hostName === 'server'), false);

    // `fcp status`'s health (/v1/health) is the listing's count and its objects below policy, in
    // listing order; the lazily built listing gives the same entries, a fresh object each time.
    const objects = laptop.services.objects;
    const degraded = list.filter((h) => !h.ok);
    assert.ok(degraded.some((h) => h.objectId === ids[0]), 'the object without its server symbols is below policy');
    assert.deepEqual(await objects.health(LOCAL_LIBRARY), { objects: list.length, degraded });
    assert.deepEqual(await objects.health(LOCAL_LIBRARY, 'z:owner'), { objects: list.filter((h) => h.zone === 'z:owner').length, degraded: degraded.filter((h) => h.zone === 'z:owner') });
    const lazy = await objects.listing(LOCAL_LIBRARY);
    assert.equal(lazy.count, list.length);
    for (let i = 0; i < lazy.count; i++) {
      const first = lazy.at(i);
      assert.deepEqual(first, list[i]);
      assert.notEqual(lazy.at(i), first);
      assert.notEqual(lazy.at(i).holders, first.holders);
    }

    // A device whose daemon is gone counts as holding nothing in both.
    await mesh.kill('nas');
    try {
      assert.deepEqual(byId(await laptop.list()), byId(await perObject(laptop)));
      assert.deepEqual(byId(await laptop.list('z:private')), byId((await perObject(laptop)).filter((h) => h.zone === 'z:private')));
    } finally {
      await mesh.startNode('nas');
    }
  });

  test('a warm ls costs one digest per peer; one changed object refetches one page from one device', async () => {
    const laptop = mesh.node('laptop');
    // Bring every object back to its policy first, so no object is doubtful.
    for (const name of ['laptop', 'server', 'desktop', 'nas']) await mesh.node(name).node.repair.pass();
    for (const name of ['laptop', 'server', 'desktop', 'nas']) await mesh.node(name).node.repair.pass();
    assert.ok((await laptop.list()).every((h) => h.ok), 'repair restored every object');

    const peers = laptop.node.eligibility.readersFor(laptop.node.zones.get('z:private')).filter((h) => !h.local).length;
    const c0 = await counts(laptop);
    await laptop.list();
    const warm = delta(c0, await counts(laptop));
    assert.deepEqual(warm, { summary_digest: peers, summary: 0, have: 0, manifest_get: 0, fetch: 0 });

    // The desktop drops one symbol of one object: only that bucket, only from the desktop.
    const desktop = mesh.stores.get('desktop')!;
    const target = objectIdFromHex(ids.find((id) => desktop.symbolKeys(objectIdFromHex(id)).length > 1)!);
    const pages0 = laptop.node.summaries.pagesFetched;
    await desktop.deleteSymbols(target, desktop.symbolKeys(target).slice(-1));
    const c1 = await counts(laptop);
    const list = await laptop.list();
    const d = delta(c1, await counts(laptop));
    assert.equal(d.summary, 1, 'one page');
    assert.equal(laptop.node.summaries.pagesFetched - pages0, 1);
    assert.equal(d.summary_digest, peers);
    // Only the changed object may be asked about one by one (if it now looks short).
    const short = list.filter((h) => !h.ok).map((h) => h.objectId);
    assert.ok(short.every((id) => id === Buffer.from(target).toString('hex')));
    assert.ok(d.have! <= peers * short.length);
    const seen = list.find((h) => h.objectId === Buffer.from(target).toString('hex'))!.holders.find((h) => h.hostName === 'desktop')!;
    assert.equal(seen.symbols, desktop.symbolKeys(target).length);
  });

  test('a clean repair pass asks no per-object questions; a short object is still repaired', async () => {
    const all = ['laptop', 'server', 'desktop', 'nas'].map((n) => mesh.node(n));
    for (const n of all) await n.node.repair.pass();
    const before = await Promise.all(all.map(counts));
    const outcomes = await Promise.all(all.map((n) => n.node.repair.pass()));
    const after = await Promise.all(all.map(counts));
    for (const [i, o] of outcomes.entries()) {
      assert.ok([...o.values()].every((v) => v === 'healthy'), `${[...o.values()]}`);
      const d = delta(before[i]!, after[i]!);
      assert.equal(d.have, 0);
      assert.equal(d.fetch, 0);
      assert.equal(d.manifest_get, 0);
    }

    // The server loses an object's symbols: some device repairs it, from the summaries' flag.
    const server = mesh.stores.get('server')!;
    const id = ids.find((x) => server.symbolKeys(objectIdFromHex(x)).length > 0)!;
    await server.deleteSymbols(objectIdFromHex(id), server.symbolKeys(objectIdFromHex(id)));
    const results = await Promise.all(all.map((n) => n.node.repair.pass()));
    assert.ok(results.some((r) => r.get(id) === 'repaired'), JSON.stringify(results.map((r) => r.get(id))));
    const health = (await all[0]!.list()).find((h) => h.objectId === id)!;
    assert.ok(health.ok);
    // The repaired holdings reached every summary: the summary path and the per-object path agree.
    const byId = (l: ObjectHealth[]) => new Map(l.map((h) => [h.objectId, h]));
    for (const n of all) assert.deepEqual(byId(await n.list()), byId(await perObject(n)));
  });

  test('a holder whose summary pages are malformed is refused and harms nothing: the listing still equals the per-object path', async () => {
    const laptop = mesh.node('laptop');
    await laptop.list();
    const server = mesh.stores.get('server')!;
    const honest = server.holdingsPage.bind(server);
    // The server's pages repeat every entry (out of id order), and its digest changes, so they are asked for.
    server.holdingsPage = (zone, buckets, after, limit) => {
      const p = honest(zone, buckets, after, limit);
      return { ...p, entries: [...p.entries, ...p.entries] };
    };
    try {
      const id = objectIdFromHex(ids.find((x) => server.symbolKeys(objectIdFromHex(x)).length > 1)!);
      await server.deleteSymbols(id, server.symbolKeys(id).slice(-1));
      const c0 = await counts(laptop);
      const list = await laptop.list();
      const d = delta(c0, await counts(laptop));
      const byId = (l: ObjectHealth[]) => new Map(l.map((h) => [h.objectId, h]));
      assert.deepEqual(byId(list), byId(await perObject(laptop)));
      assert.ok(d.summary! >= 1, 'the changed bucket was asked for');
      const serverHolder = laptop.node.eligibility.readersFor(laptop.node.zones.get('z:private')).find((h) => h.hostName === 'server')!;
      const again = (await laptop.node.summaries.refresh([{ holder: serverHolder, zones: ['z:private', 'z:owner'] }])).get(serverHolder.stableId)!;
      assert.equal(!again.ok && (again.error as Error & { code?: string }).code, 'MESH_BAD_SUMMARY');
      assert.equal(list.find((h) => h.objectId === Buffer.from(id).toString('hex'))!.holders.find((h) => h.hostName === 'server')!.symbols, server.symbolKeys(id).length);
    } finally {
      server.holdingsPage = honest;
    }
  });

  test('summaries are read only by devices that may hold the zone', async () => {
    const socket = net.connect({ host: '127.77.60.1', port: 9473, localAddress: '127.77.60.5' });
    await new Promise<void>((resolve, reject) => (socket.once('connect', resolve), socket.once('error', reject)));
    const conn = new RpcConnection(socket);
    try {
      const r = await conn.request({ t: 'summary_digest', zones: ['z:owner', 'z:private', 'z:public'] });
      assert.equal(r.t, 'summary_digest_result');
      assert.deepEqual((r as { digests: Array<{ zone: string }> }).digests.map((x) => x.zone), ['z:public']);
      await assert.rejects(conn.request({ t: 'summary', zone: 'z:private', buckets: [0, 1], limit: 10 }), (e: Error & { details?: { peerCode?: string } }) => e.details?.peerCode === 'AUTHZ_DENIED');
    } finally {
      conn.close();
    }
  });
});
