import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ZoneRegistry,
  checkFlow,
  checkWrite,
  mayConnect,
  mayHold,
  mayUsePeer,
  mayUseTransport,
  TRANSPORTS,
  type Zone,
} from '../../src/zones/index.js';

const reg = ZoneRegistry.builtin();
const IDS = ['z:owner', 'z:private', 'z:work', 'z:community', 'z:public'] as const;
const Z = IDS.map((id) => reg.get(id));

/** Checks a 5x5 truth table over the built-in zones, naming the failing cell. */
function table(name: string, expected: number[][], fn: (row: Zone, col: Zone) => boolean): void {
  IDS.forEach((r, i) =>
    IDS.forEach((c, j) => assert.equal(fn(Z[i] as Zone, Z[j] as Zone), expected[i]?.[j] === 1, `${name}(${r}, ${c})`)),
  );
}

test('built-in zones carry the FCP V2 levels and tags', () => {
  assert.deepEqual(
    reg.all().map((z) => [z.id, z.integrity, z.confidentiality, z.tag]),
    [
      ['z:owner', 100, 100, 'tag:fcp-owner'],
      ['z:private', 80, 90, 'tag:fcp-private'],
      ['z:work', 60, 70, 'tag:fcp-work'],
      ['z:community', 40, 40, 'tag:fcp-community'],
      ['z:public', 20, 10, 'tag:fcp-public'],
    ],
  );
});

test('mayHold: a device holds data only of zones no more confidential than one of its own', () => {
  // rows: device zone, columns: data zone
  table('mayHold', [
    [1, 1, 1, 1, 1],
    [0, 1, 1, 1, 1],
    [0, 0, 1, 1, 1],
    [0, 0, 0, 1, 1],
    [0, 0, 0, 0, 1],
  ], (device, data) => mayHold([device], data));
  assert.equal(mayHold([], reg.get('z:public')), false, 'a device of no zone holds nothing');
  assert.equal(mayHold([reg.get('z:work'), reg.get('z:private')], reg.get('z:private')), true, 'any of its zones suffices');
});

test('checkWrite: lower into higher integrity is refused unless elevated, and then marked', () => {
  table('checkWrite', [
    [1, 1, 1, 1, 1],
    [0, 1, 1, 1, 1],
    [0, 0, 1, 1, 1],
    [0, 0, 0, 1, 1],
    [0, 0, 0, 0, 1],
  ], (from, to) => checkWrite(from, to).allowed);
  for (const from of Z) {
    for (const to of Z) {
      const plain = checkWrite(from, to);
      const elevated = checkWrite(from, to, { elevated: true });
      assert.equal(elevated.allowed, true);
      assert.equal(elevated.elevated, !plain.allowed, `${from.id} -> ${to.id} marked only when elevation was needed`);
      if (!plain.allowed) assert.match(plain.reason ?? '', /elevation/);
      assert.equal(plain.elevated, false);
    }
  }
});

test('checkFlow: both axes; lowering confidentiality needs declassification', () => {
  // Only same-zone flows are free between built-ins: their two axes rise together.
  table('checkFlow', [
    [1, 0, 0, 0, 0],
    [0, 1, 0, 0, 0],
    [0, 0, 1, 0, 0],
    [0, 0, 0, 1, 0],
    [0, 0, 0, 0, 1],
  ], (from, to) => checkFlow(from, to).allowed);
  const down = checkFlow(reg.get('z:owner'), reg.get('z:work'), { declassified: true });
  assert.deepEqual([down.allowed, down.declassified, down.elevated], [true, true, false]);
  const up = checkFlow(reg.get('z:work'), reg.get('z:owner'), { elevated: true });
  assert.deepEqual([up.allowed, up.declassified, up.elevated], [true, false, true]);
  assert.match(checkFlow(reg.get('z:owner'), reg.get('z:work')).reason ?? '', /declassification/);
});

test('transport rules: owner never on DERP; DERP private and below; Funnel community and public; internet public only', () => {
  const expected: Record<string, number[]> = {
    // direct, peer-relay, derp, funnel, internet
    'z:owner': [1, 1, 0, 0, 0],
    'z:private': [1, 1, 1, 0, 0],
    'z:work': [1, 1, 1, 0, 0],
    'z:community': [1, 1, 1, 1, 0],
    'z:public': [1, 1, 1, 1, 1],
  };
  for (const z of Z) {
    TRANSPORTS.forEach((t, i) => assert.equal(mayUseTransport(z, t), expected[z.id]?.[i] === 1, `${z.id} over ${t}`));
  }
  assert.equal(mayUseTransport(reg.get('z:public'), 'carrier-pigeon' as 'direct'), false, 'unknown transports carry nothing');
});

test('mayUsePeer follows the live path; offline peers carry nothing', () => {
  for (const z of Z) {
    assert.equal(mayUsePeer(z, { path: 'offline' }), false);
    for (const path of ['direct', 'peer-relay', 'derp'] as const) assert.equal(mayUsePeer(z, { path }), mayUseTransport(z, path));
  }
  assert.equal(mayUsePeer(reg.get('z:owner'), { path: 'derp' }), false);
  assert.equal(mayUsePeer(reg.get('z:owner'), { path: 'peer-relay' }), true);
});

test('mayConnect: same zone, downwards, private to owner; nothing reaches community or public devices', () => {
  // rows: source zone, columns: destination zone
  table('mayConnect', [
    [1, 1, 1, 0, 0],
    [1, 1, 1, 0, 0],
    [0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ], mayConnect);
});

const arbZone = (name: string): fc.Arbitrary<Zone> =>
  fc
    .record({ integrity: fc.integer({ min: 0, max: 255 }), confidentiality: fc.integer({ min: 0, max: 255 }) })
    .map((z): Zone => ({ ...z, id: `z:${name}`, tag: `tag:fcp-${name}`, builtin: false }));

test('properties over arbitrary custom levels', () => {
  fc.assert(
    fc.property(arbZone('a'), arbZone('b'), arbZone('c'), (a, b, c) => {
      // Holding is monotone: whoever holds the more secret data holds the less secret too.
      if (mayHold([a], b) && b.confidentiality >= c.confidentiality) assert.ok(mayHold([a], c));
      // Writes: elevation is needed exactly when integrity rises.
      assert.equal(checkWrite(a, b).allowed, a.integrity >= b.integrity);
      // Transports nest: whatever may use the internet may use Funnel, DERP and direct paths.
      for (let i = 1; i < TRANSPORTS.length; i++) {
        if (mayUseTransport(a, TRANSPORTS[i] as never)) assert.ok(mayUseTransport(a, TRANSPORTS[i - 1] as never));
      }
      assert.ok(mayUseTransport(a, 'direct'));
      // Nothing reaches a community-level device; a zone reaches itself otherwise.
      if (b.confidentiality <= 40) assert.equal(mayConnect(a, b), false);
      else assert.equal(mayConnect(b, b), true);
      // Below private confidentiality, a zone never reaches a strictly higher zone.
      const higher = b.integrity >= a.integrity && b.confidentiality >= a.confidentiality && (b.integrity > a.integrity || b.confidentiality > a.confidentiality);
      if (a.confidentiality < 90 && higher) assert.equal(mayConnect(a, b), false);
    }),
    { numRuns: 500 },
  );
});
