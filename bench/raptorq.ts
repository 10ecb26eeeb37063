// `npm run bench:raptorq`: our codec against the wasm build of the reference crate, same run,
// same data. Encode = all source packets plus 20% repair; decode = from K symbols with 20% of
// the source symbols lost (repair symbols in their place). Symbol size 1280 (mtu 1280).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RaptorQDecoder, RaptorQEncoder } from '../src/raptorq/index.js';
import { clearEncodingPlans } from '../src/raptorq/intermediate.js';
import { loadWasmReference, type WasmReference } from '../test/raptorq/wasm-reference.js';
import { benchData, interleave, lossPlan, mbps, median, ourDecodeInput, referenceDecodeInput } from './raptorq-support.js';

const MTU = 1280;
const SPARE = 10;

interface Row {
  size: string;
  encOurs: number;
  encOursCold: number;
  encRef: number;
  decOurs: number;
  decRef: number;
}

function repairFor(k: number): number {
  return Math.round(k * 0.2) + 2;
}

function encodeOurs(data: Uint8Array): Uint8Array[] {
  const enc = RaptorQEncoder.withDefaults(data, MTU);
  const out: Uint8Array[] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    for (const p of enc.blockSourcePackets(sbn)) out.push(p);
    for (const p of enc.repairPackets(sbn, k, repairFor(k))) out.push(p);
  }
  return out;
}

function encodeReference(ref: WasmReference, data: Uint8Array, k: number): Uint8Array[] {
  const enc = ref.encoder(data, MTU);
  const packets = enc.encode(repairFor(k));
  enc.free();
  return packets;
}

function decodeOurs(oti: Uint8Array, packets: Uint8Array[]): Uint8Array {
  const dec = new RaptorQDecoder(oti);
  for (const p of packets) {
    const r = dec.addPacket(p);
    if (r) return r;
  }
  throw new Error('our decoder did not finish');
}

