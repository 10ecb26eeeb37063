// The Pedersen DKG of FROST (KeyGen, Komlo–Goldberg §5.1) as pure functions: three participants
// make a 2-of-3 key no one holds, any two sign with RFC 9591's rounds, and plain Ed25519 accepts
// the result; a bad proof or a bad share is pinned on its sender.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  DkgCheatError,
  dkgFinish,
  dkgPublicShare,
  dkgRound1,
  dkgShareFor,
  frostAggregate,
  frostCommit,
  frostSignShare,
  frostVerifyShare,
  verifyDkgPackage,
} from '../../src/crypto/index.js';

const CONTEXT = new TextEncoder().encode('test ceremony');

function ceremony(n: number, k: number) {
  const r1 = Array.from({ length: n }, (_, i) => dkgRound1(i + 1, k, CONTEXT));
  const pkgs = r1.map((r) => r.pkg);
  const shares = (to: number) => new Map(r1.map((r) => [r.pkg.identifier, dkgShareFor(r.secret, to)]));
  return { r1, pkgs, shares };
}

test('a 2-of-3 key without a dealer: any two sign a plain Ed25519 signature', () => {
  const { pkgs, shares } = ceremony(3, 2);
  const keys = [1, 2, 3].map((i) => dkgFinish(i, 2, CONTEXT, pkgs, shares(i)));
  for (const key of keys) {
    assert.deepEqual(key.groupPublicKey, keys[0]!.groupPublicKey);
    assert.deepEqual(key.publicShare, dkgPublicShare(pkgs, key.identifier));
  }
  const message = new TextEncoder().encode('grant');
  for (const pair of [[0, 1], [1, 2], [0, 2]]) {
    const signers = pair.map((i) => keys[i]!);
    const rounds = signers.map((s) => frostCommit(s));
    const commitments = rounds.map((r) => r.commitment);
    const z = new Map(signers.map((s, i) => [s.identifier, frostSignShare(s, rounds[i]!.nonces, commitments, message)]));
    for (const s of signers) assert.equal(frostVerifyShare(s.identifier, s.publicShare, z.get(s.identifier)!, commitments, s.groupPublicKey, message), true);
    assert.equal(ed25519.verify(frostAggregate(commitments, z, keys[0]!.groupPublicKey, message), message, keys[0]!.groupPublicKey), true);
  }
});

test('a share that does not match its commitments names its sender', () => {
  const { pkgs, shares } = ceremony(3, 2);
  const got = shares(1);
  got.set(3, got.get(3)! + 1n);
  assert.throws(() => dkgFinish(1, 2, CONTEXT, pkgs, got), (e) => e instanceof DkgCheatError && e.cheater === 3);
});

test('a proof of knowledge for another ceremony or another constant does not verify', () => {
  const { pkgs, shares } = ceremony(3, 2);
  assert.equal(verifyDkgPackage(pkgs[1]!, 2, CONTEXT), true);
  assert.equal(verifyDkgPackage(pkgs[1]!, 2, new TextEncoder().encode('other')), false);
  const swapped = { ...pkgs[1]!, commitments: [pkgs[0]!.commitments[0]!, pkgs[1]!.commitments[1]!] };
  assert.equal(verifyDkgPackage(swapped, 2, CONTEXT), false);
  assert.throws(() => dkgFinish(1, 2, CONTEXT, [pkgs[0]!, swapped, pkgs[2]!], shares(1)), (e) => e instanceof DkgCheatError && e.cheater === 2);
});
