// A device just back from an absence holds shares of objects collected meanwhile. A put of the
// same content must not take such a share for the stored object: it waits for the tombstones
// asked at start, and stores the content again when they say it was collected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeObjectId, generateZoneKey, objectIdToHex } from '../../src/crypto/index.js';
import { ZoneObjects, type ZoneObjectsDeps } from '../../src/files/zone-objects.js';
import { ZoneRegistry } from '../../src/zones/index.js';

const zone = ZoneRegistry.builtin().get('z:private');
const zk = generateZoneKey('z:private');
const SCHEMA = 'fcp.chunk.v1';

test('a put waits for the start-up tombstone pull: a stale share collected meanwhile is stored again, not reused', async () => {
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
      // The start-up pull brings the tombstone: the share is dropped and the object is dead here.
      whenCaughtUp: async () => {
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
    records: { isDead: () => false, isHeld: () => false, release: () => undefined, whenCaughtUp: () => Promise.resolve() },
  };
  assert.deepEqual(await new ZoneObjects(deps, zone, zk).put(bytes, SCHEMA), { id: objectIdToHex(oid), created: false });
  assert.equal(writes, 0);
});
