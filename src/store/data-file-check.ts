// Checks an LMDB data file's meta pages and tree roots with plain reads before LMDB maps it.
// LMDB trusts these fields: a truncated file makes it touch pages past the end of the file
// (SIGBUS) and a garbage one makes it follow wild pointers (SIGSEGV), killing the process
// before any error can be thrown. Layout (lmdb-js 3.x, 64-bit, little-endian):
//   page header (24 bytes): pgno u64 | txnid u64 | pad u16 | flags u16 | lower u16 | upper u16
//   meta (after a header):  magic u32 | version u32 | address u64 | mapsize u64 |
//                           dbs[free] (48) | dbs[main] (48) | last_pg u64 | txnid u64 | boot_id
//   db record (48 bytes):   pad u32 (page size, in dbs[free]) | flags u16 | depth u16 |
//                           branch, leaf, overflow, entries u64 | root u64
// Meta slots sit at offsets 0, psize/2 (the flushed snapshot of overlapping sync, written
// without magic and version) and psize. LMDB checks magic and version on the first one only.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MAGIC = 0xbeefc0de;
const DATA_VERSION = 2;
const PAGE_HEADER = 24;
const META_BYTES = 144;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_META = 0x08;
const NO_ROOT = 0xffffffffffffffffn;
const MAX_DEPTH = 64;

export type DataFileVerdict = { ok: true } | { ok: false; reason: string };

interface Meta {
  slot: number;
  psize: number;
  lastPg: bigint;
  txnid: bigint;
  roots: bigint[];
  depths: number[];
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  return n === length ? buf : buf.subarray(0, n);
}

const hasMagic = (page: Buffer) =>
  page.readUInt32LE(PAGE_HEADER) === MAGIC && (page.readUInt32LE(PAGE_HEADER + 4) & 0xffff) === DATA_VERSION;

function parseMeta(page: Buffer, slot: number): Meta {
  const m = PAGE_HEADER;
  return {
    slot,
    psize: page.readUInt32LE(m + 24),
    lastPg: page.readBigUInt64LE(m + 120),
    txnid: page.readBigUInt64LE(m + 128),
    roots: [page.readBigUInt64LE(m + 64), page.readBigUInt64LE(m + 112)],
    depths: [page.readUInt16LE(m + 30), page.readUInt16LE(m + 78)],
  };
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Verdict on `file` (a missing or empty file is fine: LMDB initialises it). */
export function checkDataFile(file: string): DataFileVerdict {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true };
    return { ok: false, reason: `cannot read ${file}: ${(err as Error).message}` };
  }
  try {
    return checkOpen(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

function checkOpen(fd: number, size: number): DataFileVerdict {
  if (size === 0) return { ok: true };
  const first = readAt(fd, 0, PAGE_HEADER + META_BYTES);
  if (first.length < PAGE_HEADER + META_BYTES) return { ok: false, reason: `file is ${size} bytes, shorter than one LMDB meta page` };
  if (!(first.readUInt16LE(18) & P_META)) return { ok: false, reason: 'page 0 is not an LMDB meta page (not an LMDB file, or overwritten)' };
  if (!hasMagic(first)) return { ok: false, reason: 'page 0 has no valid LMDB magic and version' };
  const meta0 = parseMeta(first, 0);
  const psize = meta0.psize;
  if (!isPowerOfTwo(psize) || psize < 512 || psize > 65536) return { ok: false, reason: `meta page records an impossible page size ${psize}` };
  if (size < 2 * psize) return { ok: false, reason: `file is ${size} bytes, shorter than its two meta pages of ${psize} bytes (truncated)` };
  const metas: Meta[] = [meta0];
  for (const slot of [psize / 2, psize]) {
    const page = readAt(fd, slot, PAGE_HEADER + META_BYTES);
    if (page.length < PAGE_HEADER + META_BYTES) return { ok: false, reason: `file is truncated inside the meta slot at offset ${slot}` };
    // A slot never written holds zeros (txnid 0): LMDB ignores it, so do we.
    if (page.readBigUInt64LE(PAGE_HEADER + 128) === 0n) continue;
    if (page.readUInt32LE(PAGE_HEADER) !== 0 && !hasMagic(page)) return { ok: false, reason: `meta slot at offset ${slot} is damaged (wrong magic)` };
    metas.push(parseMeta(page, slot));
  }
  for (const meta of metas) {
    const bad = checkMeta(fd, size, psize, meta);
    if (bad) return { ok: false, reason: bad };
  }
  return { ok: true };
}

function checkMeta(fd: number, size: number, psize: number, meta: Meta): string | null {
  const where = `meta at offset ${meta.slot}`;
  if (meta.psize !== psize) return `${where} records page size ${meta.psize}, the first meta ${psize}`;
  if (meta.lastPg < 1n) return `${where} records an impossible last page ${meta.lastPg}`;
  const needed = (meta.lastPg + 1n) * BigInt(psize);
  if (needed > BigInt(size)) return `file is truncated: ${where} uses ${needed} bytes (${meta.lastPg + 1n} pages), the file has ${size}`;
  for (let i = 0; i < meta.roots.length; i++) {
    const root = meta.roots[i]!;
    if (root === NO_ROOT) continue;
    if (root < 2n || root > meta.lastPg) return `${where}: tree root page ${root} lies outside pages 2..${meta.lastPg}`;
    if (meta.depths[i]! > MAX_DEPTH) return `${where}: tree depth ${meta.depths[i]} is impossible`;
    const header = readAt(fd, Number(root) * psize, PAGE_HEADER);
    if (header.length < PAGE_HEADER) return `${where}: tree root page ${root} cannot be read`;
    if (header.readBigUInt64LE(0) !== root) return `${where}: tree root page ${root} records page number ${header.readBigUInt64LE(0)}`;
    if (!(header.readUInt16LE(18) & (P_BRANCH | P_LEAF))) return `${where}: tree root page ${root} is neither a branch nor a leaf page`;
  }
  return null;
}
