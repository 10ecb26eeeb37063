// Shamir k-of-n over GF(256) with integrity. The shared payload is value || commitKey, where
// commitKey is 32 random bytes; the commitment is BLAKE3 keyed by commitKey over the secret's
// binding (name, zone, k, n, version) and the value, and every share carries an authenticator
// keyed the same way. A holder sees the commitment and its own share only: it cannot test
// guesses of a low-entropy value against the commitment, because the key is itself shared.
// After k shares combine, the commitment proves the result; the authenticators then name
// every share that was wrong.
import { randomBytes } from 'node:crypto';
import { split, combine } from 'shamir-secret-sharing';
import { blake3 } from '@noble/hashes/blake3.js';
import { encode } from 'cborg';
import { COMMIT_KEY_BYTES, DIGEST_BYTES, MAX_COMBINATIONS } from './limits.js';
import { zeroize } from './zeroize.js';

/** What identifies one split of one secret; bound into commitment, authenticators and boxes. */
export interface SecretBinding {
  name: string;
  zone: string;
  k: number;
  n: number;
  version: number;
}

export interface ShareRecord {
  /** Position of the share in the split, 0..n-1 (not the GF(256) x coordinate). */
  index: number;
  /** Shamir share bytes as produced by the library (y values, then the x coordinate). */
  share: Uint8Array;
  /** Authenticator: BLAKE3 keyed by commitKey over binding, index and share. */
  tag: Uint8Array;
}

export interface SplitResult {
  commitment: Uint8Array;
  shares: ShareRecord[];
}

export interface RecoveryResult {
  value: Uint8Array;
  /** Indexes of offered shares whose authenticator did not verify. */
  badIndexes: number[];
}

const PURPOSE_COMMIT = 1;
const PURPOSE_SHARE = 2;

/** Canonical bytes of a binding, prefixed with a purpose byte so each use is domain-separated. */
export function bindingBytes(binding: SecretBinding, purpose: number): Uint8Array {
  const body = encode(['fcp-mesh/secret/v1', binding.name, binding.zone, binding.k, binding.n, binding.version]);
  const out = new Uint8Array(1 + body.length);
  out[0] = purpose;
  out.set(body, 1);
  return out;
}

function keyedDigest(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = blake3.create({ key, dkLen: DIGEST_BYTES });
  for (const p of parts) h.update(p);
  return h.digest();
}

function commitmentOf(commitKey: Uint8Array, binding: SecretBinding, value: Uint8Array): Uint8Array {
  return keyedDigest(commitKey, bindingBytes(binding, PURPOSE_COMMIT), value);
}

function shareTagOf(commitKey: Uint8Array, binding: SecretBinding, index: number, share: Uint8Array): Uint8Array {
  return keyedDigest(commitKey, bindingBytes(binding, PURPOSE_SHARE), Uint8Array.of(index), share);
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Split `value` into n shares, any k of which rebuild it. The caller's buffer is not modified. */
export async function splitSecret(value: Uint8Array, binding: SecretBinding): Promise<SplitResult> {
  const commitKey = new Uint8Array(randomBytes(COMMIT_KEY_BYTES));
  const payload = new Uint8Array(value.length + COMMIT_KEY_BYTES);
  payload.set(value, 0);
  payload.set(commitKey, value.length);
  try {
    const raw = await split(payload, binding.n, binding.k);
    const commitment = commitmentOf(commitKey, binding, value);
    const shares = raw.map((share, index) => ({ index, share, tag: shareTagOf(commitKey, binding, index, share) }));
    return { commitment, shares };
  } finally {
    zeroize(payload, commitKey);
  }
}

/** Lexicographic k-subsets of 0..m-1, at most `limit` of them. */
function* subsets(m: number, k: number, limit: number): Generator<number[]> {
  if (k > m) return;
  const pick = Array.from({ length: k }, (_, i) => i);
  for (let produced = 0; produced < limit; produced++) {
    yield pick.slice();
    let i = k - 1;
    while (i >= 0 && pick[i] === m - k + i) i--;
    if (i < 0) return;
    pick[i]!++;
    for (let j = i + 1; j < k; j++) pick[j] = pick[j - 1]! + 1;
  }
}

async function combineQuietly(shares: Uint8Array[]): Promise<Uint8Array | null> {
  try {
    return await combine(shares);
  } catch {
    // Mismatched lengths or a repeated x coordinate: this subset holds a bad share.
    return null;
  }
}

/**
 * Rebuild the value from the offered shares (at least k). Tries k-subsets in the order given
 * until one matches the commitment, so with more than k shares one or more bad shares are
 * tolerated. Returns null when no subset verifies. The returned value is a fresh buffer the
 * caller must zero; every intermediate buffer is zeroed here.
 */
export async function recoverSecret(
  offered: ShareRecord[],
  binding: SecretBinding,
  commitment: Uint8Array,
): Promise<RecoveryResult | null> {
  for (const pick of subsets(offered.length, binding.k, MAX_COMBINATIONS)) {
    const payload = await combineQuietly(pick.map((i) => offered[i]!.share));
    if (!payload) continue;
    try {
      if (payload.length <= COMMIT_KEY_BYTES) continue;
      const valueLength = payload.length - COMMIT_KEY_BYTES;
      const value = payload.subarray(0, valueLength);
      const commitKey = payload.subarray(valueLength);
      if (!constantTimeEqual(commitmentOf(commitKey, binding, value), commitment)) continue;
      const badIndexes = offered
        .filter((s) => !constantTimeEqual(shareTagOf(commitKey, binding, s.index, s.share), s.tag))
        .map((s) => s.index);
      return { value: value.slice(), badIndexes };
    } finally {
      zeroize(payload);
    }
  }
  return null;
}
