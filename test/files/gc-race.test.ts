// A collection pass racing a put that reuses what it collects. The put found the chunks already
// stored (deduplication) and has not named them yet; the pass, seeing nothing name them, tombstones
// them. The device with the put answers with a revival, the copies kept through the quarantine
// make the objects whole again, and the file, once named, reads back whole.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { LOCAL_LIBRARY } from '../../src/authz/index.js';
import { objectIdFromHex, type Tombstone } from '../../src/crypto/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { NameRecords } from '../../src/mesh/index.js';
import { MemorySymbolStore } from '../../src/store/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const P = LOCAL_LIBRARY;
const HOLDERS = ['laptop', 'server', 'desktop', 'phone'];

async function until<T>(ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; i < 2000; i++) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) break;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition not reached in time');
}

describe('collection racing a put that reuses the collected content', () => {
  let mesh: InProcessMesh;
  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(135), { gcQuarantineMs: 10 * 60_000 });
  });
  after(async () => mesh?.stop());

  test('objects an upload session reuses are revived when collected, and the file it names is whole', async () => {
    const laptop = mesh.node('laptop').services;
    const big = new Uint8Array(randomBytes(3_000_000));
    const first = await laptop.names.putFile(P, 'old.bin', big);
    await laptop.names.remove(P, 'old.bin');
    await laptop.names.forget(P, 1); // nothing names the content now
    const parts = [first.ref, ...(await laptop.content.references(P, first.ref))];
    assert.ok(parts.length >= 3, `a file object and its chunks (${parts.length})`);

    // The put of the same bytes in an upload session: everything is already stored (reused).
    const session = 'race-session-1';
    const again = await laptop.content.putStream(P, 'z:private', (async function* () { yield big; })(), { session });
    assert.equal(again.id, first.ref, 'the same content has the same id');
    assert.equal(again.storedBytes, 0, 'nothing was stored again: the put relies on what the zone has');

    // Another device collects meanwhile: nothing names these objects yet.
    const r = await mesh.node('server').services.names.gc(P, { graceMs: 0 });
    for (const id of parts) assert.ok(r.objects.includes(id), `the pass collected ${id.slice(0, 12)} (the race happened)`);

    // The device with the put answered each tombstone with a later alive record, on every holder.
    const alive = (d: string, id: string): Tombstone | undefined => {
      const t = mesh.stores.get(d)!.getTombstone(objectIdFromHex(id));
      return t && !t.dead ? t : undefined;
    };
    for (const d of HOLDERS) for (const id of parts) await until(5_000, () => alive(d, id));

    const named = await laptop.names.put(P, [{ path: 'new.bin', kind: 'file', ref: again.id, size: again.size }], { session });
    assert.ok(named.commit, 'named');
    assert.deepEqual(Buffer.from(await laptop.names.readFile(P, 'new.bin')), Buffer.from(big), 'whole');
    assert.deepEqual(Buffer.from(await mesh.node('phone').services.names.readFile(P, 'new.bin')), Buffer.from(big), 'whole from another device');
    const later = await mesh.node('server').services.names.gc(P, { graceMs: 0 });
    for (const id of parts) assert.ok(!later.objects.includes(id), 'named now: not collected again');
  });

  test('without a put relying on it, a collected object is kept through the quarantine, not longer', async () => {
    const laptop = mesh.node('laptop').services;
    const { ref } = await laptop.names.putFile(P, 'gone.bin', new Uint8Array(randomBytes(50_000)));
    await laptop.names.remove(P, 'gone.bin');
    await laptop.names.forget(P, 1);
    const r = await laptop.names.gc(P, { graceMs: 0 });
    assert.ok(r.objects.includes(ref));
    const oid = objectIdFromHex(ref);
    const holding = HOLDERS.filter((d) => mesh.stores.get(d)!.getManifest(oid) !== undefined);
    assert.ok(holding.length >= 2, 'the copies stay during the quarantine');
    for (const d of holding) assert.equal(mesh.stores.get(d)!.getTombstone(oid)?.dead, true, `${d} holds the tombstone`);
    const outcome = await mesh.node(holding[0]!).node.repair.repairObject(mesh.stores.get(holding[0]!)!.getManifest(oid)!);
    assert.equal(outcome, 'quarantined', 'repair neither carries nor erases it yet');
  });
});

describe('upload sessions', () => {
  test('a malformed session id is refused with a typed error', async () => {
    const mesh = await InProcessMesh.start(fiveDevicesOn(136));
    try {
      await assert.rejects(
        mesh.node('laptop').services.content.putStream(P, 'z:private', (async function* () { yield new Uint8Array(10); })(), { session: 'bad id!' }),
        (e: Error) => (e as { code?: string }).code === 'FILES_BAD_ENTRY',
      );
    } finally {
      await mesh.stop();
    }
  });
});

describe('NameRecords quarantine', () => {
  test('a dead tombstone erases the copy here only once the quarantine is over', async () => {
    const store = new MemorySymbolStore();
    let now = 1_000_000;
    const signer = { stableId: 'nSelf', signingSecretKey: new Uint8Array(32).fill(1) };
    const records = new NameRecords({ store, eligibility: { holdersFor: () => [] }, log: pino({ level: 'silent' }), signer, keyOf: async () => new Uint8Array(32), quarantineMs: 60_000, now: () => now });
    const objectId = new Uint8Array(32).fill(7);
    const t: Tombstone = { objectId, zone: 'z:private', at: now, dead: true };
    assert.equal(await records.keepTombstone(t), true);
    assert.equal(records.isDead(objectId), true);
    assert.equal(records.erasable(objectId), false, 'within the quarantine');
    now += 59_999;
    assert.equal(records.erasable(objectId), false);
    now += 1;
    assert.equal(records.erasable(objectId), true, 'once it is over');
  });
});
