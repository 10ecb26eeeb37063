// COSE_Sign1 with EdDSA against the cose-wg/Examples vector eddsa-examples/eddsa-sig-01.json
// (RFC 8032 test key 1, "This is the content."): Sig_structure, signature and encoding byte-exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoError, decodeSign1, encodeDeterministic, sigStructure1, signSign1, signingPublicKey, verifySign1 } from '../../src/crypto/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const D = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const X = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const CONTENT = new TextEncoder().encode('This is the content.');
const TO_BE_SIGNED = '846A5369676E61747572653145A2012703004054546869732069732074686520636F6E74656E742E';
const OUTPUT =
  'D28445A201270300A10442313154546869732069732074686520636F6E74656E742E58407142FD2FF96D56DB85BEE905A76BA1D0B7321A95C8C4D3607C5781932B7AFB8711497DFA751BF40B58B3BCC32300B1487F3DB34085EEF013BF08F4A44D6FEF0D';

test('eddsa-sig-01: Sig_structure, signature and COSE_Sign1 bytes are those of the cose-wg example', () => {
  assert.deepEqual(signingPublicKey(D), X);
  const protectedBytes = encodeDeterministic(new Map([[1, -8], [3, 0]]));
  assert.equal(Buffer.from(sigStructure1(protectedBytes, CONTENT)).toString('hex').toUpperCase(), TO_BE_SIGNED);
  const out = signSign1(CONTENT, D, { protectedExtra: new Map([[3, 0]]), unprotected: new Map([[4, new TextEncoder().encode('11')]]) });
  assert.equal(Buffer.from(out).toString('hex').toUpperCase(), OUTPUT);
  const parsed = decodeSign1(hex(OUTPUT));
  assert.ok(verifySign1(parsed, X));
  assert.deepEqual(parsed.payload, CONTENT);
});

test('a changed payload, header or key fails verification; malformed input gets CRYPTO_BAD_COSE', () => {
  const good = hex(OUTPUT);
  const payloadAt = good.indexOf(0x54) + 1; // the payload's first byte follows its bstr header
  const tampered = good.slice();
  tampered[payloadAt]! ^= 1;
  assert.equal(verifySign1(decodeSign1(tampered), X), false);
  assert.equal(verifySign1(decodeSign1(good), signingPublicKey(hex('00'.repeat(32)))), false);
  const noAlg = decodeSign1(good);
  noAlg.protectedHeader.delete(1);
  assert.equal(verifySign1(noAlg, X), false);
  for (const bad of [new Uint8Array(0), hex('d28345a2'), hex('83010203'), hex('d2844040a0f6')]) {
    assert.throws(() => decodeSign1(bad), (e: unknown) => e instanceof CryptoError && e.code === 'CRYPTO_BAD_COSE');
  }
});
