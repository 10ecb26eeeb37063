// npm run bench:dedup [-- --size 256MiB] — a generated tree of files stored in a zone, then the
// same tree again, then the tree with 1% of its bytes changed in scattered edits (of several
// sizes): bytes the second store kept as new against bytes changed. The writing device runs
// in this process through the library API (mesh.storeStream); the other four are real fcpd.
import pino from 'pino';
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';
import { SovereignMesh } from '../src/index.js';
import { parseSize } from './sizes.js';

const ZONE = 'z:private';
const SUBNET = 53;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** xorshift32: the same tree every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function fill(buf: Uint8Array, seed: number): void {
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
}

/** File sizes of the tree: many small, some large (log-uniform from 1 KiB to 16 MiB). */
function treeSizes(total: number): number[] {
  const r = rng(7);
  const sizes: number[] = [];
  let sum = 0;
  while (sum < total) {
    const s = Math.min(total - sum, Math.round(2 ** (10 + r() * 14)));
    sizes.push(s);
    sum += s;
  }
  return sizes;
}

type Edit = { file: number; at: number; len: number };

/** Edits of `len` bytes at random places until `fraction` of all bytes are changed. */
function scatteredEdits(sizes: number[], fraction: number, len: number, seed: number): Edit[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const starts: number[] = [];
  let acc = 0;
  for (const s of sizes) {
    starts.push(acc);
    acc += s;
  }
  const r = rng(seed);
  const edits: Edit[] = [];
  for (let changed = 0; changed < total * fraction; changed += len) {
    const pos = Math.floor(r() * total);
    let f = starts.findIndex((s, i) => pos >= s && pos < s + sizes[i]!);
    if (f < 0) f = sizes.length - 1;
    const at = pos - starts[f]!;
    edits.push({ file: f, at, len: Math.min(len, sizes[f]! - at) });
  }
  return edits;
}

async function* fileBytes(size: number, seed: number, edits: Edit[], editSeed: number): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(Math.ceil(size / 4) * 4);
  fill(buf, seed);
  for (const e of edits) fill(buf.subarray(e.at & ~3, ((e.at + e.len + 3) & ~3)), editSeed + e.at);
  for (let off = 0; off < size; off += 1 << 20) yield buf.subarray(off, Math.min(size, off + (1 << 20)));
}

async function storeTree(node: SovereignMesh, sizes: number[], edits: Edit[], editSeed: number): Promise<{ stored: number; dedup: number; ms: number; touched: number }> {
  const byFile = new Map<number, Edit[]>();
  for (const e of edits) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  let stored = 0;
  let dedup = 0;
  const t0 = performance.now();
  for (let f = 0; f < sizes.length; f++) {
    const r = await node.storeStream(fileBytes(sizes[f]!, 100 + f, byFile.get(f) ?? [], editSeed), ZONE);
    stored += r.storedBytes;
    dedup += r.dedupBytes;
  }
  return { stored, dedup, ms: performance.now() - t0, touched: byFile.size };
}

const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const total = parseSize(arg('--size') ?? '256MiB');
  const sizes = treeSizes(total);
  const mesh = await DevMesh.start({ description: fiveDevicesOn(SUBNET), notStarted: ['laptop'] });
  const laptop = mesh.device('laptop');
  const node = await SovereignMesh.init({ dataDir: laptop.dataDir, tailscaleSocket: laptop.socketPath, logger: pino({ level: 'silent' }) });
  try {
    const rows: string[][] = [];
    const first = await storeTree(node, sizes, [], 0);
    rows.push(['first store', '-', '-', '-', MiB(first.stored), '-']);
    const same = await storeTree(node, sizes, [], 0);
    rows.push(['same tree again', '0', '0', '0', MiB(same.stored), '-']);
    for (const [len, seed] of [[65536, 11], [4096, 12], [256, 13]] as const) {
      const edits = scatteredEdits(sizes, 0.01, len, seed);
      const changed = edits.reduce((a, e) => a + e.len, 0);
      const r = await storeTree(node, sizes, edits, seed * 1_000_003);
      rows.push([`1% changed, ${len}-byte edits`, String(edits.length), `${r.touched} of ${sizes.length}`, MiB(changed), MiB(r.stored), `${(r.stored / changed).toFixed(1)}x`]);
    }
    const head = ['second store', 'edits', 'files touched', 'bytes changed', 'bytes stored', 'stored / changed'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    console.log(`\nbench:dedup: a tree of ${sizes.length} files, ${MiB(total)} (1 KiB to 16 MiB each), zone ${ZONE}; FastCDC chunks avg 1 MiB\n`);
    console.log(head.map((h, i) => h.padEnd(w[i]!)).join('  '));
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i]!)).join('  '));
  } finally {
    await node.close();
    await mesh.stop();
  }
}

await main();
