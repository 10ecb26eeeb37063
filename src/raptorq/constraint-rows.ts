// The sparse binary rows of the constraint matrix A (RFC 6330 section 5.3.3.3): S LDPC rows,
// then H placeholder rows for the HDPC part (dense, handled through its MT x GAMMA structure
// in the solver), then one LT row per internal symbol id. Stored as compressed sparse rows.
//
// The LDPC rows and the LT rows of ISIs 0..K'-1 depend only on K', and a decoder mostly
// receives source symbols, so those rows are built once per K' and kept in a small cache.

import { allocInt32 } from './arena.js';
import type { BlockParams } from './params.js';
import { ltColumns } from './tuple.js';

export interface SparseRows {
  /** Number of rows (S + H + number of LT rows). */
  readonly rowCount: number;
  /** rowStart[r] .. rowStart[r + 1] indexes the columns of row r in `cols`. */
  readonly rowStart: Int32Array;
  readonly cols: Int32Array;
}

/** Rows that depend only on K': the S LDPC rows, then the LT rows of ISIs 0..K'-1. */
interface FixedRows {
  /** S + K' + 1 offsets into cols. */
  readonly start: Int32Array;
  readonly cols: Int32Array;
}

const FIXED_CACHE_LIMIT = 16;
const fixedCache = new Map<number, FixedRows>();

function buildFixedRows(params: BlockParams): FixedRows {
  const { kPrime, s, b, w, p } = params;
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
  const start = new Int32Array(s + kPrime + 1);
  let nnz = 0;
  for (let r = 0; r < s; r++) {
    start[r] = nnz;
    nnz += ldpcCount[r]! + 3;
  }
  // A row has at most W + 3 entries, in practice d + d1 <= 33 and about 7 on average.
  let lt = new Int32Array(kPrime * 12 + w + 3);
  let ltAt = 0;
  for (let isi = 0; isi < kPrime; isi++) {
    start[s + isi] = nnz + ltAt;
    if (lt.length - ltAt < w + 3) {
      const grown = new Int32Array(lt.length * 2);
      grown.set(lt.subarray(0, ltAt));
      lt = grown;
    }
    ltAt += ltColumns(params, isi, lt.subarray(ltAt));
  }
  start[s + kPrime] = nnz + ltAt;

  const cols = new Int32Array(nnz + ltAt);
  const fill = new Int32Array(s);
  for (let i = 0; i < b; i++) {
    const a = 1 + Math.floor(i / s);
    let r = i % s;
    cols[start[r]! + fill[r]!++] = i;
    r = (r + a) % s;
    cols[start[r]! + fill[r]!++] = i;
    r = (r + a) % s;
    cols[start[r]! + fill[r]!++] = i;
  }
  for (let r = 0; r < s; r++) {
    let at = start[r]! + fill[r]!;
    cols[at++] = b + r;
    cols[at++] = w + (r % p);
    cols[at++] = w + ((r + 1) % p);
  }
  cols.set(lt.subarray(0, ltAt), nnz);
  return { start, cols };
}

function fixedRows(params: BlockParams): FixedRows {
  let rows = fixedCache.get(params.kPrime);
  if (rows) {
    fixedCache.delete(params.kPrime);
  } else {
    rows = buildFixedRows(params);
    if (fixedCache.size >= FIXED_CACHE_LIMIT) fixedCache.delete(fixedCache.keys().next().value as number);
  }
  fixedCache.set(params.kPrime, rows);
  return rows;
}

/** Builds LDPC rows, empty HDPC rows and the LT rows of `isis` (in that row order). */
export function buildConstraintRows(params: BlockParams, isis: ArrayLike<number>): SparseRows {
  const { kPrime, s, h, w } = params;
  const fixed = fixedRows(params);
  const rowCount = s + h + isis.length;
  const rowStart = allocInt32(rowCount + 1);

  const ldpcEnd = fixed.start[s]!;
  let cols = allocInt32(ldpcEnd + isis.length * 12 + 64);
  cols.set(fixed.cols.subarray(0, ldpcEnd));
  rowStart.set(fixed.start.subarray(0, s));
  let nnz = ldpcEnd;
  for (let r = s; r < s + h; r++) rowStart[r] = nnz;
  for (let t = 0; t < isis.length; t++) {
    rowStart[s + h + t] = nnz;
    const isi = isis[t]!;
    const from = isi < kPrime ? fixed.start[s + isi]! : 0;
    const length = isi < kPrime ? fixed.start[s + isi + 1]! - from : w + 3;
    if (cols.length - nnz < length) {
      const grown = allocInt32(Math.max(cols.length * 2, nnz + length));
      grown.set(cols.subarray(0, nnz));
      cols = grown;
    }
    if (isi < kPrime) {
      // A plain loop: rows are about 7 entries, too short for a subarray view and set() each.
      const src = fixed.cols;
      for (let e = from, end = from + length; e < end; e++) cols[nnz++] = src[e]!;
    } else {
      nnz += ltColumns(params, isi, cols.subarray(nnz));
    }
  }
  rowStart[rowCount] = nnz;
  return { rowCount, rowStart, cols: cols.subarray(0, nnz) };
}
