import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZoneRegistry, ZoneConfigError, UnknownZoneError, mayConnect, mayHold } from '../../src/zones/index.js';

test('tags map to zones; tags of no zone are ignored', () => {
  const reg = ZoneRegistry.builtin();
  assert.deepEqual(reg.zonesForTags(['tag:fcp-work', 'tag:other', 'tag:fcp-owner']).map((z) => z.id), ['z:owner', 'z:work']);
  assert.deepEqual(reg.zonesForTags([]), []);
  assert.equal(reg.tagFor('z:private'), 'tag:fcp-private');
  assert.equal(reg.zoneForTag('tag:fcp-public')?.id, 'z:public');
  assert.equal(reg.has('z:nope'), false);
  assert.throws(() => reg.get('z:nope'), (e: unknown) => e instanceof UnknownZoneError && e.code === 'ZONE_UNKNOWN' && /z:nope/.test(e.message));
});

test('custom zones take their place by level, with their own tags', () => {
  const reg = ZoneRegistry.fromConfig({
    tagPrefix: 'tag:home-',
    zones: [
      { id: 'z:project-atlas', integrity: 70, confidentiality: 80 },
      { id: 'z:vault', integrity: 100, confidentiality: 120, tag: 'tag:vault' },
      { id: 'z:owner', tag: 'tag:me' },
    ],
    funnel: { enabled: true, port: 8443 },
  });
  assert.deepEqual(reg.all().map((z) => z.id), ['z:vault', 'z:owner', 'z:private', 'z:project-atlas', 'z:work', 'z:community', 'z:public']);
  assert.equal(reg.tagFor('z:project-atlas'), 'tag:home-project-atlas');
  assert.equal(reg.tagFor('z:owner'), 'tag:me');
  assert.equal(reg.tagFor('z:work'), 'tag:home-work');
  assert.deepEqual(reg.funnel, { enabled: true, gatewayTag: 'tag:home-gateway', port: 8443 });
  const atlas = reg.get('z:project-atlas');
  const vault = reg.get('z:vault');
  assert.equal(mayConnect(reg.get('z:private'), atlas), true, 'private reaches the lower atlas zone');
  assert.equal(mayConnect(atlas, reg.get('z:work')), true, 'atlas reaches work below it');
  assert.equal(mayConnect(atlas, reg.get('z:private')), false, 'no lower-to-higher below private level');
  assert.equal(mayConnect(reg.get('z:owner'), vault), true, 'owner-level zones may use the more secret vault devices');
  assert.equal(mayHold([reg.get('z:owner')], vault), false, 'but owner devices may not hold vault data');
});

test('device-level reachability and placement use tags and the live path', () => {
  const reg = ZoneRegistry.builtin();
  assert.equal(reg.mayDevicesConnect(['tag:fcp-private'], ['tag:fcp-owner']), true);
  assert.equal(reg.mayDevicesConnect(['tag:fcp-work'], ['tag:fcp-owner']), false);
  assert.equal(reg.mayDevicesConnect(['tag:fcp-work', 'tag:fcp-private'], ['tag:fcp-owner']), true);
  assert.equal(reg.mayDevicesConnect([], ['tag:fcp-owner']), false);
  const owner = reg.get('z:owner');
  const priv = reg.get('z:private');
  assert.equal(reg.mayPlaceOn(owner, { path: 'direct', tags: ['tag:fcp-owner'] }), true);
  assert.equal(reg.mayPlaceOn(owner, { path: 'derp', tags: ['tag:fcp-owner'] }), false, 'owner data never over DERP');
  assert.equal(reg.mayPlaceOn(owner, { path: 'direct', tags: ['tag:fcp-private'] }), false, 'private devices may not hold owner data');
  assert.equal(reg.mayPlaceOn(priv, { path: 'derp', tags: ['tag:fcp-owner'] }, ['tag:fcp-private']), true, 'private data on owner devices, over DERP');
  assert.equal(reg.mayPlaceOn(priv, { path: 'offline', tags: ['tag:fcp-owner'] }), false);
  assert.equal(reg.mayPlaceOn(reg.get('z:work'), { path: 'direct', tags: ['tag:fcp-owner'] }, ['tag:fcp-work']), false, 'work devices cannot reach owner devices');
});

test('bad configs are ZoneConfigError naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['zones', /\(root\)/],
    [{ zone: [] }, /config\.zone: unknown field/],
    [{ zones: {} }, /zones: must be an array/],
    [{ zones: [{ id: 'project' }] }, /zones\[0\]\.id/],
    [{ zones: [{ id: 'z:x', integrity: 50 }] }, /zones\[0\]\.confidentiality/],
    [{ zones: [{ id: 'z:x', integrity: 300, confidentiality: 1 }] }, /zones\[0\]\.integrity/],
    [{ zones: [{ id: 'z:x', integrity: 1.5, confidentiality: 1 }] }, /zones\[0\]\.integrity/],
    [{ zones: [{ id: 'z:x', integrity: 1, confidentiality: 1 }, { id: 'z:x', integrity: 1, confidentiality: 1 }] }, /appears twice/],
    [{ zones: [{ id: 'z:x', integrity: 1, confidentiality: 1, tag: 'fcp-x' }] }, /zones\[0\]\.tag/],
    [{ zones: [{ id: 'z:x', integrity: 1, confidentiality: 1, tag: 'tag:fcp-owner' }] }, /both use tag tag:fcp-owner/],
    [{ zones: [{ id: 'z:owner', integrity: 1 }] }, /fixed by FCP V2/],
    [{ tagPrefix: 'fcp-' }, /tagPrefix/],
    [{ tagOwners: [] }, /tagOwners/],
    [{ tagOwners: ['everyone'] }, /tagOwners\[0\]/],
    [{ funnel: { enabled: 'yes' } }, /funnel\.enabled/],
    [{ funnel: { port: 80 } }, /443, 8443, 10000/],
    [{ funnel: { gatewayTag: 'tag:fcp-owner' } }, /already the tag of zone z:owner/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(
      () => ZoneRegistry.fromConfig(input),
      (e: unknown) => e instanceof ZoneConfigError && e.code === 'ZONE_CONFIG' && pattern.test(e.message),
      JSON.stringify(input),
    );
  }
});
