// `fcp raptorq encode|decode` as a user runs it, on a temporary directory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesEqual, sampleData, seededRandom, shuffle } from './helpers.js';

function fcp(...args: string[]) {
  return spawnSync(process.execPath, ['bin/fcp.js', 'raptorq', ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('encode, lose packets, decode: the file comes back byte for byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-raptorq-'));
  try {
    const input = join(dir, 'input.bin');
    const data = sampleData(5 << 20, 31);
    writeFileSync(input, data);
    const enc = fcp('encode', input, '--out', join(dir, 'enc'), '--symbol-size', '4096', '--repair', '60');
    assert.equal(enc.status, 0, enc.stderr);
    assert.match(enc.stdout, /wrote .* 1340 packets \(1280 source, 60 repair\)/);
    assert.match(enc.stderr, /encode: 100%/, 'large files report progress on stderr');
    const packetDir = join(dir, 'enc', 'packets');
    const names = readdirSync(packetDir);
    assert.equal(names.length, 1340);
    for (const name of shuffle(names, seededRandom(2)).slice(0, 55)) unlinkSync(join(packetDir, name));
    const out = join(dir, 'out.bin');
    const dec = fcp('decode', join(dir, 'enc'), '--out', out);
    assert.equal(dec.status, 0, dec.stderr);
    assert.ok(bytesEqual(new Uint8Array(readFileSync(out)), data));

    // Remove too many: a clear error and a non-zero exit.
    for (const name of readdirSync(packetDir).slice(0, 200)) unlinkSync(join(packetDir, name));
    const fail = fcp('decode', join(dir, 'enc'), '--out', join(dir, 'never.bin'));
    assert.notEqual(fail.status, 0);
    assert.match(fail.stderr, /not enough packets/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad arguments are refused with a message', () => {
  const r = fcp('encode', 'no-such-file', '--out', join(tmpdir(), 'x'), '--symbol-size', '0');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /symbol-size/);
  const d = fcp('decode', join(tmpdir(), 'definitely-missing-dir-fcp'), '--out', 'x');
  assert.notEqual(d.status, 0);
  assert.match(d.stderr, /ENOENT|no such file/i);
});
