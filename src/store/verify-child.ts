// Child process of `verifyStoreFiles`: walks every tree of the store at argv[2] through LMDB,
// read-only, and prints one JSON line. Damage that would fault LMDB ends this process, not the
// daemon; damage that LMDB silently skips shows as counts that disagree with the usage record.
import { open } from 'lmdb';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeLocation } from './segments.js';

const dir = process.argv[2]!;
try {
  const root = open({ path: dir, noSubdir: false, readOnly: true, maxDbs: 12, compression: false });
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
    let badLocations = 0;
    const segmentSizes = new Map<number, number>();
    const sizeOf = (seg: number): number => {
      let size = segmentSizes.get(seg);
      if (size === undefined) {
        size = statSync(join(dir, 'segments', `${String(seg).padStart(8, '0')}.seg`), { throwIfNoEntry: false })?.size ?? -1;
        segmentSizes.set(seg, size);
      }
      return size;
    };
    for (const { key, value } of symbols.getRange({})) {
      count++;
      const loc = decodeLocation(value);
      bytes += loc ? loc.len : value.length;
      if (key.length !== 36 || value.length === 0) badKeys++;
      // A location must lie inside its segment file (a missing file has size -1).
      if (loc && loc.off + loc.len > sizeOf(loc.seg)) badLocations++;
    }
    let manifestCount = 0;
    for (const { key } of manifests.getRange({})) {
      manifestCount++;
      if (key.length !== 32) badKeys++;
    }
    let orphanCount = 0;
    for (const _ of orphans.getKeys({})) orphanCount++;
    const usage = meta.get('usage') ?? [0, 0];
    return { symbols: count, bytes, manifests: manifestCount, orphans: orphanCount, badKeys, badLocations, usage };
  })();
  process.stdout.write(JSON.stringify({ ok: true, ...report }) + '\n');
} catch (err) {
  const e = err as { code?: unknown; message?: string };
  process.stdout.write(JSON.stringify({ ok: false, code: typeof e.code === 'number' ? e.code : null, message: e.message ?? String(err) }) + '\n');
}
