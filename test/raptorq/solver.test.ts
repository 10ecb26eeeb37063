// The inactivation decoder's choices (RFC 6330 section 5.4.2.2) and the cost of its back
// substitution, on hand-made and real constraint matrices.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockParams } from '../../src/raptorq/index.js';
import type { SparseRows } from '../../src/raptorq/constraint-rows.js';
import { choosePivots, COL_INACTIVE } from '../../src/raptorq/pivoting.js';
import { compileProgram, PROG_XORN } from '../../src/raptorq/program.js';
import { planSolve } from '../../src/raptorq/solver.js';
import { IntList } from '../../src/raptorq/int-list.js';
import { seededRandom, shuffle } from './helpers.js';

/** Empty LDPC and HDPC rows, then the given LT rows (column lists). */
function rowsOf(s: number, h: number, lt: number[][]): SparseRows {
  const rowCount = s + h + lt.length;
  const rowStart = new Int32Array(rowCount + 1);
  const cols: number[] = [];
  for (let r = 0; r < rowCount; r++) {
    rowStart[r] = cols.length;
    if (r >= s + h) cols.push(...lt[r - s - h]!);
  }
  rowStart[rowCount] = cols.length;
  return { rowCount, rowStart, cols: Int32Array.from(cols) };
}

test('a two-entry row is taken from the largest component of the two-entry graph first', () => {
  const params = blockParams(10); // W = 17 V columns
  const first = params.s + params.h;
  // Row 0: a component of two columns; rows 1-4: a path over columns 2..6 (five columns).
  const rows = rowsOf(params.s, params.h, [[0, 1], [2, 3], [3, 4], [4, 5], [5, 6]]);
  const choice = choosePivots(params, rows);
  const firstPivot = choice.pivotRows[0]! - first;
  assert.ok(firstPivot >= 1 && firstPivot <= 4, `first pivot was LT row ${firstPivot}, outside the largest component`);
  // Each tree component costs exactly one inactivation; every row becomes a pivot.
  assert.equal(choice.pivotRows.length, 5);
  let inactivatedV = 0;
  for (let c = 0; c <= 6; c++) if (choice.colState[c] === COL_INACTIVE) inactivatedV++;
  assert.equal(inactivatedV, 2);
});

test('among rows with one V entry left, the one of lowest original degree becomes the pivot', () => {
  const params = blockParams(10);
  const first = params.s + params.h;
  const w = params.w;
  // Both rows have column 0 as their only V entry; row 0 also has two permanently inactive
  // columns (original degree 3), row 1 has none (degree 1).
  const rows = rowsOf(params.s, params.h, [[0, w, w + 1], [0]]);
  const choice = choosePivots(params, rows);
  assert.equal(choice.rowPivot[first + 1], 0, 'the degree-1 row is the first pivot');
  assert.equal(choice.rowPivot[first], -1, 'the degree-3 row is left to the later phases');
});

/** Row operations (XOR sources) of a compiled program. */
function xorCount(code: Int32Array, length: number): number {
  let n = 0;
  for (let pc = 0; pc < length; ) {
    const header = code[pc]!;
    const kind = header & 0xff;
    if (kind === PROG_XORN) {
      n += header >>> 8;
      pc += 2 + (header >>> 8);
    } else pc += kind === 1 ? 5 : kind === 2 ? 3 : 2;
  }
  return n;
}

