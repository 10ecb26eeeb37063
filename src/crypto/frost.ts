// FROST(Ed25519, SHA-512) of RFC 9591: a threshold Schnorr signature whose result is a plain
// Ed25519 signature (RFC 8032) under the group key. Written here on @noble/curves' Ed25519
// group because no well-kept npm package implements RFC 9591; tested against its vectors
// (Appendix E.1). Section numbers below are RFC 9591's.
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { CryptoError } from './errors.js';

const Point = ed25519.Point;
type Element = InstanceType<typeof Point>;
/** The prime order L of the Ed25519 group. */
const L = Point.Fn.ORDER;
const CONTEXT = new TextEncoder().encode('FROST-ED25519-SHA512-v1');

/** Reduction modulo the group order L. */
export const mod = (a: bigint): bigint => ((a % L) + L) % L;

function invert(a: bigint): bigint {
  // Fermat: a^(L-2) mod L (L is prime).
  let result = 1n;
  let base = mod(a);
  let e = L - 2n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % L;
    base = (base * base) % L;
    e >>= 1n;
  }
  return result;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** SerializeScalar: 32 bytes little-endian (§6.1). */
export function serializeScalar(s: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = mod(s);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function littleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** DeserializeScalar: refuses values not below L (§6.1). */
export function deserializeScalar(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new CryptoError('CRYPTO_BAD_INPUT', 'a scalar is 32 bytes');
  const v = littleEndian(bytes);
  if (v >= L) throw new CryptoError('CRYPTO_BAD_INPUT', 'scalar is not reduced');
  return v;
}

export const serializeElement = (p: Element): Uint8Array => p.toBytes();

/** DeserializeElement: a canonical encoding of a point of the prime-order subgroup, not the identity (§6.5). */
export function deserializeElement(bytes: Uint8Array): Element {
  let p: Element;
  try {
    p = Point.fromBytes(bytes);
  } catch {
    throw new CryptoError('CRYPTO_BAD_INPUT', 'not an Ed25519 point');
  }
  if (p.is0() || !p.isTorsionFree()) throw new CryptoError('CRYPTO_BAD_INPUT', 'point is the identity or outside the prime-order group');
  return p;
}

const hashToScalar = (...parts: Uint8Array[]): bigint => mod(littleEndian(sha512(concat(...parts))));
const label = (s: string): Uint8Array => new TextEncoder().encode(s);
const H1 = (m: Uint8Array): bigint => hashToScalar(CONTEXT, label('rho'), m);
const H2 = (m: Uint8Array): bigint => hashToScalar(m); // no context: Ed25519-compatible challenge
const H3 = (m: Uint8Array): bigint => hashToScalar(CONTEXT, label('nonce'), m);
const H4 = (m: Uint8Array): Uint8Array => sha512(concat(CONTEXT, label('msg'), m));
const H5 = (m: Uint8Array): Uint8Array => sha512(concat(CONTEXT, label('com'), m));

export interface KeyShare {
  identifier: number;
  /** The participant's secret share sk_i. */
  secret: bigint;
  /** PK_i = G·sk_i, which the others use to check its signature shares. */
  publicShare: Uint8Array;
  groupPublicKey: Uint8Array;
  threshold: number;
}

/** Trusted-dealer key generation (Appendix C): `min` of `max` shares of a fresh (or given) key. */
export function splitKey(max: number, min: number, opts: { secret?: bigint; coefficients?: bigint[] } = {}): KeyShare[] {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 2 || max < min || max > 255) throw new CryptoError('CRYPTO_BAD_INPUT', `need 2 ≤ min ≤ max ≤ 255 shares (got ${min} of ${max})`);
  const secret = opts.secret ?? randomScalar();
  const coefficients = [secret, ...(opts.coefficients ?? Array.from({ length: min - 1 }, randomScalar))];
  if (coefficients.length !== min) throw new CryptoError('CRYPTO_BAD_INPUT', `a ${min}-of-${max} split needs ${min - 1} coefficients`);
  const groupPublicKey = serializeElement(Point.BASE.multiply(mod(secret)));
  return Array.from({ length: max }, (_, i) => {
    const x = BigInt(i + 1);
    // Horner evaluation of f(x) = secret + a1·x + ... + a_{min-1}·x^{min-1}.
    const share = coefficients.reduceRight((acc, c) => mod(acc * x + c), 0n);
    return { identifier: i + 1, secret: share, publicShare: serializeElement(Point.BASE.multiply(share)), groupPublicKey, threshold: min };
  });
}

/** A uniformly random non-zero scalar (64 random bytes reduced mod L). */
export function randomScalar(): bigint {
  for (;;) {
    const s = mod(littleEndian(randomBytes(64)));
    if (s !== 0n) return s;
  }
}

export interface Nonces {
  hiding: bigint;
  binding: bigint;
}

export interface Commitment {
  identifier: number;
  hiding: Uint8Array;
  binding: Uint8Array;
}

/** nonce_generate (§4.1): H3(random_bytes || SerializeScalar(secret)). */
export function nonceGenerate(secret: bigint, random: Uint8Array = randomBytes(32)): bigint {
  return H3(concat(random, serializeScalar(secret)));
}

/** Round one, commit (§5.1): fresh nonces (never reuse them) and their public commitments. */
export function commit(share: KeyShare, randomness?: { hiding: Uint8Array; binding: Uint8Array }): { nonces: Nonces; commitment: Commitment } {
  const hiding = nonceGenerate(share.secret, randomness?.hiding);
  const binding = nonceGenerate(share.secret, randomness?.binding);
  return {
    nonces: { hiding, binding },
    commitment: { identifier: share.identifier, hiding: serializeElement(Point.BASE.multiply(hiding)), binding: serializeElement(Point.BASE.multiply(binding)) },
  };
}

