// Revocations: an owner-signed, hash-linked chain; lookups, duplicates, gaps, forks, forgeries,
// and the freshness rule for risky operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RevocationError, RevocationList, type RevocationErrorCode } from '../../src/authz/index.js';
import { generateNodeKeys } from '../../src/crypto/index.js';

const owner = generateNodeKeys();
const isCode = (code: RevocationErrorCode) => (e: unknown) => e instanceof RevocationError && e.code === code;

test('revocations chain in order; a lookup finds them; a device catching up gets the same set', () => {
  const laptop = new RevocationList(owner.signingPublicKey);
  const r1 = laptop.mint('token', ['aa11'], 'lost phone', owner.signingSecretKey);
  assert.ok(laptop.add(r1));
  const r2 = laptop.mint('device', ['nPHONE'], 'lost phone', owner.signingSecretKey);
  assert.ok(laptop.add(r2));
  assert.equal(laptop.head.seq, 2);
  assert.ok(laptop.isRevoked('token', 'aa11'));
  assert.ok(laptop.isRevoked('device', 'nPHONE'));
  assert.equal(laptop.isRevoked('token', 'nPHONE'), false);
  const server = new RevocationList(owner.signingPublicKey);
  for (const e of laptop.since(server.head.seq)) server.add(e);
  assert.deepEqual(server.head, laptop.head);
  assert.equal(server.add(r1), false, 'an event already held is ignored');
});

test('gaps, forks and forgeries are refused and leave the list as it was', () => {
  const a = new RevocationList(owner.signingPublicKey);
  const r1 = a.mint('token', ['01'], '', owner.signingSecretKey);
  a.add(r1);
  const r2 = a.mint('token', ['02'], '', owner.signingSecretKey);
  a.add(r2);
  const b = new RevocationList(owner.signingPublicKey);
  assert.throws(() => b.add(r2), isCode('REVOCATION_GAP'));
  b.add(r1);
  const other = b.mint('token', ['03'], 'other', owner.signingSecretKey);
  assert.throws(() => a.add(other), isCode('REVOCATION_FORK'));
  const intruder = generateNodeKeys();
  const forged = new RevocationList(intruder.signingPublicKey).mint('token', ['04'], '', intruder.signingSecretKey);
  assert.throws(() => b.add(forged), isCode('REVOCATION_BAD_EVENT'));
  assert.throws(() => b.add(Uint8Array.of(1, 2, 3)), isCode('REVOCATION_BAD_EVENT'));
  assert.equal(b.head.seq, 1);
  assert.equal(b.isRevoked('token', '04'), false);
});

test('a head not confirmed lately refuses risky and dangerous operations, lets safe ones run degraded', () => {
  let now = 0;
  const list = new RevocationList(owner.signingPublicKey, { maxAgeMs: 300_000 }, () => now);
  assert.throws(() => list.requireFresh('risky'), isCode('FCP_ERR_CHECKPOINT_STALE'));
  assert.deepEqual(list.requireFresh('safe'), { degraded: true });
  list.confirm();
  now = 299_000;
  assert.deepEqual(list.requireFresh('dangerous'), { degraded: false });
  now = 301_000;
  assert.throws(() => list.requireFresh('dangerous'), /301 s old/);
});
