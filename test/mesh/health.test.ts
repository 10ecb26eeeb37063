import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { achievablePolicy, blockMeetsPolicy, planAdditions, planDrops, worstCaseRemaining, type Holding } from '../../src/mesh/health.js';
import { DECODE_MARGIN, DEFAULT_POLICY, assign, resolvePolicy, symbolCount } from '../../src/mesh/placement.js';

const holdings = (counts: number[]): Holding[] => counts.map((symbols, i) => ({ device: `d${i}`, symbols }));

test('a fresh round-robin placement meets its own policy for many K and device counts', () => {
  for (const tolerate of [0, 1, 2]) {
    for (let devices = tolerate + 1; devices <= 7; devices++) {
      for (const k of [1, 2, 10, 101, 256, 1000]) {
        const policy = resolvePolicy({ tolerate });
        const n = symbolCount(k, devices, policy);
        const h = holdings(assign(n, devices).map((e) => e.length));
        assert.ok(blockMeetsPolicy(k, h, policy), `k=${k} devices=${devices} tolerate=${tolerate}`);
        assert.ok(worstCaseRemaining(h, tolerate) >= k + DECODE_MARGIN);
      }
    }
  }
});

test('losing a device breaks the policy; planned additions restore it on the devices left', () => {
  const k = 100;
  const policy = DEFAULT_POLICY;
  const n = symbolCount(k, 4, policy);
  const counts = assign(n, 4).map((e) => e.length);
  const left = holdings(counts.slice(0, 2)); // two of four devices gone
  assert.equal(blockMeetsPolicy(k, left, policy), false);
  const plan = planAdditions(k, left, policy)!;
  assert.ok(plan);
  const after = left.map((x) => ({ ...x, symbols: x.symbols + (plan.get(x.device) ?? 0) }));
  assert.ok(blockMeetsPolicy(k, after, policy));
  // Each of the two must alone hold K + margin, since either may be lost next.
  for (const x of after) assert.ok(x.symbols >= k + DECODE_MARGIN);
});

test('additions are impossible with no more devices than tolerated losses', () => {
  assert.equal(planAdditions(10, holdings([5]), DEFAULT_POLICY), null);
  assert.equal(planAdditions(10, [], DEFAULT_POLICY), null);
});

test('with fewer devices than tolerated losses, the achievable policy still puts K + margin on each', () => {
  const k = 129;
  const policy = resolvePolicy({ tolerate: 2 });
  const left = holdings([131, 0]);
  assert.equal(planAdditions(k, left, policy), null);
  const relaxed = achievablePolicy(policy, 2);
  assert.equal(relaxed.tolerate, 1);
  const plan = planAdditions(k, left, relaxed)!;
  const after = left.map((x) => ({ ...x, symbols: x.symbols + (plan.get(x.device) ?? 0) }));
  for (const x of after) assert.ok(x.symbols >= k + DECODE_MARGIN, `${x.device} alone rebuilds the block`);
  assert.equal(planAdditions(k, after, relaxed)!.size, 0, 'nothing more to add');
  assert.equal(achievablePolicy(policy, 1).tolerate, 0);
  assert.deepEqual(achievablePolicy(policy, 5), policy, 'enough devices: the policy as it is');
});

test('surplus after a device returns is dropped down to the target, never below the policy', () => {
  const k = 50;
  const policy = DEFAULT_POLICY;
  const counts = [60, 60, 20, 20]; // two devices were repaired up while two were away
  const drops = planDrops(k, holdings(counts), policy);
  const after = counts.map((c, i) => c - (drops.get(`d${i}`) ?? 0));
  assert.ok(blockMeetsPolicy(k, holdings(after), policy));
  assert.ok(after.reduce((a, b) => a + b, 0) <= Math.max(symbolCount(k, 4, policy), counts.reduce((a, b) => a + b, 0)));
  assert.ok(after.reduce((a, b) => a + b, 0) < 160, 'something was dropped');
});

test('property: planned additions always meet the policy, and drops never break it', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 400 }),
      fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 0, max: 2 }),
      fc.constantFrom(1, 1.2, 1.5, 2),
      (k, counts, tolerate, overhead) => {
        const policy = resolvePolicy({ tolerate, overhead });
        const h = holdings(counts);
        const plan = planAdditions(k, h, policy);
        if (counts.length <= tolerate) return;
        assert.ok(plan, 'with more devices than tolerated losses a plan exists');
        const after = h.map((x) => ({ ...x, symbols: x.symbols + (plan.get(x.device) ?? 0) }));
        assert.ok(blockMeetsPolicy(k, after, policy));
        const drops = planDrops(k, after, policy);
        const trimmed = after.map((x) => ({ ...x, symbols: x.symbols - (drops.get(x.device) ?? 0) }));
        assert.ok(blockMeetsPolicy(k, trimmed, policy));
      },
    ),
    { numRuns: 300 },
  );
});
