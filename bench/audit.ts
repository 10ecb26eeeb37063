// npm run bench:audit — the audit log on this machine: appends per second, a checkpoint with two
// witnesses' cosignatures (sign, consistency proof, two cosigns), verifying a log of 100k events,
// and, as the reference in the same run, raw SHA-256 leaf hashing of the same entries.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function main(): void {
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

    const rows = [
      ['encode + leaf hash (reference)', `${(EVENTS / refSeconds).toFixed(0)} /s`, ''],
      ['append to the log', `${(EVENTS / appendSeconds).toFixed(0)} /s`, `${(refSeconds / appendSeconds * 100).toFixed(0)}% of reference`],
      ['checkpoint + 2 cosignatures', `p50 ${pct(cosignMs, 50).toFixed(2)} ms`, `p99 ${pct(cosignMs, 99).toFixed(2)} ms`],
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

main();
