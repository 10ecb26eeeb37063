// FROST(Ed25519, SHA-512) against RFC 9591 Appendix E.1 (the same vectors ZcashFoundation/frost
// tests with), and threshold properties: any k of n sign a plain Ed25519 signature; k-1 cannot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CryptoError,
  frostAggregate,
  frostBindingFactors,
  frostCommit,
  frostDeserializeScalar,
  frostNonceGenerate,
  frostSerializeScalar,
  frostSignShare,
  frostSplitKey,
  frostVerifyShare,
  verify,
  type FrostCommitment,
  type FrostKeyShare,
} from '../../src/crypto/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const scalar = (s: string): bigint => frostDeserializeScalar(hex(s));

const V = {
  groupSecret: '7b1c33d3f5291d85de664833beb1ad469f7fb6025a0ec78b3a790c6e13a98304',
  groupPublic: '15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673',
  message: '74657374',
  coefficient: '178199860edd8c62f5212ee91eff1295d0d670ab4ed4506866bae57e7030b204',
  shares: [
    '929dcc590407aae7d388761cddb0c0db6f5627aea8e217f4a033f2ec83d93509',
    'a91e66e012e4364ac9aaa405fcafd370402d9859f7b6685c07eed76bf409e80d',
    'd3cb090a075eb154e82fdb4b3cb507f110040905468bb9c46da8bdea643a9a02',
  ],
  round1: [
    {
      id: 1,
      hidingRandom: '06894e04ee4aceec8619d5f6a0a180e2f47194d2ac306cba586b555e7c48d765',
      bindingRandom: '40d6f879ff22e22409f7d808fed81f37118e7d3e4af71c0f44c60207553bcbce',
      hiding: 'ef6599dea4010581a72b3018c37c29a4341d7cab0773e8687ca74dcf14009701',
      binding: '2baadfa0c69aa60d517ad4751de372a73f9d89cfc39026601f18458cdec12605',
      hidingCommit: '9b116f12589591a7e23fe8048059ab10ab48e67739e7a2fb3890f61a7999478c',
      bindingCommit: 'c39b66b7dfccb122da24f13587f9a08c4347cae70046ca15169adf90ba65854d',
      bindingFactor: 'ff960a65374e216a0918729b153466016664fa980d409bc3f308daa7acb30d0d',
      sigShare: '60997f0142e43e8005027fe5ab7447dac00d22c2d7ddd9571a02613ba7d81c08',
    },
    {
      id: 3,
      hidingRandom: 'fa5d950626782aade9e33fa781376d4888c2d1de7c37518bc248eb818ed0cdde',
      bindingRandom: '7459a4d14ded0e365b085271be8dc6600d5b88f3978a2174297ffa32001a5afc',
      hiding: '80f8d9a4b8f9366e1a0b618107c907cd3ee29fa9bb40b4691cc1bde696240005',
      binding: '2610b664a5a187b4855e87d2ff485bebdf043dc2f161fcd4854cd01dc0276404',
      hidingCommit: 'e679a2a971748ccfaabead4dbe8ac1def61275c186c79d471e1e45091ad1e687',
      bindingCommit: 'b2a942478453fabb6bd3181c56ba657413447b4136e1daea2484d396d1a516b3',
      bindingFactor: '279d48ec56f16d234c09ea62f3d02ab776ee38e03f66b20f939f1316e13df10f',
      sigShare: '79390e78bc59699c7af831f8f5fb478ec871a85f561a8641b5670ac4443f720f',
    },
  ],
  signature: '154fb694ee7fcb37bf2381d94488c2a84b03b3352ad085feca81ad26d45852b7ecfe971ce4da95c4a95db93ac376b053897fca212ef85f99cf696bffeb178f07',
};

