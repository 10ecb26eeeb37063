// A device back from an absence (or cut off from its peers for a while) holds shares of objects
// collected meanwhile. A put of the same content must not take such a share for the stored
// object: it waits for current tombstones, and stores the content again when they say it was
// collected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { NameRecords, type Holder } from '../../src/mesh/index.js';
import { MemorySymbolStore } from '../../src/store/index.js';
import { computeObjectId, generateZoneKey, objectIdToHex } from '../../src/crypto/index.js';
import { ZoneObjects, type ZoneObjectsDeps } from '../../src/files/zone-objects.js';
import { ZoneRegistry } from '../../src/zones/index.js';

const zone = ZoneRegistry.builtin().get('z:private');
const zk = generateZoneKey('z:private');
const SCHEMA = 'fcp.chunk.v1';

test('a put waits for current tombstones: a stale share collected meanwhile is stored again, not reused', async () => {
  const bytes = new TextEncoder().encode('a chunk this device held a share of before it went away');
  const oid = await computeObjectId(zk.objectIdKey, zone.id, SCHEMA, bytes);
  let held = true; // the stale share's manifest, still here
  let dead = false;
  const writes: string[] = [];
  const deps: ZoneObjectsDeps = {
    writer: { put: async (_b, _z, _k, opts) => (writes.push(objectIdToHex(opts!.objectId!)), objectIdToHex(opts!.objectId!)) },
    reader: { findManifest: async () => assert.fail('nothing is read'), read: async () => assert.fail('nothing is read') },
    store: { getManifest: (id) => (held && Buffer.from(id).equals(Buffer.from(oid)) ? ({} as never) : undefined) },
    records: {
      isDead: () => dead,
      isHeld: () => false,
      release: () => undefined,
      // The tombstone pull brings the tombstone: the share is dropped and the object is dead here.
      tombstonesFresh: async () => {
        dead = true;
        held = false;
      },
    },
  };
  const put = new ZoneObjects(deps, zone, zk).put(bytes, SCHEMA);
  assert.deepEqual(await put, { id: objectIdToHex(oid), created: true });
  assert.deepEqual(writes, [objectIdToHex(oid)], 'stored again through the writer');
});

test('once caught up, content the zone holds is not stored twice', async () => {
  const bytes = new TextEncoder().encode('held and alive');
  const oid = await computeObjectId(zk.objectIdKey, zone.id, SCHEMA, bytes);
  let writes = 0;
  const deps: ZoneObjectsDeps = {
    writer: { put: async () => (writes++, 'x') },
    reader: { findManifest: async () => assert.fail('nothing is read'), read: async () => assert.fail('nothing is read') },
    store: { getManifest: () => ({}) as never },
    records: { isDead: () => false, isHeld: () => false, release: () => undefined, tombstonesFresh: () => Promise.resolve() },
  };
  assert.deepEqual(await new ZoneObjects(deps, zone, zk).put(bytes, SCHEMA), { id: objectIdToHex(oid), created: false });
  assert.equal(writes, 0);
});

test('tombstones synced within half the quarantine are current; older ones are pulled first, one pull at a time', async () => {
  let now = 1_000_000;
  let pulls = 0;
  let answer = true;
  const holder = {
    local: false,
    stableId: 'nPeer',
    hostName: 'server',
    listTombstones: async () => {
      pulls++;
      if (!answer) throw new Error('unreachable');
      return [];
    },
  } as unknown as Holder;
  const records = new NameRecords({
    store: new MemorySymbolStore(),
    eligibility: { holdersFor: () => [holder] },
    log: pino({ level: 'silent' }),
    signer: { stableId: 'nSelf', signingSecretKey: new Uint8Array(32).fill(1) },
    keyOf: async () => new Uint8Array(32),
    quarantineMs: 600_000,
    now: () => now,
  });
  await records.tombstonesFresh(zone);
  assert.equal(pulls, 0, 'a record just begun counts as current');
  now += 300_001; // over half the quarantine: cut off, say
  await Promise.all([records.tombstonesFresh(zone), records.tombstonesFresh(zone)]);
  assert.equal(pulls, 1, 'two puts at once share one pull');
  await records.tombstonesFresh(zone);
  assert.equal(pulls, 1, 'the pull was answered: current again');
  now += 300_001;
  answer = false;
  await records.tombstonesFresh(zone);
  await records.tombstonesFresh(zone);
  assert.equal(pulls, 3, 'while nobody answers, each put asks again');
});
