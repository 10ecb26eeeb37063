// `npm run stats:raptorq`: how often decoding fails with exactly K, K+1 and K+2 received
// symbols chosen at random (RFC 6330 section 5.1 cites about 1e-2, 1e-4 and 1e-6).
// Received ESIs are drawn without replacement from the K source and 2K repair ESIs. Success is
// decided by the solver's symbolic phase, which is exactly where our decoder can fail: a
// plan exists iff the received symbols determine the block.
//
// Usage: node dist/bench/raptorq-stats.js [--trials N] [--deep N] [--k 10,26,101]
//   --trials  trials per cell (default 10000)
//   --deep    trials at K+2 for K <= 26, where a 1e-5 rate is measurable (default 1000000)

import { blockParams } from '../src/raptorq/index.js';
import { planSolve } from '../src/raptorq/solver.js';
import { seeded } from './raptorq-support.js';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

const trials = Number(arg('--trials', '10000'));
const deep = Number(arg('--deep', '1000000'));
const ks = arg('--k', '10,26,55,101,257,1002').split(',').map(Number);

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
  if (failed === 0) return `0/${count} (< ${(3 / count).toExponential(0)})`;
  return `${failed}/${count} = ${(failed / count).toExponential(1)}`;
}

const started = performance.now();
const lines = [
  `RaptorQ decoding failure statistics: failures/trials, received ESIs uniform over 0..3K-1`,
  `(a bound "< x" is the 95% upper bound when no failure was seen)`,
  '',
  '| K     | K\'    | fail at K              | fail at K+1            | fail at K+2              |',
  '|-------|-------|------------------------|------------------------|--------------------------|',
];
process.stdout.write(lines.join('\n') + '\n');
for (const k of ks) {
  const cells = [0, 1, 2].map((o) => {
    const count = o === 2 && k <= 26 ? deep : trials;
    return rate(failures(k, o, count, k * 31 + o), count).padEnd(o === 2 ? 24 : 22);
  });
  process.stdout.write(`| ${String(k).padEnd(5)} | ${String(blockParams(k).kPrime).padEnd(5)} | ${cells.join(' | ')} |\n`);
}
process.stdout.write(`\n${((performance.now() - started) / 1000).toFixed(1)} s\n`);
