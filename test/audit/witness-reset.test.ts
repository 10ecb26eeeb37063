// A witness keys what it remembers by (origin, log key): a reset device's log under a new key is a
// new log once that key is the device's trusted node key; the same key going back is still a
// rollback; the old log stays, retired, its checkpoints verifying with the old key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditError, Witness, ZoneLog, crossCheckViews, logOrigin, parseCheckpoint, parseNote, type AuditEvent } from '../../src/audit/index.js';
import { generateNodeKeys } from '../../src/crypto/index.js';

const root = mkdtempSync(join(tmpdir(), 'fcp-witness-reset-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const origin = logOrigin('nSERVER1', 'z:owner');
const event = (i: number): AuditEvent => ({ at: 1_800_000_000_000 + i, kind: 'authz.decision', zone: 'z:owner', principal: 'laptop', action: 'symbols.fetch', allow: true, subject: `o-${i}` });
const isCode = (c: string) => (e: unknown) => e instanceof AuditError && e.code === c;

function grow(log: ZoneLog, w: Witness, n: number, deviceKey?: Uint8Array) {
  for (let i = 0; i < n; i++) log.append(event(log.size));
  const note = log.checkpoint();
  return w.cosign(note, log.key, log.consistencyProof(w.last(origin, log.key)?.size ?? 0), 1_800_000_000, undefined, deviceKey);
}

test('a reset device: new key trusted -> a new log; same key back -> rollback; old log retired and verifiable', () => {
  const w = new Witness('fcp-witness/nLAPTOP1', generateNodeKeys().signingSecretKey, join(root, 'w.json'));
  const oldKeys = generateNodeKeys();
  const old = ZoneLog.open(join(root, 'old'), origin, oldKeys.signingSecretKey);
  grow(old, w, 20, oldKeys.signingPublicKey);
  const oldNote = old.checkpointAt(20);

  // Reset: a new data dir, a new key, the log starts again at the same origin.
  const newKeys = generateNodeKeys();
  const fresh = ZoneLog.open(join(root, 'new'), origin, newKeys.signingSecretKey);
  for (let i = 0; i < 3; i++) fresh.append(event(i));
  const freshNote = fresh.checkpoint();
  assert.equal(w.last(origin, fresh.key), undefined, 'nothing cosigned yet of the log under the new key');
  assert.throws(() => w.cosign(freshNote, fresh.key, [], 1_800_000_001, undefined, oldKeys.signingPublicKey), isCode('AUDIT_BAD_KEY'), 'not while the device is still trusted under its old key');
  assert.throws(() => w.cosign(freshNote, fresh.key, [], 1_800_000_001), isCode('AUDIT_BAD_KEY'), 'nor when the device key is not known');
  assert.equal(w.last(origin)?.size, 20, 'the old log is untouched by the refusals');

  // The owner trusts the new key (the pin is the new key): a new log.
  w.cosign(freshNote, fresh.key, [], 1_800_000_002, undefined, newKeys.signingPublicKey);
  assert.equal(w.last(origin, fresh.key)?.size, 3);
  grow(fresh, w, 5, newKeys.signingPublicKey);
  assert.equal(w.last(origin, fresh.key)?.size, 8);

  // Rollback and fork detection are intact for the new key...
  assert.throws(() => w.cosign(fresh.checkpointAt(3), fresh.key, [], 1_800_000_003, undefined, newKeys.signingPublicKey), isCode('AUDIT_ROLLBACK'));
  // ...and the old key may sign nothing more.
  for (let i = 0; i < 5; i++) old.append(event(100 + i));
  const oldAgain = old.checkpoint();
  assert.throws(() => w.cosign(oldAgain, old.key, old.consistencyProof(20), 1_800_000_004, undefined, newKeys.signingPublicKey), isCode('AUDIT_BAD_KEY'));

  const views = w.views(() => true);
  assert.equal(views.length, 2);
  const retired = views.find((v) => v.retired)!;
  assert.equal(retired.note.split('\n\n')[0], oldNote.split('\n\n')[0], 'the old log\'s last cosigned checkpoint is kept');
  assert.equal(parseCheckpoint(parseNote(retired.note).text).size, 20);
  assert.deepEqual(crossCheckViews(origin, old.key, [{ witness: w.name, note: retired.note }]), [], 'and verifies with the old key');
  assert.equal(views.find((v) => !v.retired)!.key !== retired.key, true);

  // Kept across a restart of the witness.
  w.flush();
  const again = new Witness('fcp-witness/nLAPTOP1', generateNodeKeys().signingSecretKey, join(root, 'w.json'));
  assert.equal(again.views(() => true).filter((v) => v.retired).length, 1);
});

test('first sight of a log under another key than the device\'s trusted one is refused', () => {
  const w = new Witness('fcp-witness/nDESKTOP', generateNodeKeys().signingSecretKey, join(root, 'w2.json'));
  const device = generateNodeKeys();
  const other = generateNodeKeys();
  const log = ZoneLog.open(join(root, 'other'), origin, other.signingSecretKey);
  log.append(event(0));
  assert.throws(() => w.cosign(log.checkpoint(), log.key, [], 1_800_000_000, undefined, device.signingPublicKey), isCode('AUDIT_BAD_KEY'));
});