function sortedCommitments(list: readonly Commitment[]): Commitment[] {
  const sorted = [...list].sort((a, b) => a.identifier - b.identifier);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.identifier === sorted[i - 1]!.identifier) throw new CryptoError('CRYPTO_BAD_INPUT', `participant ${sorted[i]!.identifier} committed twice`);
  }
  for (const c of sorted) if (!Number.isInteger(c.identifier) || c.identifier < 1 || c.identifier > 255) throw new CryptoError('CRYPTO_BAD_INPUT', `bad participant identifier ${c.identifier}`);
  return sorted;
}

/** encode_group_commitment_list (§4.3). */
function encodeCommitments(sorted: readonly Commitment[]): Uint8Array {
  return concat(...sorted.flatMap((c) => [serializeScalar(BigInt(c.identifier)), deserializeElement(c.hiding).toBytes(), deserializeElement(c.binding).toBytes()]));
}

/** compute_binding_factors (§4.4): one ρ_i per participant. */
export function bindingFactors(groupPublicKey: Uint8Array, list: readonly Commitment[], message: Uint8Array): Map<number, bigint> {
  const sorted = sortedCommitments(list);
  const prefix = concat(groupPublicKey, H4(message), H5(encodeCommitments(sorted)));
  return new Map(sorted.map((c) => [c.identifier, H1(concat(prefix, serializeScalar(BigInt(c.identifier))))]));
}

/** compute_group_commitment (§4.5): R = Σ (D_i + ρ_i·E_i). */
function groupCommitment(list: readonly Commitment[], rho: Map<number, bigint>): Element {
  return list.reduce((acc, c) => acc.add(deserializeElement(c.hiding)).add(deserializeElement(c.binding).multiplyUnsafe(rho.get(c.identifier)!)), Point.ZERO);
}

/** derive_interpolating_value (§4.2): the Lagrange coefficient λ_i at 0 over the signers. */
export function interpolatingValue(identifiers: readonly number[], x: number): bigint {
  if (!identifiers.includes(x)) throw new CryptoError('CRYPTO_BAD_INPUT', `participant ${x} is not among the signers`);
  let num = 1n;
  let den = 1n;
  for (const j of identifiers) {
    if (j === x) continue;
    num = mod(num * BigInt(j));
    den = mod(den * BigInt(j - x));
  }
  return mod(num * invert(den));
}

const challenge = (R: Element, groupPublicKey: Uint8Array, message: Uint8Array): bigint => H2(concat(serializeElement(R), groupPublicKey, message));

/** Round two, sign (§5.2): this participant's signature share z_i. */
export function signShare(share: KeyShare, nonces: Nonces, list: readonly Commitment[], message: Uint8Array): bigint {
  const sorted = sortedCommitments(list);
  if (sorted.length < share.threshold) throw new CryptoError('CRYPTO_SHARES_INSUFFICIENT', `${sorted.length} signers, ${share.threshold} needed`);
  const rho = bindingFactors(share.groupPublicKey, sorted, message);
  const mine = rho.get(share.identifier);
  if (mine === undefined) throw new CryptoError('CRYPTO_BAD_INPUT', `participant ${share.identifier} has no commitment in the list`);
  const R = groupCommitment(sorted, rho);
  const lambda = interpolatingValue(sorted.map((c) => c.identifier), share.identifier);
  const c = challenge(R, share.groupPublicKey, message);
  return mod(nonces.hiding + nonces.binding * mine + lambda * share.secret * c);
}

/** verify_signature_share (§5.4): names a participant whose share is wrong. */
export function verifyShare(identifier: number, publicShare: Uint8Array, z: bigint, list: readonly Commitment[], groupPublicKey: Uint8Array, message: Uint8Array): boolean {
  const sorted = sortedCommitments(list);
  const rho = bindingFactors(groupPublicKey, sorted, message);
  const mine = sorted.find((c) => c.identifier === identifier);
  if (!mine) return false;
  const commShare = deserializeElement(mine.hiding).add(deserializeElement(mine.binding).multiplyUnsafe(rho.get(identifier)!));
  const c = challenge(groupCommitment(sorted, rho), groupPublicKey, message);
  const lambda = interpolatingValue(sorted.map((x) => x.identifier), identifier);
  // Public values only: multiplyUnsafe (variable time, and it accepts 0).
  return Point.BASE.multiplyUnsafe(mod(z)).equals(commShare.add(deserializeElement(publicShare).multiplyUnsafe(mod(c * lambda))));
}

/** aggregate (§5.3): the Ed25519 signature R || z. */
export function aggregate(list: readonly Commitment[], shares: ReadonlyMap<number, bigint>, groupPublicKey: Uint8Array, message: Uint8Array): Uint8Array {
  const sorted = sortedCommitments(list);
  const rho = bindingFactors(groupPublicKey, sorted, message);
  const R = groupCommitment(sorted, rho);
  let z = 0n;
  for (const c of sorted) {
    const s = shares.get(c.identifier);
    if (s === undefined) throw new CryptoError('CRYPTO_SHARES_INSUFFICIENT', `no signature share from participant ${c.identifier}`);
    z = mod(z + s);
  }
  return concat(serializeElement(R), serializeScalar(z));
}
