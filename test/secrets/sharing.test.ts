import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { recoverSecret, splitSecret, type SecretBinding, type ShareRecord } from '../../src/secrets/sharing.js';
import { generateBoxKeyPair, openSealed, sealTo } from '../../src/secrets/seal.js';

const binding: SecretBinding = {
  name: 'api/openai',
  zone: 'z:owner',
  k: 3,
  n: 5,
  version: 1,
  splitId: new Uint8Array(32).fill(7),
};

/** Offset of the first y value in a crypto-layer share (header 67 + authenticator 16). */
const Y_OFFSET = 83;

function copyShares(shares: ShareRecord[]): ShareRecord[] {
  return shares.map((s) => ({ index: s.index, share: s.share.slice() }));
}

test('any k of n shares rebuild the value', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.integer({ min: 2, max: 7 }),
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 1000 }),
      async (value, k, extra, seed) => {
        const n = k + extra;
        const b = { ...binding, k, n };
        const shares = await splitSecret(value, b);
        assert.equal(shares.length, n);
        const start = seed % (n - k + 1);
        const result = await recoverSecret(shares.slice(start, start + k), b);
        assert.ok(result);
        assert.deepEqual(result.value, value);
        assert.deepEqual(result.badIndexes, []);
      },
    ),
    { numRuns: 40 },
  );
});

test('k-1 shares rebuild nothing', async () => {
  const value = new Uint8Array(randomBytes(32));
  const shares = await splitSecret(value, binding);
  assert.equal(await recoverSecret(shares.slice(0, 2), binding), null);
});

test('no share contains the value, and two splits of one value share nothing', async () => {
  const value = new TextEncoder().encode('sk-live-0123456789abcdef0123456789');
  const a = await splitSecret(value, binding);
  const b = await splitSecret(value, binding);
  for (const s of a) assert.ok(!Buffer.from(s.share).includes(Buffer.from(value.subarray(0, 8))));
  assert.notDeepEqual(a[0]!.share, b[0]!.share);
});

test('a tampered share among exactly k is detected, never returned as a wrong value', async () => {
  const value = new Uint8Array(randomBytes(48));
  const shares = await splitSecret(value, binding);
  const picked = copyShares(shares.slice(0, 3));
  picked[1]!.share[Y_OFFSET + 5]! ^= 0x01;
  assert.equal(await recoverSecret(picked, binding), null);
});

test('with k+1 shares one bad share is tolerated and named', async () => {
  const value = new Uint8Array(randomBytes(48));
  const shares = await splitSecret(value, binding);
  for (let bad = 0; bad < 4; bad++) {
    const picked = copyShares(shares.slice(0, 4));
    picked[bad]!.share[Y_OFFSET]! ^= 0x80;
    const result = await recoverSecret(picked, binding);
    assert.ok(result, `recovers with share ${bad} bad`);
    assert.deepEqual(result.value, value);
    assert.deepEqual(result.badIndexes, [picked[bad]!.index]);
  }
});

test('a changed x coordinate or truncated share is detected', async () => {
  const value = new Uint8Array(randomBytes(16));
  const shares = await splitSecret(value, binding);
  const xChanged = copyShares(shares.slice(0, 3));
  const last = xChanged[0]!.share.length - 1;
  xChanged[0]!.share[last] = xChanged[0]!.share[last]! ^ 0x01 || 0x02;
  assert.equal(await recoverSecret(xChanged, binding), null);
  const truncated = copyShares(shares.slice(0, 3));
  truncated[2] = { index: 2, share: truncated[2]!.share.subarray(1) };
  assert.equal(await recoverSecret(truncated, binding), null);
});

test('shares only rebuild under the binding they were made for', async () => {
  const value = new Uint8Array(randomBytes(16));
  const shares = await splitSecret(value, binding);
  const three = shares.slice(0, 3);
  assert.ok(await recoverSecret(three, binding));
  assert.equal(await recoverSecret(three, { ...binding, version: 2 }), null);
  assert.equal(await recoverSecret(three, { ...binding, name: 'other' }), null);
  assert.equal(await recoverSecret(three, { ...binding, zone: 'z:work' }), null);
  assert.equal(await recoverSecret(three, { ...binding, splitId: new Uint8Array(32) }), null);
});

test('shares of two splits do not mix', async () => {
  const value = new Uint8Array(randomBytes(16));
  const a = await splitSecret(value, binding);
  const b = await splitSecret(value, binding);
  assert.equal(await recoverSecret([a[0]!, a[1]!, b[2]!], binding), null);
  const result = await recoverSecret([a[0]!, b[2]!, a[1]!, a[3]!], binding);
  assert.ok(result);
  assert.deepEqual(result.value, value);
  assert.deepEqual(result.badIndexes, [2]);
});

test('splitting leaves the caller value untouched', async () => {
  const value = new Uint8Array(randomBytes(24));
  const copy = value.slice();
  await splitSecret(value, binding);
  assert.deepEqual(value, copy);
});

test('sealed boxes open only with the right key and associated data', () => {
  const alice = generateBoxKeyPair();
  const bob = generateBoxKeyPair();
  const aad = new TextEncoder().encode('share 1');
  const plain = new Uint8Array(randomBytes(40));
  const sealed = sealTo(alice.publicKey, plain, aad);
  assert.deepEqual(openSealed(alice, sealed, aad), plain);
  assert.equal(openSealed(bob, sealed, aad), null);
  assert.equal(openSealed(alice, sealed, new TextEncoder().encode('share 2')), null);
  const flipped = sealed.slice();
  flipped[flipped.length - 20]! ^= 1;
  assert.equal(openSealed(alice, flipped, aad), null);
  assert.equal(openSealed(alice, sealed.subarray(0, 40), aad), null);
  assert.throws(() => sealTo(new Uint8Array(32), plain, aad));
});
