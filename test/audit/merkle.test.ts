// RFC 9162 Merkle trees against transparency-dev/merkle's published vectors (its testdata/ and
// the reference tree of its testonly package), and a brute-force cross-check of our own proofs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AuditError, MerkleTree, emptyRoot, leafHash, nodeHash, verifyConsistency, verifyInclusion } from '../../src/audit/index.js';

interface InclusionVector { file: string; leafIdx: number; treeSize: number; root: string | null; leafHash: string | null; proof: string[] | null; wantErr: boolean }
interface ConsistencyVector { file: string; size1: number; size2: number; root1: string | null; root2: string | null; proof: string[] | null; wantErr: boolean }
const vectors = JSON.parse(readFileSync(new URL('../../../test/fixtures/merkle/vectors.json', import.meta.url), 'utf8')) as {
  inclusion: InclusionVector[];
  consistency: ConsistencyVector[];
};
const b = (s: string | null): Uint8Array => new Uint8Array(Buffer.from(s ?? '', 'base64'));
const h = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

// testonly.LeafInputs() and testonly.RootHashes() of transparency-dev/merkle.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

function referenceTree(): MerkleTree {
  const t = new MerkleTree();
  for (const l of LEAVES) t.append(leafHash(l));
  return t;
}

test('roots of every size of the reference tree match RootHashes()', () => {
  const t = referenceTree();
  assert.equal(hex(emptyRoot()), ROOTS[0]);
  for (let size = 0; size <= LEAVES.length; size++) assert.equal(hex(t.root(size)), ROOTS[size], `size ${size}`);
});

test('inclusion vectors: every happy path verifies and reproduces, every mutation is refused', () => {
  const t = referenceTree();
  assert.ok(vectors.inclusion.length > 90);
  for (const v of vectors.inclusion) {
    const run = () => verifyInclusion(v.leafIdx, v.treeSize, b(v.leafHash), (v.proof ?? []).map(b), b(v.root));
    if (v.wantErr) {
      assert.throws(run, (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_PROOF', v.file);
    } else {
      run();
      if (v.treeSize <= LEAVES.length && hex(t.root(v.treeSize)) === hex(b(v.root))) {
        assert.deepEqual(t.inclusionProof(v.leafIdx, v.treeSize).map(hex), (v.proof ?? []).map((p) => hex(b(p))), v.file);
      }
    }
  }
});

test('consistency vectors: every happy path verifies and reproduces, every mutation is refused', () => {
  const t = referenceTree();
  assert.ok(vectors.consistency.length > 90);
  for (const v of vectors.consistency) {
    const run = () => verifyConsistency(v.size1, v.size2, b(v.root1), b(v.root2), (v.proof ?? []).map(b));
    if (v.wantErr) {
      assert.throws(run, (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_PROOF', v.file);
    } else {
      run();
      if (v.size2 <= LEAVES.length && hex(t.root(v.size2)) === hex(b(v.root2))) {
        assert.deepEqual(t.consistencyProof(v.size1, v.size2).map(hex), (v.proof ?? []).map((p) => hex(b(p))), v.file);
      }
    }
  }
});

/** MTH of RFC 9162 §2.1.1 written directly from its definition, as an independent reference. */
function naiveRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return emptyRoot();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

test('every proof of every tree up to 33 leaves verifies, and a flipped bit in any proof hash is refused', () => {
  const t = new MerkleTree();
  const leaves: Uint8Array[] = [];
  for (let n = 1; n <= 33; n++) {
    const l = leafHash(Uint8Array.of(n, n * 7));
    leaves.push(l);
    t.append(l);
    assert.equal(hex(t.root()), hex(naiveRoot(leaves)), `root of ${n}`);
    for (let i = 0; i < n; i++) {
      const proof = t.inclusionProof(i);
      verifyInclusion(i, n, leaves[i]!, proof, t.root());
      if (proof.length > 0) {
        const bad = proof.map((p) => p.slice());
        bad[i % bad.length]![0]! ^= 1;
        assert.throws(() => verifyInclusion(i, n, leaves[i]!, bad, t.root()), AuditError);
      }
    }
    for (let m = 1; m <= n; m++) {
      const proof = t.consistencyProof(m, n);
      verifyConsistency(m, n, t.root(m), t.root(n), proof);
      if (proof.length > 0) {
        const bad = proof.map((p) => p.slice());
        bad[m % bad.length]![31]! ^= 0x80;
        assert.throws(() => verifyConsistency(m, n, t.root(m), t.root(n), bad), AuditError);
      }
    }
  }
});

test('a fork (two roots for one size) and a rewrite are named as such', () => {
  const a = referenceTree();
  const forked = new MerkleTree();
  for (const l of LEAVES.slice(0, 5)) forked.append(leafHash(l));
  forked.append(leafHash(Uint8Array.of(0xff)));
  assert.throws(() => verifyConsistency(6, 6, a.root(6), forked.root(6), []), /forked/);
  assert.throws(() => verifyConsistency(6, 8, forked.root(6), a.root(8), a.consistencyProof(6, 8)), /first root/);
  assert.throws(() => a.inclusionProof(8), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_INDEX');
});

test('a tree of many leaves (its packed levels grown many times) keeps every root and leaf; what it hands out is a copy', () => {
  const t = new MerkleTree();
  const leaves: Uint8Array[] = [];
  for (let n = 0; n < 3000; n++) {
    const l = leafHash(Uint8Array.of(n & 0xff, n >> 8, 3));
    leaves.push(l);
    assert.equal(t.append(l), n);
    l[0]! ^= 0xff; // the caller's array changes afterwards: the tree kept its own copy
    l[0]! ^= 0xff;
  }
  for (const size of [1, 2, 3, 16, 17, 1024, 1025, 2047, 2048, 2049, 2999, 3000]) assert.equal(hex(t.root(size)), hex(naiveRoot(leaves.slice(0, size))), `root of ${size}`);
  for (const i of [0, 1, 15, 16, 1023, 1024, 2999]) assert.equal(hex(t.leaf(i)), hex(leaves[i]!));
  assert.throws(() => t.leaf(3000), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_INDEX');
  assert.throws(() => t.leaf(-1), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_INDEX');
  assert.throws(() => t.leaf(1.5), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_BAD_INDEX');

  // Changing a returned leaf, root or proof hash changes nothing in the tree.
  const root = t.root();
  const want = hex(root);
  root.fill(0);
  t.leaf(2048).fill(0);
  t.root(2048).fill(0);
  for (const p of t.inclusionProof(5)) p.fill(0);
  for (const p of t.consistencyProof(1000)) p.fill(0);
  assert.equal(hex(t.root()), want);
  assert.equal(hex(t.leaf(2048)), hex(leaves[2048]!));
  verifyInclusion(5, 3000, leaves[5]!, t.inclusionProof(5), t.root());
  verifyConsistency(1000, 3000, t.root(1000), t.root(), t.consistencyProof(1000));
});
