// Published test vectors: RFC 8032 (Ed25519), RFC 8439 §2.8.2 (ChaCha20-Poly1305), BLAKE3
// official vectors, RFC 7748 (X25519) and RFC 9180 A.2.1 (HPKE base mode, X25519/ChaCha20Poly1305).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sign, verify, signingPublicKey, encryptionPublicKey, x25519SharedSecret, fromHex, toHex } from '../../src/crypto/index.js';
import { hpkeSealBase, hpkeOpenBase } from '../../src/crypto/sealed-box.js';
import { BLAKE3_KEY, BLAKE3_VECTORS, BLAKE3_XOF_102400 } from './blake3-vectors.js';

const hex = (h: string) => fromHex(h.replace(/\s+/g, ''));

test('RFC 8032 §7.1 Ed25519 vectors: public key, signature, verification', () => {
  const vectors = [
    {
      name: 'TEST 1',
      secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      message: '',
      signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      name: 'TEST 2',
      secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      message: '72',
      signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
    {
      name: 'TEST 3',
      secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
      public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      message: 'af82',
      signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
    },
    {
      name: 'TEST SHA(abc)',
      secret: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
      public: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
      message: toHex(sha512(new TextEncoder().encode('abc'))),
      signature: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
    },
  ];
  for (const v of vectors) {
    const secret = hex(v.secret);
    const message = hex(v.message);
    assert.equal(toHex(signingPublicKey(secret)), v.public, `${v.name} public key`);
    const sig = sign(message, secret);
    assert.equal(toHex(sig), v.signature, `${v.name} signature`);
    assert.equal(verify(sig, message, hex(v.public)), true, `${v.name} verifies`);
    const flipped = sig.slice();
    flipped[10]! ^= 0x01;
    assert.equal(verify(flipped, message, hex(v.public)), false, `${v.name} flipped signature rejected`);
    const otherMessage = new Uint8Array([...message, 0]);
    assert.equal(verify(sig, otherMessage, hex(v.public)), false, `${v.name} other message rejected`);
  }
});

test('Ed25519 through OpenSSL agrees with an independent implementation (@noble/curves); malformed input is false, never a throw', () => {
  for (let i = 0; i < 32; i++) {
    const secret = randomBytes(32);
    const message = randomBytes(i * 37);
    const sig = sign(message, secret);
    assert.equal(toHex(sig), toHex(ed25519.sign(message, secret)), 'the same deterministic signature');
    assert.equal(verify(sig, message, signingPublicKey(secret)), true);
    assert.equal(ed25519.verify(sig, message, signingPublicKey(secret)), true);
  }
  const secret = randomBytes(32);
  const pub = signingPublicKey(secret);
  const sig = sign(new Uint8Array([1, 2, 3]), secret);
  // S + L (the group order) is a non-canonical encoding of the same S: RFC 8032 §5.1.7 rejects it.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let b = 31; b >= 0; b--) s = (s << 8n) | BigInt(sig[32 + b]!);
  const malleable = sig.slice();
  let big = s + L;
  for (let b = 0; b < 32; b++, big >>= 8n) malleable[32 + b] = Number(big & 0xffn);
  assert.equal(verify(malleable, new Uint8Array([1, 2, 3]), pub), false, 'non-canonical S refused');
  assert.equal(verify(sig.subarray(0, 63), new Uint8Array([1, 2, 3]), pub), false, 'short signature');
  assert.equal(verify(sig, new Uint8Array([1, 2, 3]), pub.subarray(0, 31)), false, 'short key');
  const notAPoint = new Uint8Array(32).fill(0xff);
  assert.equal(verify(sig, new Uint8Array([1, 2, 3]), notAPoint), false, 'a key that is no curve point');
  assert.throws(() => sign(new Uint8Array(1), new Uint8Array(31)), { code: 'CRYPTO_BAD_INPUT' });
});

test('RFC 8439 §2.8.2 ChaCha20-Poly1305 AEAD vector: Node/OpenSSL and @noble/ciphers agree with it', () => {
  const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const nonce = hex('070000004041424344454647');
  const aad = hex('50515253c0c1c2c3c4c5c6c7');
  const plaintext = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  );
  const ciphertext =
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116';
  const tag = '1ae10b594f09e26a7e902ecbd0600691';

  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const nodeCt = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  assert.equal(nodeCt.toString('hex'), ciphertext);
  assert.equal(cipher.getAuthTag().toString('hex'), tag);

  const nobleOut = chacha20poly1305(key, nonce, aad).encrypt(plaintext);
  assert.equal(toHex(nobleOut), ciphertext + tag);
  assert.deepEqual(chacha20poly1305(key, nonce, aad).decrypt(nobleOut), plaintext);
});

