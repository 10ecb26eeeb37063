// Child process: opens a store whose files the parent damaged and reports, as one JSON line,
// what the store did. A crash (SIGBUS, SIGSEGV) here fails the parent's test instead of
// ending the test run.
//   argv: <store dir> <objects the parent stored>
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbSymbolStore, StoreError } from '../../../src/store/index.js';
import { objectIdOf } from './ids.js';

const [dir, countArg] = process.argv.slice(2) as [string, string];
const count = Number(countArg);
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
const describe = (err: unknown) =>
  err instanceof StoreError ? { code: err.code, path: err.path, message: err.message } : { code: null, path: null, message: String(err) };

const store = await LmdbSymbolStore.open(dir);
const atOpen = store.health();
let readError: ReturnType<typeof describe> | null = null;
let readable = 0;
for (let i = 0; i < count; i++) {
  try {
    if ((await store.getSymbols(objectIdOf(i))).length > 0) readable++;
  } catch (err) {
    readError = describe(err);
    break;
  }
}
const afterRead = store.health();
let writeError: ReturnType<typeof describe> | null = null;
let fresh = null;
if (readError) {
  try {
    await store.putSymbols(objectIdOf(9999), [{ sbn: 0, esi: 0, env: new Uint8Array(64).fill(1) }]);
  } catch (err) {
    writeError = describe(err);
  }
  fresh = await store.startFresh(readError.message);
}
const probe = objectIdOf(10_000);
await store.putSymbols(probe, [{ sbn: 0, esi: 3, env: new Uint8Array(80).fill(7) }]);
const probeBack = (await store.getSymbols(probe)).map((e) => [e.sbn, e.esi, e.env.length]);
const final = store.health();
const usage = store.usage();
await store.close();
const again = await LmdbSymbolStore.open(dir);
const reopened = { startedFresh: again.health().startedFresh, usage: again.usage() };
await again.close();
process.stdout.write(
  JSON.stringify({
    atOpen,
    readable,
    readError,
    afterRead: { state: afterRead.state, detail: afterRead.detail },
    writeError,
    fresh,
    probeBack,
    final,
    usage,
    reopened,
    modes: { dir: mode(dir), data: mode(join(dir, 'data.mdb')), lock: mode(join(dir, 'lock.mdb')) },
  }) + '\n',
);