test('back substitution takes per pivot the cheaper of undo/redo and the direct fill row', () => {
  for (const k of [101, 1002]) {
    const params = blockParams(k);
    const random = seededRandom(k);
    const esis = shuffle([...Array(k).keys()], random);
    const lost = Math.round(k * 0.2);
    const isis: number[] = [];
    for (let i = k; i < params.kPrime; i++) isis.push(i);
    for (const e of esis.slice(lost)) isis.push(e);
    for (let i = 0; i < lost; i++) isis.push(params.kPrime + i);
    const plan = planSolve(params, isis);
    assert.ok(plan, `K=${k}: 20% loss replaced by repair symbols decodes`);
    const n = plan.pivotRows.length;
    let undoRedo = 0;
    let chosen = 0;
    let direct = 0;
    for (let j = 0; j < n; j++) {
      const redo = 2 * (plan.lowerStart[j + 1]! - plan.lowerStart[j]!) + (plan.upperStart[j + 1]! - plan.upperStart[j]!);
      const bits = plan.directStart[j + 1]! - plan.directStart[j]!;
      undoRedo += redo;
      if (plan.direct[j]) {
        assert.ok(bits < redo, `pivot ${j}: direct only when cheaper`);
        chosen += bits;
        direct++;
      } else chosen += redo;
    }
    assert.ok(direct > 0, `K=${k}: some pivots are corrected directly`);
    assert.ok(chosen < undoRedo);
    // The program spends exactly that on back substitution, on top of the other phases.
    const program = compileProgram(plan);
    const others = plan.lowerRows.length + plan.otherPivotRows.length;
    let dense = 0;
    for (let i = 0; i < plan.denseOps.length; i += 4) if (plan.denseOps[i] === 0 || plan.denseOps[i + 3] === 1) dense++;
    // The last MT column adds the Horner accumulator to HDPC row 0 with weight alpha^0 = 1.
    const hdpcXor = 1;
    assert.equal(xorCount(program.code, program.length), others + dense + hdpcXor + chosen);
  }
});

test('a program written straight into kernel memory equals the cached one and survives the memory growing', async () => {
  const { SymbolBuffer } = await import('../../src/raptorq/symbol-buffer.js');
  const { setKernelMode } = await import('../../src/raptorq/simd-kernel.js');
  const k = 400;
  const params = blockParams(k);
  const random = seededRandom(21);
  const isis: number[] = [];
  for (let i = k; i < params.kPrime; i++) isis.push(i);
  for (const esi of shuffle([...Array(k + 100).keys()], random).slice(0, k + 2)) isis.push(esi < k ? esi : esi + params.kPrime - k);
  const plan = planSolve(params, isis)!;
  assert.ok(plan);
  setKernelMode('simd');
  try {
    const buffer = new SymbolBuffer(64, plan.rowCount + 1);
    buffer.bytes.fill(0x5a);
    const store = buffer.programStore()!;
    assert.ok(store, 'kernel-backed buffer');
    const stored = compileProgram(plan, store);
    const heap = compileProgram(plan);
    assert.equal(stored.length, heap.length);
    assert.deepEqual(stored.code.subarray(0, stored.length), heap.code.subarray(0, heap.length));
    // Growing far past the memory's size keeps the words written so far and the rows.
    const before = stored.code.slice(0, stored.length);
    const grown = store.grow(stored.code, stored.length, 4 << 20);
    assert.deepEqual(grown.subarray(0, stored.length), before);
    assert.ok(buffer.bytes.length === (plan.rowCount + 1) * buffer.strideBytes && buffer.bytes.every((b) => b === 0x5a));
    buffer.release();
  } finally {
    setKernelMode('auto');
  }
});

test('an IntList started in a lent buffer hands back a copy, also after growing out of it', () => {
  const lent = new Int32Array(8);
  const list = new IntList(0, lent);
  for (let i = 0; i < 5; i++) list.push(10 + i);
  const values = list.toArray();
  for (let i = 5; i < 20; i++) list.push(10 + i);
  const grown = list.toArray();
  lent.fill(-1); // the lender reuses its buffer once the list is done
  assert.deepEqual([...values], [10, 11, 12, 13, 14]);
  assert.deepEqual([...grown], Array.from({ length: 20 }, (_, i) => 10 + i));
});

test('a plan keeps its own arrays when the next plan reuses the scratch buffers', () => {
  const params = blockParams(52);
  const isis = (seed: number): Int32Array => {
    const all = shuffle([...Array(params.kPrime + 30).keys()], seededRandom(seed));
    return Int32Array.from(all.slice(0, params.kPrime + 2));
  };
  let first = null;
  for (let seed = 1; !first; seed++) first = planSolve(params, isis(seed));
  const pivotRows = first.pivotRows.slice();
  const denseOps = first.denseOps.slice();
  const program = Array.from(compileProgram(first).code);
  for (let seed = 100; seed < 110; seed++) planSolve(params, isis(seed));
  assert.deepEqual([...first.pivotRows], [...pivotRows]);
  assert.deepEqual([...first.denseOps], [...denseOps]);
  assert.ok(denseOps.length > 0 && pivotRows.length > 0);
  assert.deepEqual(Array.from(compileProgram(first).code), program);
});
