// Hub records are signed by their writer and refused when tampered with; heads move forward
// only, and a state write under a stale lease sequence is refused (fencing, FCP V2 §10.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateNodeKeys } from '../../src/crypto/index.js';
import { decodeRecord, encodeRecord, HeadTable, newestHead, stateKey, type HubRecord } from '../../src/hub/state.js';

const keys = generateNodeKeys();
const other = generateNodeKeys();
const rec = (seq: number): HubRecord => ({ kind: 'state', key: stateKey('mail'), seq, leaseSeq: 2, body: { cursor: seq, seen: ['m1'] }, writer: 'nA', writerKey: keys.signingPublicKey, at: 1700000000000 });

test('a record round-trips with its signature; tampering or a wrong key is HUB_STATE_DAMAGED', () => {
  const bytes = encodeRecord(rec(3), keys.signingSecretKey);
  const back = decodeRecord(bytes, (w) => (w === 'nA' ? keys.signingPublicKey : undefined));
  assert.deepEqual(back.body, { cursor: 3, seen: ['m1'] });
  assert.equal(back.leaseSeq, 2);
  const flipped = new Uint8Array(bytes);
  flipped[flipped.length - 70] ^= 1;
  assert.throws(() => decodeRecord(flipped), (e: Error & { code?: string }) => e.code === 'HUB_STATE_DAMAGED');
  assert.throws(() => decodeRecord(bytes, () => other.signingPublicKey), /key nA does not have/);
  assert.throws(() => decodeRecord(new Uint8Array([1, 2, 3])), (e: Error & { code?: string }) => e.code === 'HUB_STATE_DAMAGED');
  // Signed with another key than the one it names.
  const forged = encodeRecord({ ...rec(3), writerKey: keys.signingPublicKey }, other.signingSecretKey);
  assert.throws(() => decodeRecord(forged), /bad signature/);
});

test('heads move forward only; a stale lease sequence is refused; retries are accepted', () => {
  let highest = 2;
  const t = new HeadTable(null, () => highest);
  const a = 'aa'.repeat(32);
  const b = 'bb'.repeat(32);
  t.commit(stateKey('mail'), { seq: 1, objectId: a, leaseSeq: 2 });
  t.commit(stateKey('mail'), { seq: 1, objectId: a, leaseSeq: 2 }); // retried
  assert.throws(() => t.commit(stateKey('mail'), { seq: 1, objectId: b, leaseSeq: 2 }), (e: Error & { code?: string }) => e.code === 'HUB_HEAD_CONFLICT');
  highest = 3; // another device was granted lease 3
  assert.throws(() => t.commit(stateKey('mail'), { seq: 2, objectId: b, leaseSeq: 2 }), (e: Error & { code?: string }) => e.code === 'HUB_LEASE_STALE');
  assert.throws(() => t.commit(stateKey('mail'), { seq: 2, objectId: b }), (e: Error & { code?: string }) => e.code === 'HUB_LEASE_STALE');
  t.commit(stateKey('mail'), { seq: 2, objectId: b, leaseSeq: 3 });
  assert.deepEqual(t.get(stateKey('mail')), { seq: 2, objectId: b, leaseSeq: 3 });
  // Registry heads are not fenced by a lease.
  t.commit('registry/z:private', { seq: 1, objectId: a });
  assert.equal(newestHead([undefined, { seq: 1, objectId: a }, { seq: 2, objectId: a }, { seq: 2, objectId: b }])?.objectId, b);
  assert.equal(newestHead([undefined]), undefined);
});
