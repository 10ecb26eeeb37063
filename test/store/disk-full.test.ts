// A full disk fails the batch, not the process: real full filesystems, in child processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LmdbSymbolStore } from '../../src/store/index.js';
import { fillBatch, fillObjectId } from './children/ids.js';

const child = fileURLToPath(new URL('./children/fill-until-full.js', import.meta.url));
const fullFromStart = fileURLToPath(new URL('./children/full-from-start.js', import.meta.url));

interface Findings {
  stored: number;
  failure: { name: string; code: string | null; message: string; path: string | null } | null;
  usageAtFailure: { symbols: number; bytes: number; quotaBytes: null };
  healthAtFailure: { state: string; detail: string | null };
  failedHeld: number;
  unreadable: number;
  failed: number;
  retry: string;
  healthAfter: string;
  usageAfterReopen: { symbols: number; bytes: number; quotaBytes: null };
  failedHeldAfter: number;
}

function lastJson<T>(r: ReturnType<typeof spawnSync>): T {
  assert.equal(r.signal, null, `the child was killed by ${r.signal}; stderr: ${String(r.stderr).slice(-2000)}`);
  assert.equal(r.status, 0, `the child failed (status ${r.status}); stderr: ${String(r.stderr).slice(-2000)}`);
  return JSON.parse(String(r.stdout).trim().split('\n').pop()!) as T;
}

function parse(r: ReturnType<typeof spawnSync>): Findings {
  const out = String(r.stdout);
  assert.equal(r.signal, null, `the child was killed by ${r.signal}; stderr: ${String(r.stderr).slice(-2000)}`);
  assert.equal(r.status, 0, `the child failed (status ${r.status}); stderr: ${String(r.stderr).slice(-2000)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as Findings;
}

function assertSurvived(f: Findings, dir: string, size: number): void {
  assert.ok(f.stored > 5, `some batches fit before the disk filled (${f.stored})`);
  assert.ok(f.failure, 'the disk filled up within the bounded loop');
  assert.equal(f.failure.name, 'StoreError', f.failure.message);
  assert.equal(f.failure.code, 'STORE_FULL', f.failure.message);
  assert.equal(f.failure.path, dir);
  assert.equal(f.healthAtFailure.state, 'full');
  assert.match(f.healthAtFailure.detail ?? '', /full/);
  assert.deepEqual(f.usageAtFailure, { symbols: f.stored * 20, bytes: f.stored * 20 * size, quotaBytes: null }, 'the counters hold only whole batches');
  assert.equal(f.failedHeld, 0, 'nothing of the refused batch was written');
  assert.equal(f.unreadable, 0, 'every acknowledged batch still reads back byte for byte');
  if (f.retry === 'later') return;
  assert.equal(f.retry, 'ok', 'the refused batch is accepted once space is back');
  assert.equal(f.healthAfter, 'ok');
  assert.deepEqual(f.usageAfterReopen, { symbols: (f.stored + 1) * 20, bytes: (f.stored + 1) * 20 * size, quotaBytes: null });
  assert.equal(f.failedHeldAfter, 20);
}

/** Runs `node script args...` with a fresh tmpfs of `size` mounted at `mnt` ("$1" in args). */
function inTmpfs(mnt: string, size: string, script: string, args: string[], timeout: number): ReturnType<typeof spawnSync> {
  const quoted = args.map((_, i) => `"$${i + 4}"`).join(' ');
  return spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', `mount -t tmpfs -o size=${size} tmpfs "$1" && exec "$2" "$3" ${quoted}`, 'sh', mnt, process.execPath, script, ...args], {
    encoding: 'utf8',
    timeout,
  });
}

function userNamespaces(): string | null {
  const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? null : `unshare --user --mount is not available here (${r.error?.message ?? r.stderr.trim()})`;
}

// 1300-byte envelopes are kept in LMDB, 8168-byte ones in segment files: both ways of writing.
for (const size of [1300, 8168]) {
  test(`ENOSPC on a real 4 MiB tmpfs (${size}-byte envelopes): STORE_FULL, nothing half-written, reads served, writes resume when space is back`, (t) => {
    // A tmpfs can be mounted without root inside a user and mount namespace; where the kernel
    // or its policy forbids those, this case cannot be built and the file-size-limit case below
    // still covers the same code path.
    const why = userNamespaces();
    if (why) {
      t.skip(why);
      return;
    }
    const mnt = mkdtempSync(join(tmpdir(), 'fcp-full-'));
    try {
      const r = inTmpfs(mnt, '4m', child, [join(mnt, 'store'), `filler:${join(mnt, 'filler')}`, String(size)], 90_000);
      assertSurvived(parse(r), join(mnt, 'store'), size);
    } finally {
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  test(`a file size limit (RLIMIT_FSIZE, short writes; ${size}-byte envelopes) is STORE_FULL too; the batch is taken once the limit is gone`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcp-fsize-'));
    try {
      // ulimit -f counts 1 KiB blocks: data.mdb (or a segment file) may not grow past 2 MiB.
      const r = spawnSync('sh', ['-c', 'ulimit -f 2048 && exec "$1" "$2" "$3/store" later "$4"', 'sh', process.execPath, child, dir, String(size)], {
        encoding: 'utf8',
        timeout: 90_000,
      });
      const f = parse(r);
      assertSurvived(f, join(dir, 'store'), size);
      assert.equal(f.retry, 'later');
      assert.equal(f.failedHeldAfter, 0, 'still nothing of the refused batch after a restart');
      const store = await LmdbSymbolStore.open(join(dir, 'store'));
      try {
        await store.putSymbols(fillObjectId(f.failed), fillBatch(f.failed, size));
        assert.deepEqual(store.usage(), { symbols: (f.stored + 1) * 20, bytes: (f.stored + 1) * 20 * size, quotaBytes: null });
        assert.equal(store.health().state, 'ok');
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a disk already full at open: the store opens, refuses writes, reads, closes; a new store is refused with STORE_FULL', (t) => {
  const why = userNamespaces();
  if (why) {
    t.skip(why);
    return;
  }
  const mnt = mkdtempSync(join(tmpdir(), 'fcp-full-'));
  try {
    const r = inTmpfs(mnt, '2m', fullFromStart, [mnt], 60_000);
    // A close that never resolves ends the child with status 13 (unsettled top-level await).
    const f = lastJson<{ filled: boolean; put: unknown; read: number; state: string; closed: boolean; created: unknown }>(r);
    assert.equal(f.filled, true);
    assert.deepEqual(f.put, { code: 'STORE_FULL', path: join(mnt, 'store') });
    assert.equal(f.read, 1);
    assert.equal(f.state, 'full');
    assert.equal(f.closed, true);
    assert.deepEqual(f.created, { code: 'STORE_FULL', path: join(mnt, 'new') });
  } finally {
    rmSync(mnt, { recursive: true, force: true });
  }
});
