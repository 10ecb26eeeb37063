// Placement is pure and deterministic: eligibility from the manifest's needs, fitness first,
// then rendezvous hashing; unrelated devices joining or leaving move nothing they did not win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ineligibility, place, rank, type Candidate } from '../../src/hub/placement.js';
import type { DeviceProfile } from '../../src/hub/profile.js';
import { ZoneRegistry } from '../../src/zones/index.js';

const zones = ZoneRegistry.builtin();
const Z = (id: string) => zones.get(id);
const profile = (name: string, p: Partial<DeviceProfile> = {}): DeviceProfile => ({ name, alwaysOn: false, interactive: false, gpu: false, onBattery: false, os: 'linux', freeMemoryMb: 4096, cpuCores: 4, ...p });
const dev = (id: string, zone: string, p: Partial<DeviceProfile> = {}): Candidate => ({ stableId: id, hostName: id, zones: [Z(zone)], profile: profile(id, p) });

test('eligibility: zone, always-on, interactive, gpu, a named device, and a profile at all', () => {
  const needs = { alwaysOn: true };
  assert.equal(ineligibility(dev('a', 'z:work', { alwaysOn: true }), Z('z:private'), needs), 'zone');
  assert.equal(ineligibility(dev('a', 'z:owner', { alwaysOn: true }), Z('z:private'), needs), null, 'an owner device may run a private connector');
  assert.equal(ineligibility(dev('a', 'z:private'), Z('z:private'), needs), 'always-on');
  assert.equal(ineligibility(dev('a', 'z:private'), Z('z:private'), { interactive: true }), 'interactive');
  assert.equal(ineligibility(dev('a', 'z:private'), Z('z:private'), { gpu: true }), 'gpu');
  assert.equal(ineligibility(dev('a', 'z:private', { name: 'nas' }), Z('z:private'), { device: 'nas' }), null);
  assert.equal(ineligibility(dev('a', 'z:private', { name: 'nas' }), Z('z:private'), { device: 'laptop' }), 'device');
  assert.equal(ineligibility({ stableId: 'x', hostName: 'x', zones: [Z('z:owner')] }, Z('z:private'), {}), 'no-profile');
  assert.equal(place('c', [dev('a', 'z:work')], Z('z:private'), {}), null);
});

test('fitness first: an always-on device on mains beats others whatever the hash says', () => {
  const devices = [dev('a', 'z:owner', { onBattery: true }), dev('b', 'z:owner'), dev('c', 'z:owner', { alwaysOn: true }), dev('d', 'z:owner', { alwaysOn: true, onBattery: true })];
  for (let i = 0; i < 50; i++) {
    const order = rank(`conn-${i}`, devices, Z('z:private'), {}).map((c) => c.stableId);
    assert.deepEqual(order.slice(0, 2), ['c', 'd']);
    assert.equal(order[3], 'a');
  }
});

test('deterministic: the same order from any input order', () => {
  const devices = Array.from({ length: 6 }, (_, i) => dev(`n${i}`, 'z:owner'));
  for (let i = 0; i < 30; i++) {
    const a = rank(`c${i}`, devices, Z('z:owner'), {}).map((c) => c.stableId);
    const b = rank(`c${i}`, [...devices].reverse(), Z('z:owner'), {}).map((c) => c.stableId);
    assert.deepEqual(a, b);
  }
});

test('a device joining takes only connectors it wins; one leaving moves only its own', () => {
  const devices = Array.from({ length: 5 }, (_, i) => dev(`n${i}`, 'z:owner'));
  const ids = Array.from({ length: 400 }, (_, i) => `connector-${i}`);
  const before = new Map(ids.map((id) => [id, place(id, devices, Z('z:owner'), {})!.stableId]));
  const joined = [...devices, dev('n5', 'z:owner')];
  let moved = 0;
  for (const id of ids) {
    const now = place(id, joined, Z('z:owner'), {})!.stableId;
    if (now !== before.get(id)) {
      moved++;
      assert.equal(now, 'n5', 'a connector moves only to the new device');
    }
  }
  assert.ok(moved > 400 / 6 / 2 && moved < (400 / 6) * 2, `about a sixth moved (${moved})`);
  const left = devices.filter((d) => d.stableId !== 'n2');
  for (const id of ids) {
    const now = place(id, left, Z('z:owner'), {})!.stableId;
    if (before.get(id) !== 'n2') assert.equal(now, before.get(id), 'only n2 connectors move');
    else assert.notEqual(now, 'n2');
  }
  // An ineligible device joining moves nothing at all.
  const withWork = [...devices, dev('w', 'z:work')];
  for (const id of ids) assert.equal(place(id, withWork, Z('z:owner'), {})!.stableId, before.get(id));
});

test('the home device (installed from) wins among equally fit devices, never over a fitter one', () => {
  const devices = [dev('a', 'z:owner'), dev('b', 'z:owner'), dev('c', 'z:owner')];
  for (let i = 0; i < 30; i++) {
    assert.equal(place(`c${i}`, devices, Z('z:owner'), {}, 'b')!.stableId, 'b');
    const order = rank(`c${i}`, devices, Z('z:owner'), {}, 'b').map((c) => c.stableId);
    // Without its home the rest keep their HRW order (failover goes where HRW says).
    assert.deepEqual(order.slice(1), rank(`c${i}`, devices.filter((d) => d.stableId !== 'b'), Z('z:owner'), {}).map((c) => c.stableId));
  }
  const fitter = [...devices, dev('s', 'z:owner', { alwaysOn: true })];
  assert.equal(place('c0', fitter, Z('z:owner'), {}, 'b')!.stableId, 's');
});
