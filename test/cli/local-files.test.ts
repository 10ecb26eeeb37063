// The CLI's local files: `fcp get -o` never leaves a partial file or claims a write it did not
// make; `fcp put` of a directory or an unreadable file is a typed error, not a stack trace.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputFile, openInput } from '../../src/cli/local-files.js';

const dir = mkdtempSync(join(tmpdir(), 'fcp-localfiles-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: { code?: string }) => {
    assert.equal(err.code, code);
    return true;
  });
}

/** Runs fcp (no daemon needed: local files are checked first), as another user when asked. */
function fcp(args: string[], uid?: number): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, ['bin/fcp.js', '--data-dir', join(dir, 'data'), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  return { code: r.status, err: r.stderr };
}

test('output: written in full, fsynced and renamed; no temporary file is left', async () => {
  const target = join(dir, 'ok.bin');
  const out = await OutputFile.prepare(target);
  await out.write(Buffer.from('hello '));
  await out.write(Buffer.from('world'));
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('ok.bin')), [], 'the name appears only on commit');
  await out.commit();
  assert.equal(readFileSync(target, 'utf8'), 'hello world');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('fcp-partial')), []);
});

test('output: an aborted write leaves the old file and no partial one', async () => {
  const target = join(dir, 'keep.txt');
  writeFileSync(target, 'old');
  const out = await OutputFile.prepare(target);
  await out.write(Buffer.from('new but unfinished'));
  await out.abort();
  assert.equal(readFileSync(target, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('fcp-partial')), []);
});

test('output: missing directory, a directory, a read-only file, /dev/full are typed errors', async () => {
  await rejectsWith(OutputFile.prepare(join(dir, 'missing', 'x')), 'OUTPUT_NOT_FOUND');
  await rejectsWith(OutputFile.prepare(dir), 'OUTPUT_IS_DIRECTORY');
  const ro = join(dir, 'ro.txt');
  writeFileSync(ro, 'precious');
  chmodSync(ro, 0o444);
  await rejectsWith(OutputFile.prepare(ro), 'OUTPUT_DENIED');
  assert.equal(readFileSync(ro, 'utf8'), 'precious');
  const full = await OutputFile.prepare('/dev/full');
  await rejectsWith(full.write(Buffer.alloc(4096)), 'OUTPUT_FULL');
  await full.abort();
});

test('input: a directory and a missing file are typed errors; a file opens with its size', async () => {
  await rejectsWith(openInput(dir), 'INPUT_IS_DIRECTORY');
  await rejectsWith(openInput(join(dir, 'nope')), 'INPUT_NOT_FOUND');
  const f = join(dir, 'in.txt');
  writeFileSync(f, 'abc');
  const input = await openInput(f);
  assert.equal(input.size, 3);
  input.stream.destroy();
});

test('fcp put DIR and fcp get -o BAD exit non-zero with the code, no stack trace', () => {
  const put = fcp(['put', dir, '--zone', 'z:owner']);
  assert.equal(put.code, 2, put.err);
  assert.match(put.err, /is a directory.*\[INPUT_IS_DIRECTORY\]/);
  assert.doesNotMatch(put.err, /\n\s+at /, 'no stack trace');
  const get = fcp(['get', 'ab'.repeat(32), '--out', join(dir, 'missing', 'x')]);
  assert.equal(get.code, 4, get.err);
  assert.match(get.err, /does not exist \[OUTPUT_NOT_FOUND\]/);
  const getDir = fcp(['get', 'ab'.repeat(32), '--out', dir, '--json']);
  assert.equal(getDir.code, 2);
  assert.equal((JSON.parse(getDir.err) as { error: { code: string } }).error.code, 'OUTPUT_IS_DIRECTORY');
});

test('EACCES: an unreadable input and an unwritable directory are refused (exit 3)', () => {
  const secret = join(dir, 'secret.txt');
  writeFileSync(secret, 'x');
  chmodSync(secret, 0o600);
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o755 });
  // As root the kernel lets everything through: run the CLI as an unprivileged user instead.
  const root = process.getuid?.() === 0;
  if (!root) {
    chmodSync(secret, 0o000);
    chmodSync(locked, 0o555);
  }
  const uid = root ? 65534 : undefined;
  const put = fcp(['put', secret, '--zone', 'z:owner'], uid);
  assert.equal(put.code, 3, put.err);
  assert.match(put.err, /permission denied.*\[INPUT_DENIED\]/);
  const get = fcp(['get', 'ab'.repeat(32), '--out', join(locked, 'x')], uid);
  assert.equal(get.code, 3, get.err);
  assert.match(get.err, /\[OUTPUT_DENIED\]/);
  assert.deepEqual(readdirSync(locked), []);
});
