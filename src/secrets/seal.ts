// Sealed boxes to a device's X25519 key: an ephemeral key pair per box, BLAKE3 key derivation
// over the shared point and both public keys, XChaCha20-Poly1305 with caller-chosen associated
// data (which binds the box to one secret, version and share index).
// Layout: ephemeralPublic(32) || nonce(24) || ciphertext || tag(16).
import { randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { BOX_KEY_BYTES } from './limits.js';
import { zeroize } from './zeroize.js';

const SEAL_CONTEXT = new TextEncoder().encode('fcp-mesh 2026-11 secrets sealed box v1');
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
export const SEAL_OVERHEAD = BOX_KEY_BYTES + NONCE_BYTES + TAG_BYTES;

export interface BoxKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export function generateBoxKeyPair(): BoxKeyPair {
  const secretKey = new Uint8Array(randomBytes(BOX_KEY_BYTES));
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export function boxPublicKeyOf(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

function boxKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  const input = new Uint8Array(shared.length + ephemeralPublic.length + recipientPublic.length);
  input.set(shared, 0);
  input.set(ephemeralPublic, shared.length);
  input.set(recipientPublic, shared.length + ephemeralPublic.length);
  const key = blake3(input, { context: SEAL_CONTEXT, dkLen: 32 });
  zeroize(input);
  return key;
}

/** Seal `plaintext` so only the holder of `recipientPublic`'s secret key can open it. */
export function sealTo(recipientPublic: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const ephemeral = generateBoxKeyPair();
  const shared = x25519.getSharedSecret(ephemeral.secretKey, recipientPublic);
  const key = boxKey(shared, ephemeral.publicKey, recipientPublic);
  try {
    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    const ciphertext = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
    const out = new Uint8Array(BOX_KEY_BYTES + NONCE_BYTES + ciphertext.length);
    out.set(ephemeral.publicKey, 0);
    out.set(nonce, BOX_KEY_BYTES);
    out.set(ciphertext, BOX_KEY_BYTES + NONCE_BYTES);
    return out;
  } finally {
    zeroize(ephemeral.secretKey, shared, key);
  }
}

/**
 * Open a sealed box with this device's key pair. Returns null when the box is malformed, was
 * sealed to another key, or was altered (including its associated data); never throws on input.
 */
export function openSealed(
  recipient: BoxKeyPair,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array | null {
  if (!(sealed instanceof Uint8Array) || sealed.length < SEAL_OVERHEAD) return null;
  const ephemeralPublic = sealed.subarray(0, BOX_KEY_BYTES);
  const nonce = sealed.subarray(BOX_KEY_BYTES, BOX_KEY_BYTES + NONCE_BYTES);
  const ciphertext = sealed.subarray(BOX_KEY_BYTES + NONCE_BYTES);
  let shared: Uint8Array | undefined;
  let key: Uint8Array | undefined;
  try {
    shared = x25519.getSharedSecret(recipient.secretKey, ephemeralPublic);
    key = boxKey(shared, ephemeralPublic, recipient.publicKey);
    return xchacha20poly1305(key, nonce, aad).decrypt(ciphertext);
  } catch {
    return null;
  } finally {
    zeroize(shared, key);
  }
}