test('RFC 9591 E.1: key split, nonces, commitments, binding factors, shares and signature byte for byte', () => {
  const shares = frostSplitKey(3, 2, { secret: scalar(V.groupSecret), coefficients: [scalar(V.coefficient)] });
  assert.deepEqual(shares.map((s) => toHex(frostSerializeScalar(s.secret))), V.shares);
  assert.equal(toHex(shares[0]!.groupPublicKey), V.groupPublic);
  const msg = hex(V.message);
  const rounds = V.round1.map((r) => {
    const share = shares[r.id - 1]!;
    assert.equal(toHex(frostSerializeScalar(frostNonceGenerate(share.secret, hex(r.hidingRandom)))), r.hiding);
    return { r, share, ...frostCommit(share, { hiding: hex(r.hidingRandom), binding: hex(r.bindingRandom) }) };
  });
  for (const { r, commitment, nonces } of rounds) {
    assert.equal(toHex(frostSerializeScalar(nonces.binding)), r.binding);
    assert.equal(toHex(commitment.hiding), r.hidingCommit);
    assert.equal(toHex(commitment.binding), r.bindingCommit);
  }
  const list = rounds.map((x) => x.commitment);
  const rho = frostBindingFactors(shares[0]!.groupPublicKey, list, msg);
  const sigShares = new Map<number, bigint>();
  for (const { r, share, nonces } of rounds) {
    assert.equal(toHex(frostSerializeScalar(rho.get(r.id)!)), r.bindingFactor);
    const z = frostSignShare(share, nonces, list, msg);
    assert.equal(toHex(frostSerializeScalar(z)), r.sigShare);
    assert.ok(frostVerifyShare(r.id, share.publicShare, z, list, share.groupPublicKey, msg));
    sigShares.set(r.id, z);
  }
  const sig = frostAggregate(list, sigShares, shares[0]!.groupPublicKey, msg);
  assert.equal(toHex(sig), V.signature);
  assert.ok(verify(sig, msg, hex(V.groupPublic)), 'a FROST signature is a plain Ed25519 signature');
});

function signWith(signers: FrostKeyShare[], msg: Uint8Array): Uint8Array {
  const round1 = signers.map((s) => ({ s, ...frostCommit(s) }));
  const list: FrostCommitment[] = round1.map((x) => x.commitment);
  const shares = new Map(round1.map((x) => [x.s.identifier, frostSignShare(x.s, x.nonces, list, msg)] as const));
  return frostAggregate(list, shares, signers[0]!.groupPublicKey, msg);
}

test('any 3 of 5 owner devices sign a valid Ed25519 signature; 2 cannot; a bad share is caught', () => {
  const shares = frostSplitKey(5, 3);
  const msg = new TextEncoder().encode('enroll device laptop');
  for (const pick of [[0, 1, 2], [0, 2, 4], [1, 3, 4], [0, 1, 2, 3, 4]]) {
    assert.ok(verify(signWith(pick.map((i) => shares[i]!), msg), msg, shares[0]!.groupPublicKey), `signers ${pick}`);
  }
  assert.throws(() => signWith([shares[0]!, shares[1]!], msg), (e: unknown) => e instanceof CryptoError && e.code === 'CRYPTO_SHARES_INSUFFICIENT');
  // Two shares pretending a threshold of 2 do not make a signature of the 3-of-5 key.
  const forged = signWith([shares[0]!, shares[1]!].map((s) => ({ ...s, threshold: 2 })), msg);
  assert.equal(verify(forged, msg, shares[0]!.groupPublicKey), false);
  // A participant sending a wrong share is named by verifyShare.
  const signers = [shares[0]!, shares[2]!, shares[4]!];
  const round1 = signers.map((s) => ({ s, ...frostCommit(s) }));
  const list = round1.map((x) => x.commitment);
  const z = frostSignShare(signers[1]!, round1[1]!.nonces, list, msg);
  assert.ok(frostVerifyShare(3, signers[1]!.publicShare, z, list, signers[0]!.groupPublicKey, msg));
  assert.equal(frostVerifyShare(3, signers[1]!.publicShare, z + 1n, list, signers[0]!.groupPublicKey, msg), false);
});

test('malformed inputs are refused', () => {
  const shares = frostSplitKey(3, 2);
  const { nonces, commitment } = frostCommit(shares[0]!);
  const msg = Uint8Array.of(1);
  assert.throws(() => frostSignShare(shares[0]!, nonces, [commitment, commitment], msg), /twice/);
  assert.throws(() => frostSignShare(shares[0]!, nonces, [commitment, { ...commitment, identifier: 2, hiding: new Uint8Array(32) }], msg), CryptoError);
  assert.throws(() => frostSplitKey(2, 3), CryptoError);
  assert.throws(() => frostDeserializeScalar(new Uint8Array(32).fill(0xff)), /not reduced/);
});
