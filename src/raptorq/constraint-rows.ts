// The sparse binary rows of the constraint matrix A (RFC 6330 section 5.3.3.3): S LDPC rows,
// then H placeholder rows for the HDPC part (dense, handled through its MT x GAMMA structure
// in the solver), then one LT row per internal symbol id. Stored as compressed sparse rows.

import type { BlockParams } from './params.js';
import { ltColumns } from './tuple.js';

export interface SparseRows {
  /** Number of rows (S + H + number of LT rows). */
  readonly rowCount: number;
  /** rowStart[r] .. rowStart[r + 1] indexes the columns of row r in `cols`. */
  readonly rowStart: Int32Array;
  readonly cols: Int32Array;
}

/** Builds LDPC rows, empty HDPC rows and the LT rows of `isis` (in that row order). */
export function buildConstraintRows(params: BlockParams, isis: ArrayLike<number>): SparseRows {
  const { s, h, b, w, p } = params;
  const rowCount = s + h + isis.length;
  const rowStart = new Int32Array(rowCount + 1);

  // LDPC: each of the B first columns hits 3 rows; each row adds its identity and 2 PI columns.
  const ldpcCount = new Int32Array(s);
  for (let i = 0; i < b; i++) {
    const a = 1 + Math.floor(i / s);
    let r = i % s;
    ldpcCount[r]!++;
    r = (r + a) % s;
    ldpcCount[r]!++;
    r = (r + a) % s;
    ldpcCount[r]!++;
  }
  let nnz = 0;
  for (let r = 0; r < s; r++) {
    rowStart[r] = nnz;
    nnz += ldpcCount[r]! + 3;
  }
  for (let r = s; r < s + h; r++) rowStart[r] = nnz;
  // LT rows are written straight into the column array; a row has at most W + 3 entries but
  // in practice d + d1 <= 33, so grow only if a row would not fit.
  let cols = new Int32Array(nnz + isis.length * 12 + 64);
  for (let t = 0; t < isis.length; t++) {
    rowStart[s + h + t] = nnz;
    if (cols.length - nnz < w + 3) {
      const grown = new Int32Array(Math.max(cols.length * 2, nnz + w + 3));
      grown.set(cols.subarray(0, nnz));
      cols = grown;
    }
    nnz += ltColumns(params, isis[t]!, cols.subarray(nnz));
  }
  rowStart[rowCount] = nnz;

  const fill = new Int32Array(s);
  for (let i = 0; i < b; i++) {
    const a = 1 + Math.floor(i / s);
    let r = i % s;
    cols[rowStart[r]! + fill[r]!++] = i;
    r = (r + a) % s;
    cols[rowStart[r]! + fill[r]!++] = i;
    r = (r + a) % s;
    cols[rowStart[r]! + fill[r]!++] = i;
  }
  for (let r = 0; r < s; r++) {
    let at = rowStart[r]! + fill[r]!;
    cols[at++] = b + r;
    cols[at++] = w + (r % p);
    cols[at++] = w + ((r + 1) % p);
  }
  return { rowCount, rowStart, cols: cols.subarray(0, nnz) };
}
