// The transient allocator (arena.ts): zeroed views inside a scope, plain arrays outside, and
// plans made inside a scope equal to plans made outside (the decoder plans in one, tests and
// the failure statistics outside).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocInt32, allocUint8, copyInt32, packArrays, transient } from '../../src/raptorq/arena.js';
import { blockParams } from '../../src/raptorq/index.js';
import { encodingPlan, clearEncodingPlans } from '../../src/raptorq/intermediate.js';
import { compileProgram } from '../../src/raptorq/program.js';
import { planSolve, type SolvePlan } from '../../src/raptorq/solver.js';
import { seededRandom, shuffle } from './helpers.js';

test('views handed out in a scope start zero, also after an earlier scope wrote to the same bytes', () => {
  for (let round = 0; round < 3; round++) {
    transient(() => {
      const a = allocInt32(1000);
      const b = allocUint8(77);
      const c = allocInt32(5);
      assert.ok(a.every((v) => v === 0) && b.every((v) => v === 0) && c.every((v) => v === 0));
      a.fill(-1);
      b.fill(255);
      c.fill(7);
      // Distinct, non-overlapping views of one buffer.
      assert.equal(a.buffer, c.buffer);
      assert.ok(c.byteOffset >= a.byteOffset + a.byteLength || c.byteOffset + c.byteLength <= a.byteOffset);
    });
  }
});

test('outside a scope the allocators return arrays of their own; a nested scope shares the outer one', () => {
  const a = allocInt32(100);
  const b = allocInt32(100);
  assert.notEqual(a.buffer, b.buffer);
  assert.equal(a.byteOffset, 0);
  transient(() => {
    const outer = allocInt32(16);
    const inner = transient(() => allocInt32(16));
    outer.fill(3);
    assert.ok(inner.every((v) => v === 0), 'the nested scope did not hand out the same bytes again');
  });
  assert.deepEqual([...copyInt32(Int32Array.from([1, 2, 3, 4]), 3)], [1, 2, 3]);
});

test('requests beyond the retained buffer are served fresh, inside a scope too', () => {
  transient(() => {
    const big = allocInt32(2 << 20); // 8 MiB
    assert.equal(big.byteOffset, 0);
    assert.equal(big.buffer.byteLength, big.byteLength);
    assert.ok(big.every((v) => v === 0));
  });
});

function planArrays(plan: SolvePlan): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [key, value] of Object.entries(plan)) if (value instanceof Int32Array || value instanceof Uint8Array) out[key] = [...value];
  return out;
}

test('plans made in a scope are the plans made outside one, and compile to the same program', () => {
  const random = seededRandom(99);
  for (const k of [10, 52, 101, 820]) {
    const params = blockParams(k);
    for (let trial = 0; trial < 4; trial++) {
      const esis = shuffle([...Array(3 * k).keys()], random).slice(0, k + 2);
      const isis = Int32Array.from([...Array(params.kPrime - k).keys()].map((i) => k + i).concat(esis.map((e) => (e < k ? e : e + params.kPrime - k))));
      const outside = planSolve(params, isis);
      const inside = transient(() => {
        const plan = planSolve(params, isis);
        return plan && { arrays: planArrays(plan), program: [...compileProgram(plan).code.subarray(0, compileProgram(plan).length)] };
      });
      assert.equal(inside === null, outside === null, `K=${k}: the same rank decision`);
      if (!outside || !inside) continue;
      assert.deepEqual(inside.arrays, planArrays(outside), `K=${k}: the same plan`);
      const program = compileProgram(outside);
      assert.deepEqual(inside.program, [...program.code.subarray(0, program.length)], `K=${k}: the same program`);
    }
  }
});

test('packed encoding plans equal unpacked ones and keep the plan shape', () => {
  for (const k of [10, 55, 1002]) {
    const params = blockParams(k);
    clearEncodingPlans();
    const cached = encodingPlan(params);
    const isis = Int32Array.from([...Array(params.kPrime).keys()]);
    const fresh = planSolve(params, isis)!;
    assert.deepEqual(planArrays(cached), planArrays(fresh));
    assert.deepEqual(Object.keys(cached), Object.keys(fresh));
  }
  const record = { a: Int32Array.from([1, 2, 3]), b: Uint8Array.from([4, 5]), n: 7 };
  const keys = Object.keys(record);
  const packed = packArrays(record);
  assert.equal(packed, record);
  assert.deepEqual(Object.keys(packed), keys);
  assert.equal(packed.a.buffer, packed.b.buffer);
  assert.deepEqual([...packed.a], [1, 2, 3]);
  assert.deepEqual([...packed.b], [4, 5]);
  assert.equal(packed.n, 7);
});
