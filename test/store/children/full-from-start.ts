// Child process: a disk that is already full when the store opens. The existing store opens,
// refuses writes with STORE_FULL, serves reads and closes (close used to wait forever after a
// failed commit); a new store is refused with STORE_FULL (LMDB used to fault creating it).
// Prints its findings as one JSON line.   argv: <directory on a small filesystem>
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbSymbolStore, StoreError } from '../../../src/store/index.js';

const [root] = process.argv.slice(2) as [string];
const id = new Uint8Array(32).fill(4);
const describe = (err: unknown) => (err instanceof StoreError ? { code: err.code, path: err.path } : { code: null, path: String(err) });

let store = await LmdbSymbolStore.open(join(root, 'store'));
await store.putSymbols(id, [{ sbn: 0, esi: 0, env: new Uint8Array(100).fill(4) }]);
await store.close();

// Fill the filesystem to the last byte (bounded: the filesystem is a few MiB).
const fd = openSync(join(root, 'filler'), 'w');
let filled = false;
for (const size of [1 << 16, 1]) {
  const chunk = Buffer.alloc(size, 1);
  try {
    for (let i = 0; i < 1 << 20; i++) writeSync(fd, chunk);
  } catch (err) {
    filled = (err as NodeJS.ErrnoException).code === 'ENOSPC';
  }
}
closeSync(fd);

store = await LmdbSymbolStore.open(join(root, 'store'));
let put: ReturnType<typeof describe> | 'ok' = 'ok';
try {
  await store.putSymbols(new Uint8Array(32).fill(5), Array.from({ length: 20 }, (_, esi) => ({ sbn: 0, esi, env: new Uint8Array(1300).fill(5) })));
} catch (err) {
  put = describe(err);
}
const read = (await store.getSymbols(id)).length;
const state = store.health().state;
await store.close();
let created: ReturnType<typeof describe> | 'ok' = 'ok';
try {
  await (await LmdbSymbolStore.open(join(root, 'new'))).close();
} catch (err) {
  created = describe(err);
}
process.stdout.write(JSON.stringify({ filled, put, read, state, closed: true, created }) + '\n');
