// k-of-n secret sharing (Shamir over GF(256), via shamir-secret-sharing) with integrity:
// every share carries a keyed-hash commitment to the secret and its own authenticator, so a
// wrong or tampered share is detected, and with more than k shares recovery skips a bad one.
import { split as shamirSplit, combine as shamirCombine } from 'shamir-secret-sharing';
import { randomBytes } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import { CryptoError } from './errors.js';
import { bytesEqual, utf8, zeroize } from './bytes.js';

// Share layout: version(1) | k(1) | n(1) | salt(32) | commitment(32) | tag(16) | y-values | x(1).
const SHARE_VERSION = 1;
const HEADER = 3 + 32 + 32;
const TAG_BYTES = 16;
const PREFIX = HEADER + TAG_BYTES;
const COMMIT_DOMAIN = utf8('FCP2-SECRET-COMMIT-V1');
const AUTH_DOMAIN = utf8('FCP2-SHARE-AUTH-V1');
/** Bound on subsets tried when some shares are bad (keeps recovery time predictable). */
const MAX_SUBSET_TRIES = 2048;

function commitment(salt: Uint8Array, secret: Uint8Array): Uint8Array {
  return blake3.create({ key: salt }).update(COMMIT_DOMAIN).update(secret).digest();
}

function shareTag(salt: Uint8Array, secret: Uint8Array, headerAndShare: Uint8Array[]): Uint8Array {
  const authKey = blake3.create({ key: salt }).update(AUTH_DOMAIN).update(secret).digest();
  const h = blake3.create({ key: authKey });
  for (const part of headerAndShare) h.update(part);
  zeroize(authKey);
  return h.digest().slice(0, TAG_BYTES);
}

/**
 * Splits secret into n shares of which any k rebuild it (2 <= k <= n <= 255).
 * Each share is self-contained bytes; seal each to its device with sealTo.
 * The commitment lets a share holder test guesses of the secret, so share only high-entropy
 * secrets (keys, tokens), never short passwords.
 */
export async function split(secret: Uint8Array, n: number, k: number): Promise<Uint8Array[]> {
  if (!(secret instanceof Uint8Array) || secret.length === 0) {
    throw new CryptoError('CRYPTO_BAD_INPUT', 'secret must be a non-empty Uint8Array');
  }
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 2 || n < k || n > 255) {
    throw new CryptoError('CRYPTO_BAD_INPUT', `need integers 2 <= k <= n <= 255, got k=${k} n=${n}`);
  }
  const plain = Uint8Array.from(secret); // the library insists on a plain Uint8Array
  const raw = await shamirSplit(plain, n, k);
  zeroize(plain);
  const salt = new Uint8Array(randomBytes(32));
  const header = new Uint8Array(HEADER);
  header.set([SHARE_VERSION, k, n], 0);
  header.set(salt, 3);
  header.set(commitment(salt, secret), 35);
  return raw.map((share) => {
    const out = new Uint8Array(PREFIX + share.length);
    out.set(header, 0);
    out.set(shareTag(salt, secret, [header, share]), HEADER);
    out.set(share, PREFIX);
    zeroize(share);
    return out;
  });
}

interface ParsedShare {
  input: number;
  groupKey: string;
  k: number;
  salt: Uint8Array;
  commitment: Uint8Array;
  header: Uint8Array;
  tag: Uint8Array;
  share: Uint8Array;
  x: number;
}

function parseShare(bytes: unknown, input: number): ParsedShare | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length < PREFIX + 2 || bytes[0] !== SHARE_VERSION) return undefined;
  const k = bytes[1]!;
  const n = bytes[2]!;
  if (k < 2 || n < k) return undefined;
  const header = bytes.slice(0, HEADER);
  const share = Uint8Array.from(bytes.subarray(PREFIX));
  return {
    input,
    groupKey: `${Buffer.from(header).toString('hex')}/${share.length}`,
    k,
    salt: header.subarray(3, 35),
    commitment: header.subarray(35, 67),
    header,
    tag: bytes.slice(HEADER, PREFIX),
    share,
    x: share[share.length - 1]!,
  };
}

/** Yields k-element index combinations of 0..n-1 in lexicographic order. */
function* combinations(n: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield idx.slice();
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}

export interface CombineReport {
  secret: Uint8Array;
  /** Positions (in the input array) of shares that were malformed, tampered or from another split. */
  badShares: number[];
}

/**
 * Rebuilds the secret from shares made by split, skipping bad ones when more than k are given.
 * Throws CRYPTO_SHARES_INSUFFICIENT (fewer than k usable shares) or CRYPTO_SHARES_INCONSISTENT
 * (no k of them reproduce the committed secret).
 */
export async function combineWithReport(shares: Uint8Array[]): Promise<CombineReport> {
  if (!Array.isArray(shares)) throw new CryptoError('CRYPTO_BAD_INPUT', 'shares must be an array of Uint8Array');
  const parsed: ParsedShare[] = [];
  const malformed: number[] = [];
  shares.forEach((s, i) => {
    const p = parseShare(s, i);
    if (p) parsed.push(p);
    else malformed.push(i);
  });
  const groups = new Map<string, ParsedShare[]>();
  for (const p of parsed) {
    const g = groups.get(p.groupKey) ?? [];
    g.push(p);
    groups.set(p.groupKey, g);
  }
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length);
  let sawEnough = false;
  let tries = 0;
  for (const group of ordered) {
    const k = group[0]!.k;
    if (group.length < k) continue;
    sawEnough = true;
    for (const pick of combinations(group.length, k)) {
      if (++tries > MAX_SUBSET_TRIES) break;
      const chosen = pick.map((i) => group[i]!);
      if (new Set(chosen.map((c) => c.x)).size !== k) continue;
      let candidate: Uint8Array;
      try {
        candidate = await shamirCombine(chosen.map((c) => c.share));
      } catch {
        continue;
      }
      const head = group[0]!;
      if (!bytesEqual(commitment(head.salt, candidate), head.commitment)) {
        zeroize(candidate);
        continue;
      }
      const good = new Set(group.filter((p) => bytesEqual(shareTag(p.salt, candidate, [p.header, p.share]), p.tag)).map((p) => p.input));
      const badShares = shares.map((_, i) => i).filter((i) => !good.has(i));
      for (const p of parsed) zeroize(p.share);
      return { secret: candidate, badShares };
    }
  }
  for (const p of parsed) zeroize(p.share);
  if (!sawEnough) {
    throw new CryptoError('CRYPTO_SHARES_INSUFFICIENT', `not enough valid shares to rebuild the secret (${parsed.length} parsed, ${malformed.length} malformed); collect more shares`);
  }
  throw new CryptoError('CRYPTO_SHARES_INCONSISTENT', 'no subset of the shares reproduces the committed secret: too many shares are wrong or tampered');
}

/** Rebuilds the secret; see combineWithReport for the error codes. */
export async function combine(shares: Uint8Array[]): Promise<Uint8Array> {
  return (await combineWithReport(shares)).secret;
}
