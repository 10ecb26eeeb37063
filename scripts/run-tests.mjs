#!/usr/bin/env node
// Runs every compiled test file under dist/test with Node's own test runner.
// Optional arguments filter test files by substring: `node scripts/run-tests.mjs raptorq`.
// Files run one at a time (FCP_TEST_CONCURRENCY to change it; every file binds its own loopback
// subnet, so they would not collide): on two cores a whole run takes as long at 1 as at 2 or 3
// (the daemons are CPU-bound), and files running side by side starve each other's timing.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect('dist/test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${process.env.FCP_TEST_CONCURRENCY ?? 1}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
