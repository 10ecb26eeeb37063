// A device's audit log of a zone with two witnesses: a clean log verifies; an edited, removed,
// moved or cut entry is named by index; a log that shows a witness another history is a fork.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditError, ENTRIES_FILE, Witness, ZoneLog, leafHash, logOrigin, parseCheckpoint, parseNote, readRecords, verifyInclusion, verifyLogDir, type AuditEvent } from '../../src/audit/index.js';
import { generateNodeKeys } from '../../src/crypto/index.js';

const root = mkdtempSync(join(tmpdir(), 'fcp-audit-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const device = generateNodeKeys();
const origin = logOrigin('nLAPTOP1', 'z:owner');
const event = (i: number, principal = 'server (tag:fcp-owner)'): AuditEvent => ({ at: 1_800_000_000_000 + i, kind: 'authz.decision', zone: 'z:owner', principal, action: 'symbols.fetch', allow: i % 7 !== 0, subject: `object-${i}`, detail: { bytes: i * 10 } });

function witnesses(dir: string) {
  return [new Witness('fcp-mesh/witness/server', generateNodeKeys().signingSecretKey, join(dir, 'w-server.json')), new Witness('fcp-mesh/witness/desktop', generateNodeKeys().signingSecretKey, join(dir, 'w-desktop.json'))];
}

/** A log of `n` events with a checkpoint every 100, each cosigned by `ws`. */
function buildLog(dir: string, n: number, ws: Witness[], eventOf = event): ZoneLog {
  const log = ZoneLog.open(dir, origin, device.signingSecretKey);
  for (let i = 0; i < n; i++) {
    log.append(eventOf(i));
    if ((i + 1) % 100 === 0) {
      const note = log.checkpoint();
      log.addCosignatures(log.size, ws.map((w) => w.cosign(note, log.key, log.consistencyProof(w.last(origin)?.size ?? 0), 1_800_000_000)));
    }
  }
  return log;
}

const base = join(root, 'clean');
const ws = witnesses(root);
const log = buildLog(base, 300, ws);
const verifyDir = (dir: string, views: Array<{ witness: string; note: string }> = []) =>
  verifyLogDir({ dir, origin, logKey: log.key, witnesses: ws.map((w) => w.key), minWitnesses: 2, witnessViews: views });

/** One record of the entries file: a 4-byte big-endian length, then the entry. */
function frame(r: Uint8Array): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(r.length);
  return Buffer.concat([head, r]);
}

/** A copy of the clean log whose entries file is changed by `edit`. */
function tampered(name: string, edit: (records: Uint8Array[]) => Uint8Array[]): string {
  const dir = join(root, name);
  cpSync(base, dir, { recursive: true });
  const { records } = readRecords(new Uint8Array(readFileSync(join(dir, ENTRIES_FILE))));
  const out = edit(records.map((r) => r.slice()));
  writeFileSync(join(dir, ENTRIES_FILE), Buffer.concat(out.map(frame)));
  return dir;
}

test('a clean log verifies with both witnesses, and an event\'s inclusion proof holds', () => {
  const report = verifyDir(base);
  assert.deepEqual(report.problems, []);
  assert.equal(report.entries, 300);
  assert.equal(report.checkpoints, 3);
  const cp = parseCheckpoint(parseNote(log.checkpointAt(300)).text);
  const { records } = readRecords(new Uint8Array(readFileSync(join(base, ENTRIES_FILE))));
  verifyInclusion(150, 300, leafHash(records[150]!), log.inclusionProof(150, 300), cp.root);
});

test('an edited entry is named by its index', () => {
  const dir = tampered('edited', (rs) => {
    const at = Buffer.from(rs[123]!).indexOf('server');
    rs[123]![at] = 'S'.charCodeAt(0);
    return rs;
  });
  const p = verifyDir(dir).problems;
  assert.ok(p.some((x) => x.kind === 'entry-changed' && x.index === 123), JSON.stringify(p));
  assert.ok(p.some((x) => x.kind === 'checkpoint-mismatch'));
});

test('a removed entry, two swapped entries and a cut log are each named', () => {
  const removed = verifyDir(tampered('removed', (rs) => rs.filter((_, i) => i !== 50))).problems;
  assert.ok(removed.some((x) => x.kind === 'entry-missing' && x.index === 50), JSON.stringify(removed));
  const swapped = verifyDir(tampered('swapped', (rs) => [...rs.slice(0, 10), rs[11]!, rs[10]!, ...rs.slice(12)])).problems;
  assert.ok(swapped.some((x) => x.index === 10), JSON.stringify(swapped));
  const cut = join(root, 'cut');
  cpSync(base, cut, { recursive: true });
  const { records } = readRecords(new Uint8Array(readFileSync(join(cut, ENTRIES_FILE))));
  truncateSync(join(cut, ENTRIES_FILE), records.slice(0, 250).reduce((n, r) => n + 4 + r.length, 0));
  const p = verifyDir(cut).problems;
  assert.ok(p.some((x) => x.kind === 'entries-cut' && x.index === 250), JSON.stringify(p));
});

test('a changed last entry is caught by the checkpoint that covers it', () => {
  const p = verifyDir(tampered('last', (rs) => {
    rs[299]![rs[299]!.length - 1]! ^= 1;
    return rs;
  })).problems;
  assert.ok(p.some((x) => x.kind === 'checkpoint-mismatch' && x.index === 200) || p.some((x) => x.kind === 'entry-damaged' && x.index === 299), JSON.stringify(p));
});

test('a log showing a witness another history: the honest witness refuses it, verify names the fork', () => {
  const dir = join(root, 'fork');
  const wsFork = witnesses(mkdtempSync(join(root, 'fork-witnesses-')));
  const [honest, fooled] = [ws[0]!, wsFork[1]!];
  // The same first 200 events, then other ones, signed with the same device key.
  const forked = buildLog(dir, 300, [], (i) => (i < 200 ? event(i) : event(i, 'someone else')));
  const forkNote = forked.checkpointAt(300);
  assert.throws(() => honest.cosign(forkNote, forked.key, forked.consistencyProof(200), 1_800_000_001), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_FORK');
  fooled.cosign(forkNote, forked.key, [], 1_800_000_001);
  const p = verifyDir(base, [{ witness: 'desktop', note: forkNote }]).problems;
  assert.ok(p.some((x) => x.kind === 'fork' && x.index === 300 && x.detail.includes('desktop')), JSON.stringify(p));
  assert.throws(() => honest.cosign(log.checkpointAt(200), log.key, [], 1_800_000_002), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_ROLLBACK');
});

test('a reopened log carries on; a damaged entries file is refused, not appended to', () => {
  const dir = join(root, 'reopen');
  buildLog(dir, 100, []).close();
  const again = ZoneLog.open(dir, origin, device.signingSecretKey);
  assert.equal(again.size, 100);
  again.append(event(100));
  again.checkpoint();
  again.close();
  assert.deepEqual(verifyLogDir({ dir, origin, logKey: log.key, witnesses: [], minWitnesses: 0 }).problems, []);
  const { records } = readRecords(new Uint8Array(readFileSync(join(dir, ENTRIES_FILE))));
  truncateSync(join(dir, ENTRIES_FILE), records.slice(0, 50).reduce((n, r) => n + 4 + r.length, 0) + 3);
  assert.throws(() => ZoneLog.open(dir, origin, device.signingSecretKey), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_LOG_CORRUPT');
});
