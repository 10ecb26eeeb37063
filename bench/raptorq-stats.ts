// `npm run stats:raptorq`: how often decoding fails with exactly K, K+1 and K+2 received
// symbols chosen at random (RFC 6330 section 5.1 cites about 1e-2, 1e-4 and 1e-6).
// Received ESIs are drawn without replacement from the K source and 2K repair ESIs. Success is
// decided by the solver's symbolic phase, which is exactly where our decoder can fail: a
// plan exists iff the received symbols determine the block.
//
// Usage: node dist/bench/raptorq-stats.js [--trials N] [--k 10,26,101]

import { blockParams } from '../src/raptorq/index.js';
import { planSolve } from '../src/raptorq/solver.js';
import { seeded } from './raptorq-support.js';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const trials = Number(arg('--trials', '10000'));
const ks = arg('--k', '10,18,26,55,101,257,1002').split(',').map(Number);

function failures(k: number, overhead: number, count: number, seed: number): number {
  const params = blockParams(k);
  const random = seeded(seed);
  const pool = 3 * k;
  const esis = new Int32Array(pool);
  let failed = 0;
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < pool; i++) esis[i] = i;
    const n = k + overhead;
    // Partial Fisher-Yates: the first n entries are a uniform random subset.
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(random() * (pool - i));
      const tmp = esis[i]!;
      esis[i] = esis[j]!;
      esis[j] = tmp;
    }
    const isis = new Int32Array(params.kPrime - k + n);
    let at = 0;
    for (let i = k; i < params.kPrime; i++) isis[at++] = i;
    for (let i = 0; i < n; i++) isis[at++] = esis[i]! < k ? esis[i]! : esis[i]! + params.kPrime - k;
    if (!planSolve(params, isis)) failed++;
  }
  return failed;
}

function rate(failed: number, count: number): string {
  if (failed === 0) return `0 (< ${(3 / count).toExponential(0)} at 95%)`;
  return `${failed} (${(failed / count).toExponential(2)})`;
}

const started = performance.now();
const lines = [
  `RaptorQ decoding failure statistics, ${trials} trials per cell, received ESIs uniform over 0..3K-1`,
  '',
  '| K     | K\'    | fail at K          | fail at K+1        | fail at K+2        |',
  '|-------|-------|--------------------|--------------------|--------------------|',
];
process.stdout.write(lines.join('\n') + '\n');
for (const k of ks) {
  const cells = [0, 1, 2].map((o) => rate(failures(k, o, trials, k * 31 + o), trials));
  process.stdout.write(`| ${String(k).padEnd(5)} | ${String(blockParams(k).kPrime).padEnd(5)} | ${cells.map((c) => c.padEnd(18)).join(' | ')} |\n`);
}
process.stdout.write(`\n${((performance.now() - started) / 1000).toFixed(1)} s\n`);
