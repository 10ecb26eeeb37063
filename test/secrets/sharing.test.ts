import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { recoverSecret, splitSecret, type SecretBinding, type ShareRecord } from '../../src/secrets/sharing.js';
import { generateBoxKeyPair, openSealed, sealTo } from '../../src/secrets/seal.js';

const binding: SecretBinding = { name: 'api/openai', zone: 'z:owner', k: 3, n: 5, version: 1 };

function copyShares(shares: ShareRecord[]): ShareRecord[] {
  return shares.map((s) => ({ index: s.index, share: s.share.slice(), tag: s.tag.slice() }));
}

test('any k of n shares rebuild the value and verify against the commitment', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.integer({ min: 2, max: 7 }),
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 1000 }),
      async (value, k, extra, seed) => {
        const n = k + extra;
        const b = { ...binding, k, n };
        const { commitment, shares } = await splitSecret(value, b);
        const start = seed % (n - k + 1);
        const picked = shares.slice(start, start + k);
        const result = await recoverSecret(picked, b, commitment);
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
  const { commitment, shares } = await splitSecret(value, binding);
  assert.equal(await recoverSecret(shares.slice(0, 2), binding, commitment), null);
});

test('a single share is not the value and differs between splits of the same value', async () => {
  const value = new TextEncoder().encode('sk-live-0123456789abcdef0123456789');
  const a = await splitSecret(value, binding);
  const b = await splitSecret(value, binding);
  for (const s of a.shares) assert.ok(!Buffer.from(s.share).includes(Buffer.from(value.subarray(0, 8))));
  assert.notDeepEqual(a.shares[0]!.share, b.shares[0]!.share);
  assert.notDeepEqual(a.commitment, b.commitment, 'commitment is keyed by a fresh key per split');
});

test('a tampered share among exactly k is detected, never returned as a wrong value', async () => {
  const value = new Uint8Array(randomBytes(48));
  const { commitment, shares } = await splitSecret(value, binding);
  const picked = copyShares(shares.slice(0, 3));
  picked[1]!.share[5]! ^= 0x01;
  assert.equal(await recoverSecret(picked, binding, commitment), null);
});

test('with k+1 shares one bad share is tolerated and named', async () => {
  const value = new Uint8Array(randomBytes(48));
  const { commitment, shares } = await splitSecret(value, binding);
  for (let bad = 0; bad < 4; bad++) {
    const picked = copyShares(shares.slice(0, 4));
    picked[bad]!.share[0]! ^= 0x80;
    const result = await recoverSecret(picked, binding, commitment);
    assert.ok(result, `recovers with share ${bad} bad`);
    assert.deepEqual(result.value, value);
    assert.deepEqual(result.badIndexes, [bad]);
  }
});

test('a swapped x coordinate or truncated share is detected', async () => {
  const value = new Uint8Array(randomBytes(16));
  const { commitment, shares } = await splitSecret(value, binding);
  const xSwapped = copyShares(shares.slice(0, 3));
  xSwapped[0]!.share[xSwapped[0]!.share.length - 1] = xSwapped[1]!.share[xSwapped[1]!.share.length - 1]!;
  assert.equal(await recoverSecret(xSwapped, binding, commitment), null);
  const truncated = copyShares(shares.slice(0, 3));
  truncated[2] = { ...truncated[2]!, share: truncated[2]!.share.subarray(1) };
  assert.equal(await recoverSecret(truncated, binding, commitment), null);
});

test('shares only verify under the binding they were made for', async () => {
  const value = new Uint8Array(randomBytes(16));
  const { commitment, shares } = await splitSecret(value, binding);
  assert.equal(await recoverSecret(shares.slice(0, 3), { ...binding, version: 2 }, commitment), null);
  assert.equal(await recoverSecret(shares.slice(0, 3), { ...binding, name: 'other' }, commitment), null);
  assert.equal(await recoverSecret(shares.slice(0, 3), { ...binding, zone: 'z:work' }, commitment), null);
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
  const lowOrder = sealed.slice();
  lowOrder.fill(0, 0, 32);
  assert.equal(openSealed(alice, lowOrder, aad), null);
  assert.throws(() => sealTo(new Uint8Array(32), plain, aad));
});
