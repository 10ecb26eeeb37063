// Small byte helpers shared by the crypto modules.
import { CryptoError } from './errors.js';

const textEncoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Strict hex decoding: even length, [0-9a-f] only (either case), optional expected length. */
export function fromHex(hex: string, expectedBytes?: number): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new CryptoError('CRYPTO_BAD_HEX', 'expected an even-length hexadecimal string');
  }
  if (expectedBytes !== undefined && hex.length !== expectedBytes * 2) {
    throw new CryptoError('CRYPTO_BAD_HEX', `expected ${expectedBytes * 2} hex characters, got ${hex.length}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function requireBytes(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new CryptoError('CRYPTO_BAD_INPUT', `${what} must be a Uint8Array of ${length} bytes`);
  }
  return value;
}

export const U64_MAX = (1n << 64n) - 1n;

export function requireU64(value: unknown, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new CryptoError('CRYPTO_BAD_INPUT', `${what} must be a bigint in 0..2^64-1`);
  }
  return value;
}

export function requireSafeUint(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new CryptoError('CRYPTO_BAD_INPUT', `${what} must be an integer in 0..${max}`);
  }
  return value;
}

/** Overwrite secret material in place; call when a key or secret is no longer needed. */
export function zeroize(buf: Uint8Array): void {
  buf.fill(0);
}
