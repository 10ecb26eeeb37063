import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

test('fcp --version prints the package version', () => {
  const r = spawnSync(process.execPath, ['bin/fcp.js', '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('fcp with an unknown command exits non-zero with a message', () => {
  const r = spawnSync(process.execPath, ['bin/fcp.js', 'no-such-command'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^error: /);
});
