// Ways to damage an LMDB data file the way disks and people do, for the corruption tests.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const PAGE_HEADER = 24;
const P_BRANCH = 0x01;

/** The page size an LMDB data file records in its first meta page. */
function pageSizeOf(fd: number): number {
  const b = Buffer.alloc(4);
  readSync(fd, b, 0, 4, 48);
  return b.readUInt32LE(0);
}

/** Cuts the file to `fraction` of its size (a copy or a disk that lost the tail). */
export function truncate(file: string, fraction: number): number {
  const fd = openSync(file, 'r+');
  try {
    const size = Math.floor(fstatSync(fd).size * fraction);
    ftruncateSync(fd, size);
    return size;
  } finally {
    closeSync(fd);
  }
}

/** Overwrites the whole file with random bytes (same length). */
export function garbage(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    const size = fstatSync(fd).size;
    for (let off = 0; off < size; off += 1 << 16) writeSync(fd, randomBytes(Math.min(1 << 16, size - off)), 0, Math.min(1 << 16, size - off), off);
  } finally {
    closeSync(fd);
  }
}

/**
 * Flips the child pointers of every branch page to a page past the end of the file, as bit
 * rot in the tree would; the meta pages stay intact, so the file passes its header check and
 * the damage shows only when a read walks the tree. Returns how many pages were changed.
 */
export function breakBranchPages(file: string): number {
  const fd = openSync(file, 'r+');
  try {
    const psize = pageSizeOf(fd);
    const pages = Math.floor(fstatSync(fd).size / psize);
    const far = pages + 1000;
    let changed = 0;
    const page = Buffer.alloc(psize);
    for (let p = 2; p < pages; p++) {
      readSync(fd, page, 0, psize, p * psize);
      if (Number(page.readBigUInt64LE(0)) !== p || page.readUInt16LE(18) !== P_BRANCH) continue;
      const keys = page.readUInt16LE(20) >> 1;
      for (let i = 0; i < keys; i++) {
        const node = page.readUInt16LE(PAGE_HEADER + 2 * i) + PAGE_HEADER;
        // Branch node: pgno = lo | hi << 16 | flags << 32.
        page.writeUInt16LE(far & 0xffff, node);
        page.writeUInt16LE(far >>> 16, node + 2);
        page.writeUInt16LE(0, node + 4);
      }
      writeSync(fd, page, 0, psize, p * psize);
      changed++;
    }
    return changed;
  } finally {
    closeSync(fd);
  }
}

/**
 * Gives every node of the first `pages` leaf pages a data size far past the end of the file,
 * the damage that makes LMDB read outside its map (a fault, not an error). Returns the count.
 */
export function oversizeLeafValues(file: string, pages: number): number {
  const fd = openSync(file, 'r+');
  try {
    const psize = pageSizeOf(fd);
    const total = Math.floor(fstatSync(fd).size / psize);
    let changed = 0;
    const page = Buffer.alloc(psize);
    for (let p = 2; p < total && changed < pages; p++) {
      readSync(fd, page, 0, psize, p * psize);
      if (Number(page.readBigUInt64LE(0)) !== p || page.readUInt16LE(18) !== 0x02) continue;
      const keys = page.readUInt16LE(20) >> 1;
      for (let i = 0; i < keys; i++) {
        const node = page.readUInt16LE(PAGE_HEADER + 2 * i) + PAGE_HEADER;
        // Leaf node: data size = lo | hi << 16.
        page.writeUInt16LE(0xfff0, node);
        page.writeUInt16LE(0x7ff0, node + 2);
      }
      writeSync(fd, page, 0, psize, p * psize);
      changed++;
    }
    return changed;
  } finally {
    closeSync(fd);
  }
}
