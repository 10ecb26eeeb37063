// Shamir k-of-n with share integrity: any k rebuild, k-1 do not, bad shares are detected and skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { combine, combineWithReport, split } from '../../src/crypto/index.js';

const secret = new Uint8Array(randomBytes(48));

test('any k of n shares rebuild the secret; each share alone reveals nothing of it', async () => {
  const shares = await split(secret, 5, 3);
  assert.equal(shares.length, 5);
  for (const pick of [[0, 1, 2], [2, 3, 4], [0, 2, 4], [4, 1, 3]]) {
    assert.deepEqual(await combine(pick.map((i) => shares[i]!)), secret);
  }
  assert.deepEqual(await combine(shares), secret);
  for (const s of shares) assert.equal(Buffer.from(s).includes(Buffer.from(secret.subarray(0, 8))), false);
});

test('k-1 shares are refused with CRYPTO_SHARES_INSUFFICIENT', async () => {
  const shares = await split(secret, 5, 3);
  await assert.rejects(combine(shares.slice(0, 2)), { code: 'CRYPTO_SHARES_INSUFFICIENT' });
  await assert.rejects(combine([]), { code: 'CRYPTO_SHARES_INSUFFICIENT' });
});

test('a tampered share among exactly k is detected (CRYPTO_SHARES_INCONSISTENT), never a wrong secret', async () => {
  const shares = await split(secret, 4, 3);
  const bad = new Uint8Array(shares[1]!);
  bad[bad.length - 5]! ^= 0x40;
  await assert.rejects(combine([shares[0]!, bad, shares[2]!]), { code: 'CRYPTO_SHARES_INCONSISTENT' });
});

test('with more than k shares, recovery succeeds and reports the tampered, malformed and foreign ones', async () => {
  const shares = await split(secret, 5, 3);
  const tampered = new Uint8Array(shares[0]!);
  tampered[tampered.length - 3]! ^= 0x01;
  const foreign = (await split(new Uint8Array(randomBytes(48)), 5, 3))[3]!;
  const input = [tampered, shares[1]!, new Uint8Array([1, 2, 3]), shares[2]!, foreign, shares[3]!];
  const report = await combineWithReport(input);
  assert.deepEqual(report.secret, secret);
  assert.deepEqual(report.badShares, [0, 2, 4]);
  // A forged authenticator alone (share data intact) is also reported.
  const badTag = new Uint8Array(shares[4]!);
  badTag[70]! ^= 0xff;
  const r2 = await combineWithReport([shares[1]!, badTag, shares[2]!, shares[3]!]);
  assert.deepEqual(r2.secret, secret);
  assert.deepEqual(r2.badShares, [1]);
});

test('invalid split parameters give CRYPTO_BAD_INPUT', async () => {
  await assert.rejects(split(new Uint8Array(0), 3, 2), { code: 'CRYPTO_BAD_INPUT' });
  await assert.rejects(split(secret, 2, 3), { code: 'CRYPTO_BAD_INPUT' });
  await assert.rejects(split(secret, 3, 1), { code: 'CRYPTO_BAD_INPUT' });
  await assert.rejects(split(secret, 256, 2), { code: 'CRYPTO_BAD_INPUT' });
});
