// "Did you mean": the zone a mistyped id most likely meant, or none when nothing is close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnknownZoneError, closestZone } from '../../src/zones/index.js';

const KNOWN = ['z:owner', 'z:private', 'z:work', 'z:community', 'z:public'];

test('closestZone: typos, a missing prefix and case find the zone; strangers find none', () => {
  assert.equal(closestZone('z:privte', KNOWN), 'z:private');
  assert.equal(closestZone('z:pubilc', KNOWN), 'z:public');
  assert.equal(closestZone('private', KNOWN), 'z:private');
  assert.equal(closestZone('Z:WORK', KNOWN), 'z:work');
  assert.equal(closestZone('z:comunity', KNOWN), 'z:community');
  assert.equal(closestZone('z:banana-farm', KNOWN), null);
  assert.equal(closestZone('z:x', []), null);
});

test('UnknownZoneError lists the zones and suggests only a close one', () => {
  const e = new UnknownZoneError('z:privte', KNOWN);
  assert.equal(e.code, 'ZONE_UNKNOWN');
  assert.equal(e.suggestion, 'z:private');
  assert.match(e.message, /did you mean z:private\? Known zones: z:owner, z:private/);
  const far = new UnknownZoneError('z:banana-farm', KNOWN);
  assert.equal(far.suggestion, null);
  assert.doesNotMatch(far.message, /did you mean/);
  assert.match(far.message, /^unknown zone "z:banana-farm"; known zones: z:owner, z:private/);
});
