// Child process of `verifyStoreFiles`: walks every tree of the store at argv[2] through LMDB,
// read-only, and prints one JSON line. Damage that would fault LMDB ends this process, not the
// daemon; damage that LMDB silently skips shows as counts that disagree with the usage record.
import { open } from 'lmdb';

const dir = process.argv[2]!;
try {
  const root = open({ path: dir, noSubdir: false, readOnly: true, maxDbs: 8, compression: false });
  const symbols = root.openDB<Uint8Array, Uint8Array>('symbols', { encoding: 'binary', keyEncoding: 'binary', compression: false });
  const manifests = root.openDB<Uint8Array, Uint8Array>('manifests', { encoding: 'binary', keyEncoding: 'binary', compression: false });
  const meta = root.openDB<[number, number], string>('meta', { encoding: 'msgpack' });
  const orphans = root.openDB<number, Uint8Array>('orphans', { encoding: 'msgpack', keyEncoding: 'binary' });
  // One synchronous pass: lmdb-js keeps one read transaction for it, so every count comes from
  // the same snapshot as the usage record.
  const report = (() => {
    let count = 0;
    let bytes = 0;
    let badKeys = 0;
    for (const { key, value } of symbols.getRange({})) {
      count++;
      bytes += value.length;
      if (key.length !== 36 || value.length === 0) badKeys++;
    }
    let manifestCount = 0;
    for (const { key } of manifests.getRange({})) {
      manifestCount++;
      if (key.length !== 32) badKeys++;
    }
    let orphanCount = 0;
    for (const _ of orphans.getKeys({})) orphanCount++;
    const usage = meta.get('usage') ?? [0, 0];
    return { symbols: count, bytes, manifests: manifestCount, orphans: orphanCount, badKeys, usage };
  })();
  process.stdout.write(JSON.stringify({ ok: true, ...report }) + '\n');
} catch (err) {
  const e = err as { code?: unknown; message?: string };
  process.stdout.write(JSON.stringify({ ok: false, code: typeof e.code === 'number' ? e.code : null, message: e.message ?? String(err) }) + '\n');
}
