// Node keys: Ed25519 for signing (RFC 8032) and X25519 for key agreement (RFC 7748).
import { createPrivateKey, createPublicKey, sign as nodeSign, timingSafeEqual, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { CryptoError } from './errors.js';
import { requireBytes, utf8 } from './bytes.js';

export interface NodeKeys {
  signingPublicKey: Uint8Array;
  signingSecretKey: Uint8Array;
  /** X25519 public key other devices seal zone keys and shares to. */
  encryptionPublicKey: Uint8Array;
  encryptionSecretKey: Uint8Array;
}

export function generateNodeKeys(): NodeKeys {
  const signing = ed25519.keygen();
  const encryption = x25519.keygen();
  return {
    signingPublicKey: signing.publicKey,
    signingSecretKey: signing.secretKey,
    encryptionPublicKey: encryption.publicKey,
    encryptionSecretKey: encryption.secretKey,
  };
}

/** Ed25519 public key of a 32-byte secret seed. */
export function signingPublicKey(secretKey: Uint8Array): Uint8Array {
  requireBytes(secretKey, 32, 'Ed25519 secret key');
  // Through OpenSSL (signing keys are asked for their public half on every note signed).
  const spki = createPublicKey(privateKeyObject(secretKey)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length));
}

/** X25519 public key of a 32-byte secret scalar. */
export function encryptionPublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(requireBytes(secretKey, 32, 'X25519 secret key'));
}

/** Ed25519 signature (64 bytes) of message. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new CryptoError('CRYPTO_BAD_INPUT', 'message must be a Uint8Array');
  return new Uint8Array(nodeSign(null, message, privateKeyObject(requireBytes(secretKey, 32, 'Ed25519 secret key'))));
}

/**
 * Private KeyObjects are kept per key array (the keyring's own), with the bytes they were made
 * from: an array whose contents changed since gets a new KeyObject, never a stale one.
 */
function privateKeyObject(secretKey: Uint8Array): KeyObject {
  const cached = privateKeys.get(secretKey);
  if (cached && timingSafeEqual(cached.seed, secretKey)) return cached.key;
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, secretKey]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  privateKeys.set(secretKey, { key, seed: Uint8Array.from(secretKey) });
  return key;
}

// Signing and verifying go through OpenSSL (node:crypto), about 40x faster than pure JS: every
// audit checkpoint, cosignature, token and signed record pays for one. Ed25519 is deterministic
// (RFC 8032), so the signatures are the bytes the pure-JS implementation makes; verification is
// RFC 8032's (canonical encodings only). KeyObjects are made from raw keys by wrapping them in
// the fixed DER prefix of PKCS#8 / SubjectPublicKeyInfo (RFC 8410), and kept for reuse.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_CACHE_LIMIT = 1024;
const privateKeys = new WeakMap<Uint8Array, { key: KeyObject; seed: Uint8Array }>();
const publicKeys = new Map<string, KeyObject>();

function publicKeyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  let key = publicKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
    if (publicKeys.size >= KEY_CACHE_LIMIT) publicKeys.clear();
    publicKeys.set(id, key);
  }
  return key;
}

/** True only for a valid Ed25519 signature; malformed keys or signatures give false, never a throw. */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  if (!(message instanceof Uint8Array) || !(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/** X25519 shared secret; throws CRYPTO_BAD_KEY for low-order public keys (all-zero output). */
export function x25519SharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  requireBytes(secretKey, 32, 'X25519 secret key');
  requireBytes(publicKey, 32, 'X25519 public key');
  try {
    return x25519.getSharedSecret(secretKey, publicKey);
  } catch {
    throw new CryptoError('CRYPTO_BAD_KEY', 'X25519 key agreement failed: the public key is invalid or of low order');
  }
}

// Binary form of a node key file: "FNK1" | ed25519 secret 32 | x25519 secret 32 (public keys re-derived).
const MAGIC = utf8('FNK1');

export function serializeNodeKeys(keys: NodeKeys): Uint8Array {
  const out = new Uint8Array(4 + 64);
  out.set(MAGIC, 0);
  out.set(requireBytes(keys.signingSecretKey, 32, 'signing secret key'), 4);
  out.set(requireBytes(keys.encryptionSecretKey, 32, 'encryption secret key'), 36);
  return out;
}

export function parseNodeKeys(bytes: Uint8Array): NodeKeys {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 68 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new CryptoError('CRYPTO_BAD_KEY', 'not a valid node key file (expected 68 bytes starting with "FNK1")');
  }
  const signingSecretKey = bytes.slice(4, 36);
  const encryptionSecretKey = bytes.slice(36, 68);
  return {
    signingPublicKey: signingPublicKey(signingSecretKey),
    signingSecretKey,
    encryptionPublicKey: encryptionPublicKey(encryptionSecretKey),
    encryptionSecretKey,
  };
}
