// Sealed boxes to a device's X25519 key (FCP V2 §3.6.1): HPKE base mode (RFC 9180) with
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and ChaCha20-Poly1305. Used to hand zone keys and
// secret shares to one device; only that device's X25519 secret opens them.
import { x25519 } from '@noble/curves/ed25519.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from './errors.js';
import { concatBytes, requireBytes, utf8 } from './bytes.js';
import { x25519SharedSecret } from './node-keys.js';

export const KEM_X25519_HKDF_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_CHACHA20_POLY1305 = 0x0003;
const SEALED_VERSION = 1;
const SEALED_PREFIX = 7; // version(1) | kem_id(2) | kdf_id(2) | aead_id(2)
const ENC_BYTES = 32;
const TAG_BYTES = 16;
/** HPKE info of every fcp-mesh sealed box; callers bind purpose, zone and recipient through aad. */
export const SEALED_BOX_INFO = utf8('FCP2-SEALED-BOX-V1');

const HPKE_V1 = utf8('HPKE-v1');
const EMPTY = new Uint8Array(0);

function i2osp(value: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

const KEM_SUITE = concatBytes(utf8('KEM'), i2osp(KEM_X25519_HKDF_SHA256, 2));
const HPKE_SUITE = concatBytes(utf8('HPKE'), i2osp(KEM_X25519_HKDF_SHA256, 2), i2osp(KDF_HKDF_SHA256, 2), i2osp(AEAD_CHACHA20_POLY1305, 2));

function labeledExtract(suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return extract(sha256, concatBytes(HPKE_V1, suite, utf8(label), ikm), salt);
}

function labeledExpand(suite: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return expand(sha256, prk, concatBytes(i2osp(length, 2), HPKE_V1, suite, utf8(label), info), length);
}

function kemSharedSecret(dh: Uint8Array, enc: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  const prk = labeledExtract(KEM_SUITE, EMPTY, 'eae_prk', dh);
  return labeledExpand(KEM_SUITE, prk, 'shared_secret', concatBytes(enc, recipientPublic), 32);
}

export interface HpkeContext {
  key: Uint8Array;
  baseNonce: Uint8Array;
  sharedSecret: Uint8Array;
}

function keySchedule(sharedSecret: Uint8Array, info: Uint8Array): HpkeContext {
  const pskIdHash = labeledExtract(HPKE_SUITE, EMPTY, 'psk_id_hash', EMPTY);
  const infoHash = labeledExtract(HPKE_SUITE, EMPTY, 'info_hash', info);
  const context = concatBytes(new Uint8Array([0x00]), pskIdHash, infoHash);
  const secret = labeledExtract(HPKE_SUITE, sharedSecret, 'secret', EMPTY);
  return {
    key: labeledExpand(HPKE_SUITE, secret, 'key', context, 32),
    baseNonce: labeledExpand(HPKE_SUITE, secret, 'base_nonce', context, 12),
    sharedSecret,
  };
}

/** RFC 9180 SetupBaseS + Seal (sequence 0). `ephemeralSecret` exists for the published test vectors only. */
export function hpkeSealBase(
  recipientPublic: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  ephemeralSecret: Uint8Array = x25519.utils.randomSecretKey(),
): { enc: Uint8Array; ciphertext: Uint8Array; context: HpkeContext } {
  requireBytes(recipientPublic, 32, 'recipient X25519 public key');
  const enc = x25519.getPublicKey(ephemeralSecret);
  const dh = x25519SharedSecret(ephemeralSecret, recipientPublic);
  const context = keySchedule(kemSharedSecret(dh, enc, recipientPublic), info);
  const ciphertext = chacha20poly1305(context.key, context.baseNonce, aad).encrypt(plaintext);
  return { enc, ciphertext, context };
}

/** RFC 9180 SetupBaseR + Open (sequence 0). Throws CRYPTO_AEAD_FAIL when the box does not open. */
export function hpkeOpenBase(recipientSecret: Uint8Array, enc: Uint8Array, info: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  requireBytes(recipientSecret, 32, 'recipient X25519 secret key');
  const recipientPublic = x25519.getPublicKey(recipientSecret);
  let dh: Uint8Array;
  try {
    dh = x25519SharedSecret(recipientSecret, enc);
  } catch {
    throw new CryptoError('CRYPTO_AEAD_FAIL', 'sealed box does not open: its ephemeral key is invalid');
  }
  const context = keySchedule(kemSharedSecret(dh, enc, recipientPublic), info);
  try {
    return chacha20poly1305(context.key, context.baseNonce, aad).decrypt(ciphertext);
  } catch {
    throw new CryptoError('CRYPTO_AEAD_FAIL', 'sealed box does not open: wrong recipient key, wrong associated data, or tampered');
  }
}

/** Seals plaintext to one device: version | kem | kdf | aead | enc(32) | ciphertext+tag. */
export function sealTo(recipientX25519Public: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  if (!(plaintext instanceof Uint8Array) || !(aad instanceof Uint8Array)) {
    throw new CryptoError('CRYPTO_BAD_INPUT', 'plaintext and aad must be Uint8Arrays');
  }
  let sealed: { enc: Uint8Array; ciphertext: Uint8Array };
  try {
    sealed = hpkeSealBase(recipientX25519Public, SEALED_BOX_INFO, aad, plaintext);
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new CryptoError('CRYPTO_BAD_KEY', 'cannot seal to this X25519 public key');
  }
  const header = concatBytes(
    new Uint8Array([SEALED_VERSION]),
    i2osp(KEM_X25519_HKDF_SHA256, 2),
    i2osp(KDF_HKDF_SHA256, 2),
    i2osp(AEAD_CHACHA20_POLY1305, 2),
  );
  return concatBytes(header, sealed.enc, sealed.ciphertext);
}

/** Opens a box made by sealTo. Throws CRYPTO_BAD_ENVELOPE (malformed) or CRYPTO_AEAD_FAIL. */
export function openSealed(recipientX25519Secret: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  if (!(sealed instanceof Uint8Array) || sealed.length < SEALED_PREFIX + ENC_BYTES + TAG_BYTES) {
    throw new CryptoError('CRYPTO_BAD_ENVELOPE', 'sealed box is too short');
  }
  if (!(aad instanceof Uint8Array)) throw new CryptoError('CRYPTO_BAD_INPUT', 'aad must be a Uint8Array');
  const suiteOk =
    sealed[0] === SEALED_VERSION &&
    (sealed[1]! << 8 | sealed[2]!) === KEM_X25519_HKDF_SHA256 &&
    (sealed[3]! << 8 | sealed[4]!) === KDF_HKDF_SHA256 &&
    (sealed[5]! << 8 | sealed[6]!) === AEAD_CHACHA20_POLY1305;
  if (!suiteOk) throw new CryptoError('CRYPTO_BAD_ENVELOPE', 'sealed box uses an unsupported version or HPKE suite');
  const enc = sealed.subarray(SEALED_PREFIX, SEALED_PREFIX + ENC_BYTES);
  return hpkeOpenBase(recipientX25519Secret, enc, SEALED_BOX_INFO, aad, sealed.subarray(SEALED_PREFIX + ENC_BYTES));
}
