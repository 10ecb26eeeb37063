// npm run bench:audit — the audit log on this machine: appends per second, a checkpoint with two
// witnesses' cosignatures (sign, consistency proof, two cosigns) in process and over real FCP
// between three devices (in one process, TCP on loopback, with and without archiving the log in
// the mesh), verifying a log of 100k events, and, as the reference in the same run, raw SHA-256
// leaf hashing of the same entries.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generateZoneKey } from '../src/crypto/index.js';
import { Keyring } from '../src/mesh/index.js';
import { SovereignMesh } from '../src/sovereign-mesh.js';
import { MemorySymbolStore } from '../src/store/index.js';
import { startDevTailnet } from '../src/tailscale/emulator/index.js';
import { ZoneRegistry } from '../src/zones/index.js';
import { Witness, ZoneLog, leafHash, logOrigin, verifyLogDir, type AuditEvent } from '../src/audit/index.js';
import { encodeEntry } from '../src/audit/event.js';
import { generateNodeKeys } from '../src/crypto/index.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const CHECKPOINTS = 200;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const event = (i: number): AuditEvent => ({ at: 1_800_000_000_000 + i, kind: 'authz.decision', zone: 'z:owner', principal: 'server (tag:fcp-owner)', action: 'symbols.fetch', allow: true, subject: `object-${i}`, detail: { bytes: i } });

const FCP_ROUNDS = Number(process.env.BENCH_FCP_ROUNDS ?? 100);

/** Checkpoint + cosignatures of two witnesses over FCP: ms per round, from the event to the cosigned note. */
async function overFcp(archive: boolean, subnet: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-bench-audit-fcp-'));
  const names = ['laptop', 'server', 'desktop'];
  const tailnet = await startDevTailnet(
    { tailnet: 'bench.example', nodes: names.map((name, i) => ({ name, tags: ['tag:fcp-owner'], address: `127.77.${subnet}.${i + 1}`, path: 'direct' as const })) },
    { dir: join(dir, 'ts') },
  );
  const meshes: SovereignMesh[] = [];
  try {
    const zones = ZoneRegistry.builtin();
    const keys = zones.all().map((z) => generateZoneKey(z.id));
    for (const name of names) {
      await Keyring.init(join(dir, name));
      const kr = await Keyring.load(join(dir, name));
      for (const k of keys) await kr.saveZoneKey(k);
    }
    for (const name of names) {
      meshes.push(
        await SovereignMesh.init({
          dataDir: join(dir, name),
          tailscaleSocket: tailnet.device(name).socketPath,
          store: new MemorySymbolStore(),
          logger: pino({ level: 'silent' }),
          repair: { intervalMs: 0, scrubIntervalMs: 0 },
          secretsRestoreIntervalMs: 0,
          names: { gcIntervalMs: 0 },
          audit: { archive },
        }),
      );
    }
    const laptop = meshes[0]!;
    // Wait (bounded) until laptop sees both witnesses.
    for (let i = 0; i < 100 && laptop.node.eligibility.members().filter((m) => m.peer.online).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const ms: number[] = [];
    for (let r = 0; r < FCP_ROUNDS; r++) {
      for (let i = 0; i < 10; i++) laptop.recorder.note({ kind: 'bench.event', zone: 'z:owner', principal: 'bench', subject: `event-${r}-${i}` });
      const t = performance.now();
      await laptop.recorder.settle();
      ms.push(performance.now() - t);
    }
    return ms;
  } finally {
    for (const m of meshes) await m.close();
    await tailnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-bench-audit-'));
  try {
    const keys = generateNodeKeys();
    const origin = logOrigin('nBENCH', 'z:owner');
    const log = ZoneLog.open(join(dir, 'log'), origin, keys.signingSecretKey);
    const witnesses = ['server', 'desktop'].map((n) => new Witness(`fcp-mesh/witness/${n}`, generateNodeKeys().signingSecretKey, join(dir, `${n}.json`)));

    // Reference: encoding and leaf-hashing the same entries, no file, no tree.
    let t0 = performance.now();
    const prev = new Uint8Array(32);
    for (let i = 0; i < EVENTS; i++) leafHash(encodeEntry({ seq: i, prev, event: event(i) }));
    const refSeconds = (performance.now() - t0) / 1000;

    t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) log.append(event(i));
    const appendSeconds = (performance.now() - t0) / 1000;

    const cosignMs: number[] = [];
    for (let c = 0; c < CHECKPOINTS; c++) {
      for (let i = 0; i < 10; i++) log.append(event(EVENTS + c * 10 + i));
      const t = performance.now();
      const note = log.checkpoint();
      log.addCosignatures(log.size, witnesses.map((w) => w.cosign(note, log.key, log.consistencyProof(w.last(origin)?.size || log.size), Math.floor(Date.now() / 1000))));
      cosignMs.push(performance.now() - t);
    }
    log.close();

    t0 = performance.now();
    const report = verifyLogDir({ dir: join(dir, 'log'), origin, logKey: log.key, witnesses: witnesses.map((w) => w.key), minWitnesses: 2 });
    const verifySeconds = (performance.now() - t0) / 1000;
    if (report.problems.length > 0) throw new Error(`verify found problems: ${JSON.stringify(report.problems.slice(0, 3))}`);

    const fcpMs = await overFcp(false, 111);
    const fcpArchiveMs = await overFcp(true, 112);
    const rows = [
      ['encode + leaf hash (reference)', `${(EVENTS / refSeconds).toFixed(0)} /s`, ''],
      ['append to the log', `${(EVENTS / appendSeconds).toFixed(0)} /s`, `${(refSeconds / appendSeconds * 100).toFixed(0)}% of reference`],
      ['checkpoint + 2 cosignatures (in process)', `p50 ${pct(cosignMs, 50).toFixed(2)} ms`, `p99 ${pct(cosignMs, 99).toFixed(2)} ms`],
      ['checkpoint + 2 cosignatures over FCP', `p50 ${pct(fcpMs, 50).toFixed(2)} ms`, `p99 ${pct(fcpMs, 99).toFixed(2)} ms`],
      ['  the same, archived in the mesh first', `p50 ${pct(fcpArchiveMs, 50).toFixed(2)} ms`, `p99 ${pct(fcpArchiveMs, 99).toFixed(2)} ms`],
      [`verify ${report.entries} events, ${report.checkpoints} checkpoints`, `${verifySeconds.toFixed(2)} s`, `${(report.entries / verifySeconds).toFixed(0)} events/s`],
    ];
    const w = [Math.max(...rows.map((r) => r[0]!.length)), Math.max(...rows.map((r) => r[1]!.length)), Math.max(...rows.map((r) => r[2]!.length))];
    console.log(`| ${'measure'.padEnd(w[0]!)} | ${'result'.padEnd(w[1]!)} | ${''.padEnd(w[2]!)} |`);
    console.log(`|${'-'.repeat(w[0]! + 2)}|${'-'.repeat(w[1]! + 2)}|${'-'.repeat(w[2]! + 2)}|`);
    for (const r of rows) console.log(`| ${r[0]!.padEnd(w[0]!)} | ${r[1]!.padEnd(w[1]!)} | ${r[2]!.padEnd(w[2]!)} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
