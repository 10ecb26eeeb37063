// GF(256) arithmetic of RFC 6330 section 5.7: the field built on x^8 + x^4 + x^3 + x^2 + 1,
// with alpha = 2 as generator. Tables are computed once at module load.

/** OCT_EXP[i] = alpha^i, doubled in length so sums of two logs need no reduction. */
export const OCT_EXP = new Uint8Array(510);
/** OCT_LOG[x] = i such that alpha^i = x, for x in 1..255. */
export const OCT_LOG = new Uint8Array(256);
/** MUL_TABLE[a * 256 + b] = a * b: one lookup per byte in the symbol kernels. */
export const MUL_TABLE = new Uint8Array(65536);

(function buildTables(): void {
  let x = 1;
  for (let i = 0; i < 255; i++) {
    OCT_EXP[i] = x;
    OCT_EXP[i + 255] = x;
    OCT_LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let a = 1; a < 256; a++) {
    const la = OCT_LOG[a]!;
    for (let b = 1; b < 256; b++) MUL_TABLE[a * 256 + b] = OCT_EXP[la + OCT_LOG[b]!]!;
  }
})();

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return OCT_EXP[OCT_LOG[a]! + OCT_LOG[b]!]!;
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('zero has no inverse in GF(256)');
  return OCT_EXP[255 - OCT_LOG[a]!]!;
}

/** alpha^i for any i >= 0. */
export function gfAlphaPow(i: number): number {
  return OCT_EXP[i % 255]!;
}
