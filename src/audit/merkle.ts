// Merkle tree hashing, inclusion and consistency proofs of RFC 9162 §2.1 (Certificate
// Transparency v2; the same hashing as RFC 6962): leaf = SHA-256(0x00 || data), node =
// SHA-256(0x01 || left || right), the empty tree = SHA-256(""). Written here because no
// well-kept npm package does RFC 9162 proofs; tested against transparency-dev/merkle's vectors.
import { createHash } from 'node:crypto';
import { AuditError } from './errors.js';

export const HASH_SIZE = 32;

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

export const emptyRoot = (): Uint8Array => sha256();
export const leafHash = (data: Uint8Array): Uint8Array => sha256(LEAF_PREFIX, data);
export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(NODE_PREFIX, left, right);

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** The largest power of two smaller than n (n ≥ 2): the split point k of RFC 9162 §2.1.1. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function requireHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new AuditError('AUDIT_BAD_PROOF', `${what} must be a ${HASH_SIZE}-byte hash`);
}

/**
 * One level of stored hashes, packed 32 bytes each in one growing buffer: a log of a million
 * entries keeps two million hashes, which as separate Uint8Arrays were two million heap objects
 * (about 190 bytes each) that every full garbage collection had to visit.
 */
class HashLevel {
  private buf = new Uint8Array(HASH_SIZE * 16);
  length = 0;

  push(hash: Uint8Array): void {
    if ((this.length + 1) * HASH_SIZE > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf.set(hash, this.length * HASH_SIZE);
    this.length++;
  }

  /** A view of hash i (valid until the next push); callers that hand it out copy it. */
  view(i: number): Uint8Array {
    return this.buf.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }

  /** Hash i as a copy of its own. */
  get(i: number): Uint8Array {
    return this.buf.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }
}

/**
 * An append-only tree of leaf hashes that keeps every complete aligned subtree's hash, so roots
 * and proofs for any size up to the current one cost O(log n) node hashes, not a rehash of all leaves.
 * Hashes are kept as copies and handed out as copies.
 */
export class MerkleTree {
  /** levels[h] hash i = hash of the complete subtree of 2^h leaves starting at leaf i·2^h. */
  private readonly levels: HashLevel[] = [new HashLevel()];

  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends a leaf hash (use `leafHash(entry)`); returns its index. */
  append(hash: Uint8Array): number {
    requireHash(hash, 'leaf hash');
    const index = this.size;
    this.levels[0]!.push(hash);
    // Complete every subtree this leaf closes.
    let i = index;
    for (let h = 0; (i & 1) === 1; h++) {
      const level = this.levels[h]!;
      const parent = nodeHash(level.view(i - 1), level.view(i));
      if (!this.levels[h + 1]) this.levels.push(new HashLevel());
      this.levels[h + 1]!.push(parent);
      i >>= 1;
    }
    return index;
  }

  /** The leaf hash at `index`. */
  leaf(index: number): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new AuditError('AUDIT_BAD_INDEX', `leaf ${index} is not in a tree of ${this.size}`);
    return this.levels[0]!.get(index);
  }

