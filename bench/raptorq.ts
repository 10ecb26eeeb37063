// `npm run bench:raptorq`: our codec against the wasm build of the reference crate, same run,
// same data. Encode = all source packets plus 20% repair, warm (the per-K' encoding plan is
// cached) and cold (plan cache cleared before every run). Decode = from K symbols with 20% of
// the source symbols lost (repair symbols in their place): "repeat" uses one loss pattern for
// every run, "fresh" draws a new one per run from a printed seed. Symbol size 1280 (mtu 1280).
//
// Usage: node dist/bench/raptorq.js [--seed N] [--sizes 64K,1M,16M,64M] [--runs-scale F] [--clock wall|cpu]
//   --clock cpu  times by process CPU time (process.cpuUsage, which counts V8's background threads
//                too; CLOCK_PROCESS_CPUTIME_ID in the native binary) instead of wall time: on
//                an oversubscribed machine wall time mostly measures the scheduler.
// Native columns appear when scripts/build-native-raptorq.mjs has built the reference crate.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RaptorQDecoder, RaptorQEncoder, packetEsi } from '../src/raptorq/index.js';
import { clearEncodingPlans } from '../src/raptorq/intermediate.js';
import { loadWasmReference, type WasmReference } from '../test/raptorq/wasm-reference.js';
import { nativeBenchPath, runNative, type NativeFigures } from './raptorq-native.js';
import { benchData, interleave, lossPlan, mbps, median, referenceDecodeInput, type LossPlan } from './raptorq-support.js';

const MTU = 1280;
const SPARE = 10;

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
}

function repairFor(k: number): number {
  return Math.round(k * 0.2) + 2;
}

/** Encodes as the worker and the mesh do: each block released once its packets are made. */
function encodeOurs(data: Uint8Array): Uint8Array[] {
  const enc = RaptorQEncoder.withDefaults(data, MTU);
  const out: Uint8Array[] = [];
  for (let sbn = 0; sbn < enc.blockCount; sbn++) {
    const k = enc.sourceSymbolCount(sbn);
    for (const p of enc.blockSourcePackets(sbn)) out.push(p);
    for (const p of enc.repairPackets(sbn, k, repairFor(k))) out.push(p);
    enc.releaseBlock(sbn);
  }
  return out;
}

