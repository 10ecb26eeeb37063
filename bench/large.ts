// npm run bench:large [-- --size 4GiB --seed 1] — one generated file put and got through five fcpd
// daemons with the real CLI (`fcp put -` fed from a pipe, `fcp get ID -o -` read from one), never
// held in memory. Prints MB/s each way and the peak RSS (VmHWM) of the CLI and every fcpd.
// Targets (this 2-core machine, loopback): every process < 300 MiB; put >= 100 MB/s, get >= 200 MB/s.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';
import { parseSize } from './sizes.js';

const ZONE = 'z:private';
const SUBNET = 52;
const BLOCK = 1 << 20;
const FCP_CLI = fileURLToPath(new URL('../../bin/fcp.js', import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Peak resident memory of a live process (kernel's high-water mark), in bytes. */
function vmHWM(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory now, split into anonymous (heap, buffers) and file-backed (node's own code, LMDB's map). */
function rssSplit(pid: number): { anon: number; file: number } {
  try {
    const t = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(t)?.[1] ?? 0) * 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return { anon: 0, file: 0 };
  }
}

/** CPU time (user + system) a live process has used so far, in seconds. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** Tracks a child's VmHWM while it runs (its /proc entry is gone once it exits). */
function watchPeak(child: ChildProcess, cpu?: { s: number }): () => number {
  let peak = 0;
  const t = setInterval(() => {
    peak = Math.max(peak, vmHWM(child.pid!));
    if (cpu) cpu.s = Math.max(cpu.s, cpuSeconds(child.pid!));
  }, 50);
  child.once('exit', () => clearInterval(t));
  return () => peak;
}

/** `n` pseudo-random bytes from `seed`: SHA-256 in counter mode (any fixed generator would do). */
function seededBlock(seed: number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let at = 0, i = 0; at < n; at += 32, i++) createHash('sha256').update(`bench:large ${seed} ${i}`).digest().copy(out, at);
  return out;
}

const MiB = (n: number) => (n / 2 ** 20).toFixed(0);
const MBps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);

function fcp(mesh: DevMesh, args: string[], stdio: Array<'pipe' | 'ignore' | 'inherit'>): ChildProcess {
  const d = mesh.device('laptop');
  return spawn(process.execPath, [FCP_CLI, '--data-dir', d.dataDir, '--tailscale-socket', d.socketPath, ...args], { stdio: stdio as never, env: { ...process.env, FCP_LOG_LEVEL: 'warn' } });
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

async function main(): Promise<void> {
  const size = parseSize(arg('--size') ?? '4GiB');
  const fs = statfsSync(tmpdir());
  const free = fs.bavail * fs.bsize;
  // The zone's devices together keep about 2x the file (source plus repair symbols, envelopes).
  const need = size * 2.5 + 2 ** 30;
  if (free < need) throw new Error(`bench:large needs about ${MiB(need)} MiB free in ${tmpdir()}; ${MiB(free)} MiB is free (use --size)`);

  // BENCH_FCPD_ENV="K=V,K2=V2": extra environment for every fcpd (to try allocator settings).
  const extraEnv = Object.fromEntries((process.env.BENCH_FCPD_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  const mesh = await DevMesh.start({ description: fiveDevicesOn(SUBNET), env: { FCP_LOG_LEVEL: 'warn', ...extraEnv } });
  try {
    // The file: 1 MiB of random bytes repeated with a changing 8-byte counter in each block, so
    // it is generated as fast as it is sent and no two chunks are alike (nothing dedups).
    // Seeded, so that runs cut the same chunks (their count moves CPU per GiB) and compare.
    const seedArg = Number(arg('--seed') ?? 1);
    const seed = seededBlock(seedArg, BLOCK);
    console.log(`bench:large --size ${MiB(size)}MiB --seed ${seedArg}`);
    const putHash = createHash('sha256');
    const put = fcp(mesh, ['put', '-', '--zone', ZONE, '--json', '--quiet'], ['pipe', 'pipe', 'inherit']);
    const putCpu = { s: 0 };
    const putPeak = watchPeak(put, putCpu);
    const cpu0 = mesh.devices.map((d) => cpuSeconds(d.process!.pid!));
    let out = '';
    let putFailed = false;
    put.stdin!.on('error', () => (putFailed = true));
    put.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const t0 = performance.now();
    put.once('exit', () => (putFailed = true));
    for (let off = 0, i = 0; off < size && !putFailed; off += BLOCK, i++) {
      const block = Buffer.from(seed.subarray(0, Math.min(BLOCK, size - off)));
      for (let k = 0; k < block.length; k += 65536) block.writeUInt32LE(i, k);
      putHash.update(block);
      if (!put.stdin!.write(block) && !putFailed) {
        await new Promise<void>((resolve) => {
          const go = () => {
            put.stdin!.off('drain', go);
            put.off('exit', go);
            resolve();
          };
          put.stdin!.once('drain', go);
          put.once('exit', go);
        });
      }
    }
    put.stdin!.end();
    const putCode = await exited(put);
    const putMs = performance.now() - t0;
    if (putCode !== 0) throw new Error(`fcp put exited ${putCode}`);
    const r = JSON.parse(out) as { id: string; chunks: number; storedBytes: number };
    const afterPut = mesh.devices.map((d) => vmHWM(d.process!.pid!));
    const cpuPut = mesh.devices.map((d, i) => cpuSeconds(d.process!.pid!) - cpu0[i]!);
    const splitPut = mesh.devices.map((d) => rssSplit(d.process!.pid!));

    const getHash = createHash('sha256');
    const get = fcp(mesh, ['get', r.id, '-o', '-', '--quiet'], ['ignore', 'pipe', 'inherit']);
    const getCpu = { s: 0 };
    const getPeak = watchPeak(get, getCpu);
    let got = 0;
    const t1 = performance.now();
    get.stdout!.on('data', (c: Buffer) => {
      got += c.length;
      getHash.update(c);
    });
    const getCode = await exited(get);
    const getMs = performance.now() - t1;
    if (getCode !== 0) throw new Error(`fcp get exited ${getCode}`);
    const same = got === size && getHash.digest('hex') === putHash.digest('hex');
    const afterGet = mesh.devices.map((d) => vmHWM(d.process!.pid!));
    const cpuGet = mesh.devices.map((d, i) => cpuSeconds(d.process!.pid!) - cpu0[i]! - cpuPut[i]!);
    const splitGet = mesh.devices.map((d) => rssSplit(d.process!.pid!));

    const limit = 300 * 2 ** 20;
    const rows: Array<[string, string, string]> = [
      [`put ${MiB(size)} MiB (${r.chunks} chunks)`, `${MBps(size, putMs)} MB/s`, Number(MBps(size, putMs)) >= 100 ? 'ok' : 'BELOW 100 MB/s'],
      [`get ${MiB(got)} MiB ${same ? 'byte-identical' : 'DIFFERENT'}`, `${MBps(got, getMs)} MB/s`, Number(MBps(got, getMs)) >= 200 ? 'ok' : 'BELOW 200 MB/s'],
      ['peak RSS fcp put (CLI)', `${MiB(putPeak())} MiB`, putPeak() < limit ? 'ok' : 'OVER 300 MiB'],
      ['peak RSS fcp get (CLI)', `${MiB(getPeak())} MiB`, getPeak() < limit ? 'ok' : 'OVER 300 MiB'],
      ...mesh.devices.map((d, i): [string, string, string] => [
        `peak RSS fcpd ${d.name} (after put / after get)`,
        `${MiB(afterPut[i]!)} / ${MiB(afterGet[i]!)} MiB`,
        afterGet[i]! < limit ? 'ok' : 'OVER 300 MiB',
      ]),
    ];
    const w = [Math.max(...rows.map((x) => x[0].length)), Math.max(...rows.map((x) => x[1].length))];
    console.log(`\nbench:large: one ${MiB(size)} MiB file through five fcpd daemons (zone ${ZONE}), CLI streaming stdin/stdout\n`);
    console.log(`${'what'.padEnd(w[0]!)}  ${'measured'.padEnd(w[1]!)}  target`);
    for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0]!)}  ${b.padEnd(w[1]!)}  ${c}`);
    console.log('\nresident now (anonymous + file-backed: node itself, LMDB index pages), after put / after get:');
    mesh.devices.forEach((d, i) => console.log(`  fcpd ${d.name.padEnd(11)} ${MiB(splitPut[i]!.anon)} + ${MiB(splitPut[i]!.file)} / ${MiB(splitGet[i]!.anon)} + ${MiB(splitGet[i]!.file)} MiB`));
    // CPU per GiB tells where the work goes on a machine whose wall clock is shared.
    const perGiB = (s: number) => (s / (size / 2 ** 30)).toFixed(1);
    console.log('\nCPU seconds per GiB, put / get (user + system):');
    console.log(`  fcp CLI           ${perGiB(putCpu.s)} / ${perGiB(getCpu.s)}`);
    mesh.devices.forEach((d, i) => console.log(`  fcpd ${d.name.padEnd(11)} ${perGiB(cpuPut[i]!)} / ${perGiB(cpuGet[i]!)}`));
    console.log(`  all fcpd          ${perGiB(cpuPut.reduce((a, b) => a + b, 0))} / ${perGiB(cpuGet.reduce((a, b) => a + b, 0))}`);
    if (!same) process.exitCode = 1;
  } finally {
    await mesh.stop();
  }
}

await main();
