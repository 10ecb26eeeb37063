// Turns what lmdb-js throws into typed store errors.
//
// A failed commit rejects every write of the transaction with a generic "Commit failed" error
// whose `commitError` is a second promise carrying the real cause; nothing in lmdb-js awaits
// that promise, so left alone its rejection is unhandled and ends the process.
import { readFileSync, statfsSync, statSync } from 'node:fs';
import { StoreError } from './errors.js';

// MDB_* return codes that mean the files are damaged (lmdb.h).
const CORRUPTION_CODES = new Map<number, string>([
  [-30797, 'MDB_PAGE_NOTFOUND'],
  [-30796, 'MDB_CORRUPTED'],
  [-30795, 'MDB_PANIC'],
  [-30794, 'MDB_VERSION_MISMATCH'],
  [-30793, 'MDB_INVALID'],
  [-30787, 'MDB_CURSOR_FULL'],
  [-30786, 'MDB_PAGE_FULL'],
  [-30782, 'MDB_BAD_TXN'],
  [-30781, 'MDB_BAD_VALSIZE'],
]);
const MDB_MAP_FULL = -30792;
// errno values (Linux) that mean "no room": ENOSPC, EDQUOT, EFBIG.
const FULL_ERRNOS = new Set([28, 122, 27]);
const FULL_NAMES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);
const EIO = 5;
// Below this much free space an EIO from a short write is taken as "disk full".
const LOW_SPACE_BYTES = 1 << 20;

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** The MDB name of a corruption error, or null when `err` is not one. */
export function corruptionName(err: unknown): string | null {
  const code = codeOf(err);
  return typeof code === 'number' ? (CORRUPTION_CODES.get(code) ?? null) : null;
}

export function corruptError(file: string, err: unknown): StoreError {
  const name = corruptionName(err) ?? 'unreadable';
  return new StoreError(
    'STORE_CORRUPT',
    `the store file ${file} is damaged (${name}: ${(err as Error).message}); move it aside with startFresh and let repair refill it`,
    { path: file, cause: err },
  );
}

/**
 * The real cause of a failed lmdb-js commit, after marking its `commitError` handled.
 * The inner promise is rejected in the same native callback as the outer error, so one turn
 * of the event loop is enough for it to have settled.
 */
export async function commitCause(err: unknown): Promise<unknown> {
  const inner = typeof err === 'object' && err !== null ? (err as { commitError?: unknown }).commitError : undefined;
  if (!(inner instanceof Promise)) return err;
  let cause: unknown = err;
  inner.then(undefined, (e: unknown) => {
    cause = e;
  });
  await new Promise<void>((resolve) => setImmediate(resolve));
  return cause;
}

/** The soft RLIMIT_FSIZE of this process in bytes, or null if unlimited or unknown. */
function fileSizeLimit(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max file size'));
    const soft = line?.slice('Max file size'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

function looksFull(dataFile: string, dir: string, batchBytes: number): string | null {
  try {
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    if (free < Math.max(LOW_SPACE_BYTES, 2 * batchBytes)) return `${free} bytes free on the filesystem of ${dir}`;
  } catch {
    // no statfs: fall through to the file size limit
  }
  const limit = fileSizeLimit();
  if (limit !== null) {
    let size = 0;
    try {
      size = statSync(dataFile).size;
    } catch {
      // missing file: size 0
    }
    if (size + batchBytes >= limit) return `${dataFile} reached the process file size limit of ${limit} bytes`;
  }
  return null;
}

/** A typed error for a failed write of about `batchBytes` into the store at `dir`. */
export async function writeError(err: unknown, dir: string, dataFile: string, batchBytes: number): Promise<StoreError> {
  if (err instanceof StoreError) return err;
  const cause = await commitCause(err);
  if (corruptionName(cause) || corruptionName(err)) return corruptError(dataFile, corruptionName(cause) ? cause : err);
  const code = codeOf(cause);
  const why = (cause as Error)?.message ?? String(cause);
  if (code === MDB_MAP_FULL || (typeof code === 'number' && FULL_ERRNOS.has(code)) || (typeof code === 'string' && FULL_NAMES.has(code))) {
    return new StoreError('STORE_FULL', `the disk holding ${dir} is full (${why}); nothing of this write was stored, reads still work`, { path: dir, cause });
  }
  // LMDB reports a short write (what a full disk gives) as a bare EIO: tell it apart by looking.
  const full = code === EIO || code === undefined ? looksFull(dataFile, dir, batchBytes) : null;
  if (full) {
    return new StoreError('STORE_FULL', `the disk holding ${dir} is full (${full}; ${why}); nothing of this write was stored, reads still work`, { path: dir, cause });
  }
  return new StoreError('STORE_IO', `writing to ${dir} failed (${why}); nothing of this write was stored`, { path: dir, cause });
}