function encodeReference(ref: WasmReference, data: Uint8Array, repair: number): Uint8Array[] {
  const enc = ref.encoder(data, MTU);
  const packets = enc.encode(repair);
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

const cpuClock = arg('--clock', 'wall') === 'cpu';

/** Milliseconds taken by fn, wall or CPU time (--clock). */
function time(fn: () => void): number {
  if (cpuClock) {
    const t = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t);
    return (d.user + d.system) / 1000;
  }
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** Every packet either decoder could be given, made once; a loss plan then picks from them. */
class Workload {
  readonly data: Uint8Array;
  readonly probe: RaptorQEncoder;
  private readonly source: Uint8Array[][] = [];
  private readonly repair: Uint8Array[][] = [];
  private readonly refPackets: Uint8Array[];

  constructor(ref: WasmReference, size: number) {
    this.data = benchData(size, size);
    this.probe = RaptorQEncoder.withDefaults(this.data, MTU);
    const k0 = this.probe.sourceSymbolCount(0);
    for (let sbn = 0; sbn < this.probe.blockCount; sbn++) {
      const k = this.probe.sourceSymbolCount(sbn);
      this.source.push(this.probe.blockSourcePackets(sbn));
      this.repair.push(this.probe.repairPackets(sbn, k, Math.round(k * 0.2) + SPARE));
      this.probe.releaseBlock(sbn);
    }
    this.refPackets = encodeReference(ref, this.data, Math.round(k0 * 0.2) + SPARE + 1);
  }

  ours(plan: LossPlan): Uint8Array[] {
    return interleave(
      this.source.map((packets, sbn) => [
        ...packets.filter((p) => plan.keptSource[sbn]!.has(packetEsi(p))),
        ...this.repair[sbn]!.slice(0, plan.repairCount[sbn]! + SPARE),
      ]),
    );
  }

  reference(plan: LossPlan): Uint8Array[] {
    return interleave(referenceDecodeInput(this.refPackets, this.probe, plan, SPARE));
  }
}

interface Row {
  size: number;
  encOurs: number;
  encOursCold: number;
  encRef: number;
  decOursRepeat: number;
  decRefRepeat: number;
  decOursFresh: number[];
  decRefFresh: number[];
  native: NativeFigures | null;
}

function measure(ref: WasmReference, size: number, runs: number, warmup: number, seed: number): Row {
  const w = new Workload(ref, size);
  const { data, probe } = w;
  const k0 = probe.sourceSymbolCount(0);
  const repeatPlan = lossPlan(probe, 1234);
  const repeatOurs = w.ours(repeatPlan);
  const repeatRef = w.reference(repeatPlan);
  const check = (out: Uint8Array, who: string): void => {
    if (Buffer.compare(out, data) !== 0) throw new Error(`${who} decode mismatch`);
  };

  const encOurs: number[] = [];
  const encOursCold: number[] = [];
  const encRef: number[] = [];
  const decOursRepeat: number[] = [];
  const decRefRepeat: number[] = [];
  const decOursFresh: number[] = [];
  const decRefFresh: number[] = [];
  // Warm-up runs (untimed) go through the same steps, with their own fresh patterns.
  let freshSeed = seed;
  for (let r = 0; r < warmup + runs; r++) {
    const timed = r >= warmup;
    const fresh = lossPlan(probe, freshSeed++);
    const freshOurs = w.ours(fresh);
    const freshRef = w.reference(fresh);
    let out: Uint8Array | undefined;
    const t1 = time(() => encodeReference(ref, data, repairFor(k0)));
    const t2 = time(() => encodeOurs(data));
    clearEncodingPlans();
    const t3 = time(() => encodeOurs(data));
    const t4 = time(() => (out = decodeReference(ref, size, repeatRef)));
    check(out!, 'reference');
    const t5 = time(() => (out = decodeOurs(probe.oti, repeatOurs)));
    check(out!, 'our');
    const t6 = time(() => (out = decodeReference(ref, size, freshRef)));
    check(out!, 'reference');
    const t7 = time(() => (out = decodeOurs(probe.oti, freshOurs)));
    check(out!, 'our');
    if (!timed) continue;
    encRef.push(t1);
    encOurs.push(t2);
    encOursCold.push(t3);
    decRefRepeat.push(t4);
    decOursRepeat.push(t5);
    decRefFresh.push(t6);
    decOursFresh.push(t7);
  }
  return {
    size,
    encOurs: median(encOurs),
    encOursCold: median(encOursCold),
    encRef: median(encRef),
    decOursRepeat: median(decOursRepeat),
    decRefRepeat: median(decRefRepeat),
    decOursFresh,
    decRefFresh,
    native: runNative(size, runs, seed, MTU, false, cpuClock),
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
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`peak measurement failed: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { growth: number }).growth;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sizeLabel(size: number): string {
  return size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`;
}

function parseSize(s: string): number {
  const m = /^(\d+)([KM])$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s} (use e.g. 64K or 16M)`);
  return Number(m[1]) * (m[2]!.toUpperCase() === 'K' ? 1 << 10 : 1 << 20);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--peak-child') {
    await peakChild(process.argv[3]!, process.argv[4]!, process.argv[5]!, Number(process.argv[6]));
    return;
  }
  const seed = Number(arg('--seed', String(Date.now() % 1_000_000)));
  const sizes = arg('--sizes', '64K,1M,16M,64M').split(',').map(parseSize);
  const scale = Number(arg('--runs-scale', '1'));
  const ref = await loadWasmReference();
  // [timed runs, warm-up runs] by size: small objects need more runs to reach steady JIT state.
  const schedule = (size: number): [number, number] =>
    size <= 64 << 10 ? [51, 100] : size <= 1 << 20 ? [15, 10] : size <= 16 << 20 ? [5, 2] : [3, 1];
  const rows: Row[] = [];
  for (const size of sizes) {
    const [runs, warmup] = schedule(size);
    rows.push(measure(ref, size, Math.max(1, Math.round(runs * scale)), Math.max(1, Math.round(warmup * scale)), seed));
  }

  const peakSize = Math.max(...sizes);
  const w = new Workload(ref, peakSize);
  const lp = lossPlan(w.probe, seed);
  const peakOurs = peakDecode('ours', w.ours(lp), w.probe.oti, peakSize);
  const peakRef = peakDecode('reference', w.reference(lp), w.probe.oti, peakSize);
  const peakNative = runNative(peakSize, 1, seed, MTU, true, cpuClock)?.peak ?? -1;

  const hasNative = rows.some((r) => r.native);
  const f = (n: number): string => n.toFixed(1).padStart(6);
  const x = (n: number): string => n.toFixed(2).padStart(5);
  const nativeMedian = (r: Row, key: 'encode' | 'decodeFresh' | 'decodeRepeat'): number => (r.native ? mbps(r.size, median(r.native[key])) : NaN);
  const lines = [
    `RaptorQ benchmark, symbol size ${MTU}, node ${process.version}, fresh-loss seed ${seed}` +
      (hasNative ? `, native: ${nativeBenchPath()}` : ', native: not built (scripts/build-native-raptorq.mjs)'),
    `MB/s = MiB of object per ${cpuClock ? 'CPU' : 'wall-clock'} second, median of the timed runs; x = ratio to wasm in this run`,
    '',
    'Encode (all source packets + 20% repair):',
    '',
    `| size   |  wasm  | ours warm |  x    | ours cold |  x    |${hasNative ? ' native |  x    |' : ''}`,
    `|--------|--------|-----------|-------|-----------|-------|${hasNative ? '--------|-------|' : ''}`,
    ...rows.map((r) => {
      const wasm = mbps(r.size, r.encRef);
      const warm = mbps(r.size, r.encOurs);
      const cold = mbps(r.size, r.encOursCold);
      const nat = nativeMedian(r, 'encode');
      return `| ${sizeLabel(r.size).padEnd(6)} | ${f(wasm)} |   ${f(warm)}  | ${x(warm / wasm)} |   ${f(cold)}  | ${x(cold / wasm)} |` + (hasNative ? ` ${f(nat)} | ${x(nat / wasm)} |` : '');
    }),
    '',
    'Decode from K symbols, 20% source loss (repeat = same pattern every run; fresh = new pattern per run, min..max of the ratio over runs):',
    '',
    `| size   | wasm rep | ours rep |  x    | wasm fresh | ours fresh |  x    | x min..max  |${hasNative ? ' native fresh |  x    |' : ''}`,
    `|--------|----------|----------|-------|------------|------------|-------|-------------|${hasNative ? '--------------|-------|' : ''}`,
    ...rows.map((r) => {
      const wr = mbps(r.size, r.decRefRepeat);
      const or = mbps(r.size, r.decOursRepeat);
      const wf = mbps(r.size, median(r.decRefFresh));
      const of = mbps(r.size, median(r.decOursFresh));
      const perRun = r.decOursFresh.map((t, i) => r.decRefFresh[i]! / t);
      const span = `${Math.min(...perRun).toFixed(2)}..${Math.max(...perRun).toFixed(2)}`;
      const nat = nativeMedian(r, 'decodeFresh');
      return (
        `| ${sizeLabel(r.size).padEnd(6)} |  ${f(wr)}  |  ${f(or)}  | ${x(or / wr)} |   ${f(wf)}   |   ${f(of)}   | ${x(of / wf)} | ${span.padEnd(11)} |` +
        (hasNative ? `    ${f(nat)}    | ${x(nat / wf)} |` : '')
      );
    }),
    '',
    `cold = the encoding plan cache is cleared before each timed encode (the plan is rebuilt); warm reuses it.`,
    `Peak resident memory growth while decoding ${sizeLabel(peakSize)} (fresh pattern, packets already loaded): ` +
      `ours ${(peakOurs / 1048576).toFixed(1)} MiB (${(peakOurs / peakSize).toFixed(2)}x the object), ` +
      `wasm ${(peakRef / 1048576).toFixed(1)} MiB (${(peakRef / peakSize).toFixed(2)}x)` +
      (peakNative >= 0 ? `, native ${(peakNative / 1048576).toFixed(1)} MiB (${(peakNative / peakSize).toFixed(2)}x)` : ''),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