  /** MTH(D[start:end]) of RFC 9162 §2.1.1. */
  private rangeHash(start: number, end: number): Uint8Array {
    const n = end - start;
    if (n === 0) return emptyRoot();
    // An aligned power-of-two range is a stored complete subtree.
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const level = this.levels[Math.log2(n)];
      if (level && start / n < level.length) return level.get(start / n);
    }
    if (n === 1) return this.levels[0]!.get(start);
    const k = split(n);
    return nodeHash(this.rangeHash(start, start + k), this.rangeHash(start + k, end));
  }

  /** The root of the tree of the first `size` leaves (default: all). */
  root(size = this.size): Uint8Array {
    this.requireSize(size);
    return this.rangeHash(0, size);
  }

  /** PATH(index, D[0:size]) of RFC 9162 §2.1.3.1. */
  inclusionProof(index: number, size = this.size): Uint8Array[] {
    this.requireSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new AuditError('AUDIT_BAD_INDEX', `leaf ${index} is not in a tree of ${size}`);
    const path: Uint8Array[] = [];
    const walk = (m: number, start: number, end: number): void => {
      const n = end - start;
      if (n <= 1) return;
      const k = split(n);
      if (m < k) {
        walk(m, start, start + k);
        path.push(this.rangeHash(start + k, end));
      } else {
        walk(m - k, start + k, end);
        path.push(this.rangeHash(start, start + k));
      }
    };
    walk(index, 0, size);
    return path;
  }

  /** PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1. */
  consistencyProof(first: number, second = this.size): Uint8Array[] {
    this.requireSize(second);
    if (!Number.isSafeInteger(first) || first < 0 || first > second) throw new AuditError('AUDIT_BAD_INDEX', `cannot prove size ${first} consistent with size ${second}`);
    if (first === 0 || first === second) return [];
    const proof: Uint8Array[] = [];
    const sub = (m: number, start: number, end: number, whole: boolean): void => {
      const n = end - start;
      if (m === n) {
        if (!whole) proof.push(this.rangeHash(start, end));
        return;
      }
      const k = split(n);
      if (m <= k) {
        sub(m, start, start + k, whole);
        proof.push(this.rangeHash(start + k, end));
      } else {
        sub(m - k, start + k, end, false);
        proof.push(this.rangeHash(start, start + k));
      }
    };
    sub(first, 0, second, true);
    return proof;
  }

  private requireSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) throw new AuditError('AUDIT_BAD_INDEX', `the tree has ${this.size} leaves, not ${size}`);
  }
}

/** Verifies an inclusion proof (RFC 9162 §2.1.3.2); throws AUDIT_BAD_PROOF when it does not hold. */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  requireHash(leaf, 'leaf hash');
  requireHash(root, 'root');
  proof.forEach((p, i) => requireHash(p, `proof[${i}]`));
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new AuditError('AUDIT_BAD_PROOF', `leaf ${index} is not in a tree of ${size}`);
  }
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new AuditError('AUDIT_BAD_PROOF', 'inclusion proof is longer than the tree is deep');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new AuditError('AUDIT_BAD_PROOF', 'inclusion proof is too short');
  if (!equal(r, root)) throw new AuditError('AUDIT_BAD_PROOF', `leaf ${index} is not in the tree of size ${size} with this root`);
}

/** Verifies that the tree (size2, root2) extends (size1, root1) (RFC 9162 §2.1.4.2). */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): void {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1) {
    throw new AuditError('AUDIT_BAD_PROOF', `size ${size2} cannot extend size ${size1}`);
  }
  // As transparency-dev/merkle: a proof from the empty tree proves nothing, so it is refused
  // (a witness takes a log's first checkpoint without one).
  if (size1 === 0) throw new AuditError('AUDIT_BAD_PROOF', 'a consistency proof from the empty tree is meaningless');
  if (size1 === size2) {
    if (proof.length > 0) throw new AuditError('AUDIT_BAD_PROOF', 'equal sizes need an empty proof');
    if (!equal(root1, root2)) throw new AuditError('AUDIT_BAD_PROOF', `two different roots for size ${size1}: the log forked`);
    return;
  }
  if (proof.length === 0) throw new AuditError('AUDIT_BAD_PROOF', 'consistency proof is empty');
  // Equal sizes compare the roots as given; from here on
  // the roots and proof are hashed, so they must be hashes.
  requireHash(root1, 'first root');
  requireHash(root2, 'second root');
  proof.forEach((p, i) => requireHash(p, `proof[${i}]`));
  // A first tree of 2^k leaves is itself a node of the second: its root starts the path.
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new AuditError('AUDIT_BAD_PROOF', 'consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new AuditError('AUDIT_BAD_PROOF', 'consistency proof is too short');
  if (!equal(fr, root1)) throw new AuditError('AUDIT_BAD_PROOF', `the proof does not lead to the first root (size ${size1})`);
  if (!equal(sr, root2)) throw new AuditError('AUDIT_BAD_PROOF', `size ${size2} does not extend size ${size1}: the log was rewritten`);
}
