import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Shares must never reach a file, a log or stdout: the layer may not even import the means.
const FORBIDDEN: Array<[RegExp, string]> = [
  [/from ['"](node:)?fs(\/promises)?['"]/, 'file system'],
  [/from ['"]lmdb['"]/, 'LMDB'],
  [/from ['"]pino['"]/, 'logger'],
  [/\bconsole\.\w+\(/, 'console output'],
  [/process\.(stdout|stderr)/, 'process output'],
];

test('the secrets layer imports no file system, database or logging', () => {
  const dir = join('src', 'secrets');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('secrets.ts') && files.includes('holder.ts'));
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const [pattern, what] of FORBIDDEN) {
      assert.ok(!pattern.test(text), `${file} uses ${what}`);
    }
  }
});
