// The pseudo-random generator Rand, the degree generator Deg and the tuple generator of
// RFC 6330 sections 5.3.5.1 to 5.3.5.4, and the list of intermediate symbols an ISI combines.

import { V0, V1, V2, V3 } from './rand-tables.js';
import type { BlockParams } from './params.js';

/** Rand[y, i, m] of section 5.3.5.1. */
export function rand(y: number, i: number, m: number): number {
  const x0 = (y + i) & 0xff;
  const x1 = ((y >>> 8) + i) & 0xff;
  const x2 = ((y >>> 16) + i) & 0xff;
  const x3 = ((y >>> 24) + i) & 0xff;
  return ((V0[x0]! ^ V1[x1]! ^ V2[x2]! ^ V3[x3]!) >>> 0) % m;
}

const DEGREE_THRESHOLDS = [
  0, 5243, 529531, 704294, 791675, 844104, 879057, 904023, 922747, 937311, 948962, 958494, 966438,
  973160, 978921, 983914, 988283, 992138, 995565, 998631, 1001391, 1003887, 1006157, 1008229,
  1010129, 1011876, 1013490, 1014983, 1016370, 1017662, 1048576,
];

/** Deg[v] of section 5.3.5.2, capped at W - 2. */
export function deg(v: number, w: number): number {
  let d = 1;
  while (v >= DEGREE_THRESHOLDS[d]!) d++;
  return Math.min(d, w - 2);
}

/**
 * Writes into `out` the intermediate-symbol columns combined by the encoding symbol with
 * internal symbol id `isi` (Enc of section 5.3.5.3) and returns how many were written.
 * `out` needs room for W + 3 entries at most; in practice d + d1 <= 33.
 */
export function ltColumns(params: BlockParams, isi: number, out: Int32Array): number {
  const { j, w, p, p1 } = params;
  let bigA = 53591 + j * 997;
  if (bigA % 2 === 0) bigA += 1;
  const bigB = 10267 * (j + 1);
  // isi * bigA stays below 2^53, so the product is exact before reduction mod 2^32.
  const y = (bigB + isi * bigA) % 4294967296;
  const v = rand(y, 0, 1048576);
  const d = deg(v, w);
  const a = 1 + rand(y, 1, w - 1);
  let b = rand(y, 2, w);
  const d1 = d < 4 ? 2 + rand(isi, 3, 2) : 2;
  const a1 = 1 + rand(isi, 4, p1 - 1);
  let b1 = rand(isi, 5, p1);

  let n = 0;
  out[n++] = b;
  for (let t = 1; t < d; t++) {
    b = (b + a) % w;
    out[n++] = b;
  }
  while (b1 >= p) b1 = (b1 + a1) % p1;
  out[n++] = w + b1;
  for (let t = 1; t < d1; t++) {
    b1 = (b1 + a1) % p1;
    while (b1 >= p) b1 = (b1 + a1) % p1;
    out[n++] = w + b1;
  }
  return n;
}
