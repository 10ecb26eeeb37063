// Sealed boxes for shares: the crypto layer's HPKE boxes (X25519, HKDF-SHA256,
// ChaCha20-Poly1305), with associated data that binds a box to one secret, split and share.
// This adapter turns a box that does not open into null, so callers raise their own typed error.
import { x25519 } from '@noble/curves/ed25519.js';
import { encryptionPublicKey, openSealed as cryptoOpenSealed, sealTo as cryptoSealTo } from '../crypto/index.js';

export interface BoxKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A fresh X25519 key pair (a requester uses one per recovery for the replies). */
export function generateBoxKeyPair(): BoxKeyPair {
  const { secretKey, publicKey } = x25519.keygen();
  return { secretKey, publicKey };
}

export function boxPublicKeyOf(secretKey: Uint8Array): Uint8Array {
  return encryptionPublicKey(secretKey);
}

/** Seal to a device's X25519 public key; throws the crypto layer's CRYPTO_BAD_KEY for unusable keys. */
export function sealTo(recipientPublic: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return cryptoSealTo(recipientPublic, plaintext, aad);
}

/** Open with this device's key; null when malformed, sealed to another key, or altered. */
export function openSealed(recipient: BoxKeyPair, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  try {
    return cryptoOpenSealed(recipient.secretKey, sealed, aad);
  } catch {
    return null;
  }
}