function decodeReference(ref: WasmReference, length: number, packets: Uint8Array[]): Uint8Array {
  const dec = ref.decoder(length, MTU);
  try {
    for (const p of packets) {
      const r = dec.decode(p);
      if (r) return r;
    }
  } finally {
    dec.free();
  }
  throw new Error('reference decoder did not finish');
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function measure(ref: WasmReference, size: number, runs: number, warmup: number): Promise<Row> {
  const data = benchData(size, size);
  const probe = RaptorQEncoder.withDefaults(data, MTU);
  const k0 = probe.sourceSymbolCount(0);
  const plan = lossPlan(probe, 1234);
  const ours = interleave(ourDecodeInput(probe, plan, SPARE));
  const refPackets = interleave(referenceDecodeInput(encodeReference(ref, data, k0 + SPARE * 5), probe, plan, SPARE));

  clearEncodingPlans();
  const encOursCold = time(() => encodeOurs(data));
  const encOurs: number[] = [];
  const encRef: number[] = [];
  const decOurs: number[] = [];
  const decRef: number[] = [];
  // Warm-up (untimed) for both: JIT tiers, wasm compilation, allocator state.
  for (let r = 0; r < warmup; r++) {
    encodeReference(ref, data, k0);
    encodeOurs(data);
    decodeReference(ref, size, refPackets);
    decodeOurs(probe.oti, ours);
  }
  for (let r = 0; r < runs; r++) {
    encRef.push(time(() => encodeReference(ref, data, k0)));
    encOurs.push(time(() => encodeOurs(data)));
    let out: Uint8Array | undefined;
    decRef.push(time(() => (out = decodeReference(ref, size, refPackets))));
    if (Buffer.compare(out!, data) !== 0) throw new Error('reference decode mismatch');
    decOurs.push(time(() => (out = decodeOurs(probe.oti, ours))));
    if (Buffer.compare(out!, data) !== 0) throw new Error('our decode mismatch');
  }
  const label = size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`;
  return {
    size: label,
    encOurs: mbps(size, median(encOurs)),
    encOursCold: mbps(size, encOursCold),
    encRef: mbps(size, median(encRef)),
    decOurs: mbps(size, median(decOurs)),
    decRef: mbps(size, median(decRef)),
  };
}

/** VmRSS and VmHWM (peak) of this process from /proc, in bytes; null off Linux. */
function procMemory(): { rss: number; peak: number } | null {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const field = (name: string): number => Number(/\s(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(name)) ?? '')?.[1]) * 1024;
    return { rss: field('VmRSS:'), peak: field('VmHWM:') };
  } catch {
    return null;
  }
}

/**
 * Child mode: decode packets from a file and report how far the resident set rose above its
 * level just before decoding. On Linux the peak counter is reset first (/proc/self/clear_refs),
 * so loading the packets does not count; elsewhere maxRSS is used.
 */
async function peakChild(impl: string, file: string, otiHex: string, length: number): Promise<void> {
  const raw = readFileSync(file);
  const packetLength = MTU + 4;
  const packets: Uint8Array[] = [];
  for (let at = 0; at < raw.length; at += packetLength) packets.push(raw.subarray(at, at + packetLength));
  const ref = impl === 'reference' ? await loadWasmReference() : undefined;
  const oti = Uint8Array.from(Buffer.from(otiHex, 'hex'));
  (globalThis as { gc?: () => void }).gc?.();
  let reset = false;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    reset = true;
  } catch {
    // Not Linux or not permitted: fall back to maxRSS below.
  }
  const before = procMemory()?.rss ?? process.memoryUsage().rss;
  const out = ref ? decodeReference(ref, length, packets) : decodeOurs(oti, packets);
  const peak = reset ? procMemory()!.peak : process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ growth: peak - before, length: out.length }));
}

function peakDecode(impl: 'ours' | 'reference', packets: Uint8Array[], oti: Uint8Array, length: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'rq-bench-'));
  try {
    const file = join(dir, 'packets.bin');
    writeFileSync(file, Buffer.concat(packets));
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--peak-child', impl, file, Buffer.from(oti).toString('hex'), String(length)], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`peak measurement failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { growth: number }).growth;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--peak-child') {
    await peakChild(process.argv[3]!, process.argv[4]!, process.argv[5]!, Number(process.argv[6]));
    return;
  }
  const ref = await loadWasmReference();
  // [size, timed runs, warm-up runs]: small objects need more runs to reach steady JIT state.
  const plan: [number, number, number][] = [
    [64 << 10, 51, 100],
    [1 << 20, 15, 10],
    [16 << 20, 5, 2],
  ];
  const rows: Row[] = [];
  for (const [size, runs, warmup] of plan) rows.push(await measure(ref, size, runs, warmup));

  const big = 16 << 20;
  const data = benchData(big, big);
  const probe = RaptorQEncoder.withDefaults(data, MTU);
  const lp = lossPlan(probe, 1234);
  const peakOurs = peakDecode('ours', interleave(ourDecodeInput(probe, lp, SPARE)), probe.oti, big);
  const peakRef = peakDecode('reference', interleave(referenceDecodeInput(encodeReference(ref, data, probe.sourceSymbolCount(0) + 50), probe, lp, SPARE)), probe.oti, big);

  const f = (n: number): string => n.toFixed(1).padStart(7);
  const lines = [
    `RaptorQ benchmark, symbol size ${MTU}, node ${process.version}, median of 51/15/5 runs after 100/10/2 warm-up runs (MB/s = MiB/s)`,
    '',
    '| size   | encode ours | encode ours (cold) | encode wasm | ratio | decode ours | decode wasm | ratio |',
    '|--------|-------------|--------------------|-------------|-------|-------------|-------------|-------|',
    ...rows.map(
      (r) =>
        `| ${r.size.padEnd(6)} | ${f(r.encOurs)}     | ${f(r.encOursCold)}            | ${f(r.encRef)}     | ${(r.encOurs / r.encRef).toFixed(2).padStart(5)} | ${f(r.decOurs)}     | ${f(r.decRef)}     | ${(r.decOurs / r.decRef).toFixed(2).padStart(5)} |`,
    ),
    '',
    `cold = first encode of that K' in the process (builds the per-K' encoding plan); the others reuse it.`,
    `peak resident memory growth while decoding 16 MiB, packets already loaded: ours ${(peakOurs / 1048576).toFixed(1)} MiB, wasm ${(peakRef / 1048576).toFixed(1)} MiB`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
