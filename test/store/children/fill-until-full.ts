// Child process: fills a store until the disk refuses a batch, then checks what the store
// promises (typed error, nothing half-written, reads still served, writes work once space is
// back) and prints the findings as one JSON line. Run in a child because on failure a store
// may take the process down (as lmdb-js's unhandled commit rejection used to).
//   argv: <store dir> <space back: "filler:<path>" (remove it, retry here) | "later" (the
//         parent retries in a process without the limit)> [envelope bytes, default 1300]
import { rmSync, writeFileSync } from 'node:fs';
import { LmdbSymbolStore, StoreError } from '../../../src/store/index.js';
import { fillBatch, fillObjectId as idOf } from './ids.js';

const [dir, spaceBack, sizeArg] = process.argv.slice(2) as [string, string, string | undefined];
const size = sizeArg ? Number(sizeArg) : 1300;
const SYMBOLS = 20;
const batchOf = (i: number) => fillBatch(i, size);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

if (spaceBack.startsWith('filler:')) writeFileSync(spaceBack.slice(7), Buffer.alloc(1 << 20, 1));
const store = await LmdbSymbolStore.open(dir);
const stored: number[] = [];
let failure: { name: string; code: string | null; message: string; path: string | null } | null = null;
let failed = -1;
const started = Date.now();
for (let i = 0; i < 3000 && Date.now() - started < 30_000; i++) {
  try {
    await store.putSymbols(idOf(i), batchOf(i));
    stored.push(i);
  } catch (err) {
    const e = err as Error;
    failure = { name: e.name, code: err instanceof StoreError ? err.code : null, message: e.message, path: err instanceof StoreError ? err.path : null };
    failed = i;
    break;
  }
}
const usageAtFailure = store.usage();
const healthAtFailure = store.health();
const failedHeld = failed >= 0 ? store.symbolKeys(idOf(failed)).length : -1;
let unreadable = 0;
for (const i of stored) {
  const got = await store.getSymbols(idOf(i));
  const want = batchOf(i);
  if (got.length !== SYMBOLS || got.some((e, k) => !same(e.env, want[k]!.env))) unreadable++;
}
// Give space back: remove the filler file and retry here; under a file size limit the
// parent retries once this process (and its limit) is gone.
let retry = 'later';
if (spaceBack.startsWith('filler:')) {
  rmSync(spaceBack.slice(7));
  try {
    await store.putSymbols(idOf(failed), batchOf(failed));
    retry = 'ok';
  } catch (err) {
    retry = `${(err as StoreError).code ?? ''} ${(err as Error).message}`;
  }
}
const healthAfter = store.health().state;
await store.close();
const reopened = await LmdbSymbolStore.open(dir);
const usageAfterReopen = reopened.usage();
const failedHeldAfter = failed >= 0 ? reopened.symbolKeys(idOf(failed)).length : -1;
await reopened.close();
process.stdout.write(
  JSON.stringify({
    stored: stored.length,
    failure,
    usageAtFailure,
    healthAtFailure: { state: healthAtFailure.state, detail: healthAtFailure.detail },
    failedHeld,
    unreadable,
    failed,
    retry,
    healthAfter,
    usageAfterReopen,
    failedHeldAfter,
  }) + '\n',
);
