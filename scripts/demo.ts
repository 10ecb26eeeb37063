// `npm run demo:raptorq`: RaptorQ-encode a built-in sample, lose a random 30% of the packets, rebuild the
// object from what is left and check it is byte-identical.

import { createHash } from 'node:crypto';
import { RaptorQDecoder, RaptorQEncoder } from '../src/raptorq/index.js';

const SAMPLE_SIZE = 4 * 1024 * 1024;
const SYMBOL_SIZE = 1280;
const LOSS = 0.3;

/** A deterministic few-MiB sample: log-like text lines, so the demo needs no input file. */
function builtInSample(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const words = ['mesh', 'symbol', 'zone', 'owner', 'device', 'repair', 'object', 'tailnet', 'secret', 'audit'];
  let x = 0x9e3779b9;
  let at = 0;
  let line = 0;
  while (at < size) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const text = `${String(line++).padStart(7, '0')} ${words[(x >>> 0) % 10]} ${((x >>> 8) & 0xffff).toString(16)} ok\n`;
    for (let i = 0; i < text.length && at < size; i++) out[at++] = text.charCodeAt(i);
  }
  return out;
}

/** Seeded shuffle so every run drops a different but reproducible-by-seed 30%. */
function dropRandom<T>(items: T[], fraction: number, seed: number): T[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(Math.round(copy.length * fraction));
}

function mbps(bytes: number, ms: number): string {
  return ((bytes / (1024 * 1024)) / (ms / 1000)).toFixed(1);
}

function main(): void {
  const data = builtInSample(SAMPLE_SIZE);
  const seed = Date.now() & 0xffffffff;

  const t0 = performance.now();
  const enc = new RaptorQEncoder(data, { symbolSize: SYMBOL_SIZE });
  const packets: Uint8Array[] = [];
  const ks: number[] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    ks.push(k);
    // Enough repair that 70% of everything sent still exceeds K with a small margin.
    const repair = Math.ceil(k / (1 - LOSS) - k) + 20;
    for (const p of [...enc.blockSourcePackets(sbn), ...enc.repairPackets(sbn, k, repair)]) packets.push(p);
  }
  const encodeMs = performance.now() - t0;

  const received = dropRandom(packets, LOSS, seed);

  const t1 = performance.now();
  const dec = new RaptorQDecoder(enc.oti);
  let result: Uint8Array | null = null;
  let used = 0;
  for (const p of received) {
    used++;
    result = dec.addPacket(p);
    if (result) break;
  }
  const decodeMs = performance.now() - t1;

  const ok = result !== null && Buffer.compare(result, data) === 0;
  const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 16);
  const rows: [string, string][] = [
    ['object', `${data.length} bytes (built-in sample), sha256 ${digest(data)}`],
    ['symbol size T', `${SYMBOL_SIZE} bytes`],
    ['source blocks Z / sub-blocks N', `${enc.parameters.sourceBlocks} / ${enc.parameters.subBlocks}`],
    ['K (source symbols per block)', ks.join(', ')],
    ['symbols sent', `${packets.length} (${ks.reduce((a, b) => a + b, 0)} source + ${packets.length - ks.reduce((a, b) => a + b, 0)} repair)`],
    ['symbols received', `${received.length} (random ${Math.round(LOSS * 100)}% dropped, seed ${seed})`],
    ['symbols used to decode', String(used)],
    ['encode (first run, cold)', `${encodeMs.toFixed(0)} ms, ${mbps(data.length, encodeMs)} MB/s`],
    ['decode (first run, cold)', `${decodeMs.toFixed(0)} ms, ${mbps(data.length, decodeMs)} MB/s`],
    ['result', ok ? `byte-identical, sha256 ${digest(result!)}` : 'FAILED: object not rebuilt'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write('fcp-mesh demo: RFC 6330 RaptorQ over a lossy channel\n\n');
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  if (!ok) process.exitCode = 1;
}

main();