test('BLAKE3 official vectors (unkeyed and keyed, several lengths)', () => {
  const key = new TextEncoder().encode(BLAKE3_KEY);
  for (const v of BLAKE3_VECTORS) {
    const input = Uint8Array.from({ length: v.inputLen }, (_, i) => i % 251);
    assert.equal(toHex(blake3(input)), v.hash, `hash of ${v.inputLen} bytes`);
    assert.equal(toHex(blake3(input, { key })), v.keyedHash, `keyed hash of ${v.inputLen} bytes`);
  }
  const big = Uint8Array.from({ length: 102400 }, (_, i) => i % 251);
  assert.equal(toHex(blake3(big, { dkLen: BLAKE3_XOF_102400.length / 2 })), BLAKE3_XOF_102400, 'extended output');
  // Incremental hashing in odd-sized pieces gives the same digest as one-shot.
  const h = blake3.create({ key });
  for (let at = 0; at < big.length; at += 7777) h.update(big.subarray(at, at + 7777));
  assert.equal(toHex(h.digest()), BLAKE3_VECTORS.find((v) => v.inputLen === 102400)!.keyedHash);
});

test('RFC 7748 X25519 vectors (§5.2 scalar multiplication, §6.1 Diffie-Hellman)', () => {
  assert.equal(
    toHex(x25519SharedSecret(hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'), hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'))),
    'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  );
  assert.equal(
    toHex(x25519SharedSecret(hex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'), hex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'))),
    '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  );
  const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  assert.equal(toHex(encryptionPublicKey(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(toHex(encryptionPublicKey(bob)), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(toHex(x25519SharedSecret(alice, encryptionPublicKey(bob))), shared);
  assert.equal(toHex(x25519SharedSecret(bob, encryptionPublicKey(alice))), shared);
  assert.throws(() => x25519SharedSecret(alice, new Uint8Array(32)), { code: 'CRYPTO_BAD_KEY' });
});

test('RFC 9180 A.2.1 HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305', () => {
  const info = hex('4f6465206f6e2061204772656369616e2055726e');
  const skEm = hex('f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600');
  const pkRm = hex('4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a');
  const skRm = hex('8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb');
  const pt = hex('4265617574792069732074727574682c20747275746820626561757479');
  const aad = hex('436f756e742d30');
  const sealed = hpkeSealBase(pkRm, info, aad, pt, skEm);
  assert.equal(toHex(sealed.enc), '1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a');
  assert.equal(toHex(sealed.context.sharedSecret), '0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7');
  assert.equal(toHex(sealed.context.key), 'ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91');
  assert.equal(toHex(sealed.context.baseNonce), '5c4d98150661b848853b547f');
  assert.equal(toHex(sealed.ciphertext), '1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28');
  assert.deepEqual(hpkeOpenBase(skRm, sealed.enc, info, aad, sealed.ciphertext), pt);
});

test('a signing key array whose bytes change signs with the new key (no stale cached key)', () => {
  const key = new Uint8Array(randomBytes(32));
  const m = new Uint8Array([9, 9]);
  const first = sign(m, key);
  const pub1 = signingPublicKey(key);
  key.set(randomBytes(32));
  const second = sign(m, key);
  assert.notDeepEqual(Buffer.from(first), Buffer.from(second));
  assert.equal(verify(second, m, signingPublicKey(key)), true);
  assert.equal(verify(second, m, pub1), false);
  assert.deepEqual(Buffer.from(signingPublicKey(key)), Buffer.from(ed25519.getPublicKey(key)));
});
