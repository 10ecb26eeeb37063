// Per-K' coding parameters of RFC 6330 section 5.3.3.3 and 5.6, looked up from Table 2.

import { SYSTEMATIC_TABLE, SYSTEMATIC_TABLE_ROWS } from './systematic-table.js';

/** K'max: the largest number of source symbols in one source block (section 5.1.2). */
export const MAX_SOURCE_SYMBOLS = 56403;

export interface BlockParams {
  /** Source symbols of the block. */
  readonly k: number;
  /** Padded source symbol count K' (the smallest table entry >= K). */
  readonly kPrime: number;
  /** Systematic index J(K'). */
  readonly j: number;
  /** LDPC symbols. */
  readonly s: number;
  /** HDPC symbols. */
  readonly h: number;
  /** LT symbols. */
  readonly w: number;
  /** Intermediate symbols L = K' + S + H. */
  readonly l: number;
  /** Permanently inactivated symbols P = L - W. */
  readonly p: number;
  /** Smallest prime >= P. */
  readonly p1: number;
  /** B = W - S. */
  readonly b: number;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** Row index of the smallest K' >= k, by binary search. */
function tableRowFor(k: number): number {
  let lo = 0;
  let hi = SYSTEMATIC_TABLE_ROWS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (SYSTEMATIC_TABLE[mid * 5]! >= k) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const cache = new Map<number, BlockParams>();

/** Parameters for a block of k source symbols, 1 <= k <= 56403. */
export function blockParams(k: number): BlockParams {
  if (!Number.isInteger(k) || k < 1 || k > MAX_SOURCE_SYMBOLS) {
    throw new RangeError(`source block must have 1..${MAX_SOURCE_SYMBOLS} symbols, got ${k}`);
  }
  const hit = cache.get(k);
  if (hit) return hit;
  const row = tableRowFor(k) * 5;
  const kPrime = SYSTEMATIC_TABLE[row]!;
  const s = SYSTEMATIC_TABLE[row + 2]!;
  const h = SYSTEMATIC_TABLE[row + 3]!;
  const w = SYSTEMATIC_TABLE[row + 4]!;
  const l = kPrime + s + h;
  const p = l - w;
  let p1 = p;
  while (!isPrime(p1)) p1++;
  const params: BlockParams = { k, kPrime, j: SYSTEMATIC_TABLE[row + 1]!, s, h, w, l, p, p1, b: w - s };
  cache.set(k, params);
  return params;
}

/** The largest K' in Table 2 that is <= limit, or 0 when there is none. */
export function largestKPrimeAtMost(limit: number): number {
  if (limit < SYSTEMATIC_TABLE[0]!) return 0;
  let lo = 0;
  let hi = SYSTEMATIC_TABLE_ROWS - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (SYSTEMATIC_TABLE[mid * 5]! <= limit) lo = mid;
    else hi = mid - 1;
  }
  return SYSTEMATIC_TABLE[lo * 5]!;
}

/** Every K' of Table 2, in increasing order (used by tests that straddle table boundaries). */
export function allKPrimes(): number[] {
  const out: number[] = [];
  for (let i = 0; i < SYSTEMATIC_TABLE_ROWS; i++) out.push(SYSTEMATIC_TABLE[i * 5]!);
  return out;
}
