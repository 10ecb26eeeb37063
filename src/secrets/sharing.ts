// k-of-n sharing of one secret value, on the crypto layer's Shamir wrappers (GF(256) via
// shamir-secret-sharing; every share carries a keyed commitment to the shared payload and its
// own authenticator, and combining skips bad shares when more than k are offered).
//
// What is shared is not the bare value but
//   u16 bindingLength || binding || value || pad(32 random bytes)
// - the binding (name, zone, k, n, version, splitId) ties the rebuilt value to the secret and
//   split it was asked for, so a share set of another secret or version is never accepted;
// - the random pad makes the committed payload high-entropy: the crypto commitment is keyed by
//   a salt every holder sees, and without the pad a holder could test guesses of a short value
//   (a password) against it.
import { randomBytes } from 'node:crypto';
import { encode } from 'cborg';
import { combineWithReport, split } from '../crypto/index.js';
import { zeroize } from './zeroize.js';

/** Identifies one split of one secret. */
export interface SecretBinding {
  name: string;
  zone: string;
  k: number;
  n: number;
  version: number;
  /** 32 random bytes chosen per split; tells splits of the same version apart. */
  splitId: Uint8Array;
}

export interface ShareRecord {
  /** Position of the share in the split, 0..n-1. */
  index: number;
  /** Self-describing share bytes from the crypto layer (commitment, authenticator, y values, x). */
  share: Uint8Array;
}

export interface RecoveryResult {
  value: Uint8Array;
  /** Indexes of offered shares that were malformed, tampered or of another split. */
  badIndexes: number[];
}

const PAD_BYTES = 32;

export function bindingBytes(binding: SecretBinding): Uint8Array {
  return encode(['fcp-mesh/secret/v1', binding.name, binding.zone, binding.k, binding.n, binding.version, binding.splitId]);
}

/** Split `value` into n shares of which any k rebuild it. The caller's buffer is not modified. */
export async function splitSecret(value: Uint8Array, binding: SecretBinding): Promise<ShareRecord[]> {
  const bound = bindingBytes(binding);
  const payload = new Uint8Array(2 + bound.length + value.length + PAD_BYTES);
  payload[0] = bound.length >> 8;
  payload[1] = bound.length & 0xff;
  payload.set(bound, 2);
  payload.set(value, 2 + bound.length);
  payload.set(randomBytes(PAD_BYTES), 2 + bound.length + value.length);
  try {
    const shares = await split(payload, binding.n, binding.k);
    return shares.map((share, index) => ({ index, share }));
  } finally {
    zeroize(payload);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Rebuild the value from the offered shares (at least k). Returns null when no k of them
 * reproduce the committed payload of this binding. The value is a fresh buffer the caller
 * must zero; the combined payload is zeroed here.
 */
export async function recoverSecret(offered: ShareRecord[], binding: SecretBinding): Promise<RecoveryResult | null> {
  let payload: Uint8Array;
  let badPositions: number[];
  try {
    const report = await combineWithReport(offered.map((s) => s.share));
    payload = report.secret;
    badPositions = report.badShares;
  } catch {
    return null;
  }
  try {
    const expected = bindingBytes(binding);
    if (payload.length < 2 + PAD_BYTES + 1) return null;
    const boundLength = (payload[0]! << 8) | payload[1]!;
    if (boundLength !== expected.length || payload.length < 2 + boundLength + PAD_BYTES + 1) return null;
    if (!sameBytes(payload.subarray(2, 2 + boundLength), expected)) return null;
    const value = payload.slice(2 + boundLength, payload.length - PAD_BYTES);
    return { value, badIndexes: badPositions.map((p) => offered[p]!.index) };
  } finally {
    zeroize(payload);
  }
}
