// Key generation without a dealer for FROST(Ed25519, SHA-512): the Pedersen DKG with proofs of
// knowledge of the FROST paper (Komlo–Goldberg 2020, §5.1, "KeyGen"). Each participant i picks a
// polynomial f_i of degree t-1, publishes commitments C_ik = a_ik·G and a Schnorr proof of knowing
// a_i0, and sends f_i(l) privately to every l. Each l checks every share against the sender's
// commitments; the sum of its shares is its signing share, Σ C_i0 the group key. Written here
// because no well-kept npm package implements it; it reuses frost.ts's group helpers, and its
// result is a frost.ts KeyShare.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { CryptoError } from './errors.js';
import { deserializeElement, mod, randomScalar, serializeElement, serializeScalar, type KeyShare } from './frost.js';

const Point = ed25519.Point;
type Element = InstanceType<typeof Point>;
const DKG_LABEL = new TextEncoder().encode('FROST-ED25519-SHA512-v1dkg');

/** What participant i broadcasts in round 1. */
export interface DkgPackage {
  identifier: number;
  /** C_ik = a_ik·G for k = 0..t-1 (32-byte points). */
  commitments: Uint8Array[];
  /** Proof of knowledge of a_i0: R_i (32 bytes) and μ_i (32-byte scalar). */
  proofR: Uint8Array;
  proofMu: Uint8Array;
}

/** The secret polynomial of one participant: kept in memory for the ceremony, then wiped. */
export interface DkgSecret {
  identifier: number;
  coefficients: bigint[];
}

function littleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** c_i = H(i, Φ, a_i0·G, R_i): `context` (Φ) binds the proof to one ceremony. */
function proofChallenge(identifier: number, context: Uint8Array, c0: Uint8Array, R: Uint8Array): bigint {
  const parts = [DKG_LABEL, serializeScalar(BigInt(identifier)), context, c0, R];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return mod(littleEndian(sha512(all)));
}

function checkParams(identifier: number, threshold: number): void {
  if (!Number.isInteger(identifier) || identifier < 1 || identifier > 255) throw new CryptoError('CRYPTO_BAD_INPUT', `bad participant identifier ${identifier}`);
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > 255) throw new CryptoError('CRYPTO_BAD_INPUT', `bad threshold ${threshold}`);
}

/** Round 1 for participant `identifier`: a fresh polynomial, its commitments and the proof. */
export function dkgRound1(identifier: number, threshold: number, context: Uint8Array): { secret: DkgSecret; pkg: DkgPackage } {
  checkParams(identifier, threshold);
  const coefficients = Array.from({ length: threshold }, randomScalar);
  const commitments = coefficients.map((a) => serializeElement(Point.BASE.multiply(a)));
  const k = randomScalar();
  const R = serializeElement(Point.BASE.multiply(k));
  const c = proofChallenge(identifier, context, commitments[0]!, R);
  const mu = mod(k + coefficients[0]! * c);
  return { secret: { identifier, coefficients }, pkg: { identifier, commitments, proofR: R, proofMu: serializeScalar(mu) } };
}

/** f_i(l): the share participant i sends (sealed) to participant l. */
export function dkgShareFor(secret: DkgSecret, recipient: number): bigint {
  checkParams(recipient, 2);
  const x = BigInt(recipient);
  return secret.coefficients.reduceRight((acc, c) => mod(acc * x + c), 0n);
}

/** Zeroes what can be zeroed of a polynomial (bigints are immutable: drop the references). */
export function wipeDkgSecret(secret: DkgSecret): void {
  secret.coefficients.fill(0n);
  secret.coefficients.length = 0;
}

/** Checks the shape and the proof of knowledge of one round-1 package. */
export function verifyDkgPackage(pkg: DkgPackage, threshold: number, context: Uint8Array): boolean {
  try {
    checkParams(pkg.identifier, threshold);
    if (pkg.commitments.length !== threshold) return false;
    const points = pkg.commitments.map(deserializeElement);
    const R = deserializeElement(pkg.proofR);
    const mu = littleEndian(pkg.proofMu);
    if (pkg.proofMu.length !== 32 || mu >= Point.Fn.ORDER) return false;
    const c = proofChallenge(pkg.identifier, context, pkg.commitments[0]!, pkg.proofR);
    // μ·G = R + c·C_i0 (public values: variable-time multiplication is fine).
    return Point.BASE.multiplyUnsafe(mu).equals(R.add(points[0]!.multiplyUnsafe(c)));
  } catch {
    return false;
  }
}

/** Σ_k C_k · x^k: the public value of a committed polynomial at x. */
function evalCommitments(commitments: readonly Uint8Array[], x: number): Element {
  let acc = Point.ZERO;
  let power = 1n;
  for (const c of commitments) {
    acc = acc.add(deserializeElement(c).multiplyUnsafe(power));
    power = mod(power * BigInt(x));
  }
  return acc;
}

/** Does share f_i(recipient) match participant i's commitments? */
export function verifyDkgShare(pkg: DkgPackage, recipient: number, share: bigint): boolean {
  if (share <= 0n || share >= Point.Fn.ORDER) return false;
  return Point.BASE.multiply(share).equals(evalCommitments(pkg.commitments, recipient));
}

/** The public share PK_j = Σ_i F_i(j) of participant j, from everyone's commitments. */
export function dkgPublicShare(pkgs: readonly DkgPackage[], j: number): Uint8Array {
  return serializeElement(pkgs.reduce((acc, p) => acc.add(evalCommitments(p.commitments, j)), Point.ZERO));
}

/** The group public key Σ_i C_i0. */
export function dkgGroupKey(pkgs: readonly DkgPackage[]): Uint8Array {
  return serializeElement(pkgs.reduce((acc, p) => acc.add(deserializeElement(p.commitments[0]!)), Point.ZERO));
}

/**
 * Round 2 for `identifier`: given every package (verified) and the shares received (one per
 * participant, its own included), the signing share. Throws naming the first participant whose
 * proof or share does not verify.
 */
export function dkgFinish(identifier: number, threshold: number, context: Uint8Array, pkgs: readonly DkgPackage[], shares: ReadonlyMap<number, bigint>): KeyShare {
  checkParams(identifier, threshold);
  const ids = new Set<number>();
  for (const p of pkgs) {
    if (ids.has(p.identifier)) throw new DkgCheatError(p.identifier, 'sent two packages');
    ids.add(p.identifier);
    if (!verifyDkgPackage(p, threshold, context)) throw new DkgCheatError(p.identifier, 'sent a package whose proof of knowledge does not verify');
    const s = shares.get(p.identifier);
    if (s === undefined) throw new DkgCheatError(p.identifier, `sent no share to participant ${identifier}`);
    if (!verifyDkgShare(p, identifier, s)) throw new DkgCheatError(p.identifier, `sent participant ${identifier} a share that does not match its commitments`);
  }
  if (pkgs.length < threshold) throw new CryptoError('CRYPTO_BAD_INPUT', `${pkgs.length} participants cannot make a ${threshold}-of-n key`);
  const secret = mod([...shares.values()].reduce((a, b) => a + b, 0n));
  return { identifier, secret, publicShare: serializeElement(Point.BASE.multiply(secret)), groupPublicKey: dkgGroupKey(pkgs), threshold };
}

/** A participant's round-1 package or share did not verify: `cheater` names it. */
export class DkgCheatError extends CryptoError {
  constructor(
    readonly cheater: number,
    what: string,
  ) {
    super('CRYPTO_BAD_INPUT', `participant ${cheater} ${what}`);
    this.name = 'DkgCheatError';
  }
}
