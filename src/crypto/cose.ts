// COSE_Sign1 (RFC 9052 §4.2, §4.4) with EdDSA over Ed25519 (alg -8): the signed envelope of
// capability tokens. Encoding is deterministic CBOR (RFC 8949 §4.2.1) so the same token is
// always the same bytes. Only what tokens need is here: no COSE_Sign, no other algorithms.
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { CryptoError } from './errors.js';
import { sign, verify } from './node-keys.js';

export const COSE_ALG_EDDSA = -8;
export const COSE_HEADER_ALG = 1;
export const COSE_HEADER_KID = 4;
const TAG_SIGN1 = 18;

export type HeaderMap = Map<number, unknown>;

export interface CoseSign1 {
  /** The protected header exactly as signed (a bstr-wrapped map). */
  protectedBytes: Uint8Array;
  protectedHeader: HeaderMap;
  unprotectedHeader: HeaderMap;
  payload: Uint8Array;
  signature: Uint8Array;
}

const DECODE = { strict: true, useMaps: true, allowIndefinite: false, allowUndefined: false, rejectDuplicateMapKeys: true, allowBigInt: false, tags: [] as unknown[] } as const;

export function encodeDeterministic(value: unknown): Uint8Array {
  return encode(value, rfc8949EncodeOptions);
}

export function decodeStrict(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, DECODE);
  } catch (err) {
    throw new CryptoError('CRYPTO_BAD_COSE', `${what} is not valid CBOR: ${(err as Error).message}`);
  }
}

/** Sig_structure = ["Signature1", body_protected, external_aad, payload] (RFC 9052 §4.4). */
export function sigStructure1(protectedBytes: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeDeterministic(['Signature1', protectedBytes, externalAad, payload]);
}

/** Makes Ed25519 signatures: a seed, or a callback (a threshold key signs through one). */
export type Ed25519Signer = Uint8Array | ((message: Uint8Array) => Uint8Array);

/** Signs `payload` with EdDSA; `kid` goes in the protected header. */
export function signSign1(payload: Uint8Array, signer: Ed25519Signer, opts: { kid?: Uint8Array; protectedExtra?: HeaderMap; unprotected?: HeaderMap } = {}): Uint8Array {
  const protectedHeader: HeaderMap = new Map<number, unknown>([[COSE_HEADER_ALG, COSE_ALG_EDDSA]]);
  if (opts.kid) protectedHeader.set(COSE_HEADER_KID, opts.kid);
  for (const [k, v] of opts.protectedExtra ?? []) protectedHeader.set(k, v);
  const protectedBytes = encodeDeterministic(protectedHeader);
  const toBeSigned = sigStructure1(protectedBytes, payload);
  const signature = typeof signer === 'function' ? signer(toBeSigned) : sign(toBeSigned, signer);
  return encodeSign1({ protectedBytes, protectedHeader, unprotectedHeader: opts.unprotected ?? new Map(), payload, signature });
}

/** Signs with an asynchronous signer (the owner key signs with k devices over the network). */
export async function signSign1Async(payload: Uint8Array, signer: (message: Uint8Array) => Promise<Uint8Array>, opts: { kid?: Uint8Array; protectedExtra?: HeaderMap; unprotected?: HeaderMap } = {}): Promise<Uint8Array> {
  const protectedHeader: HeaderMap = new Map<number, unknown>([[COSE_HEADER_ALG, COSE_ALG_EDDSA]]);
  if (opts.kid) protectedHeader.set(COSE_HEADER_KID, opts.kid);
  for (const [k, v] of opts.protectedExtra ?? []) protectedHeader.set(k, v);
  const protectedBytes = encodeDeterministic(protectedHeader);
  const signature = await signer(sigStructure1(protectedBytes, payload));
  return encodeSign1({ protectedBytes, protectedHeader, unprotectedHeader: opts.unprotected ?? new Map(), payload, signature });
}

/** COSE_Sign1 with its tag: 18([protected, unprotected, payload, signature]). */
export function encodeSign1(s: CoseSign1): Uint8Array {
  const body = encodeDeterministic([s.protectedBytes, s.unprotectedHeader, s.payload, s.signature]);
  const out = new Uint8Array(body.length + 1);
  out[0] = 0xc0 | TAG_SIGN1; // major type 6, tag 18 fits in the initial byte
  out.set(body, 1);
  return out;
}

function isHeaderMap(v: unknown): v is HeaderMap {
  return v instanceof Map && [...v.keys()].every((k) => typeof k === 'number' && Number.isInteger(k));
}

/** Parses a tagged or untagged COSE_Sign1; checks its shape, not its signature. */
export function decodeSign1(bytes: Uint8Array): CoseSign1 {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new CryptoError('CRYPTO_BAD_COSE', 'empty COSE_Sign1');
  const body = bytes[0] === (0xc0 | TAG_SIGN1) ? bytes.subarray(1) : bytes;
  const v = decodeStrict(body, 'COSE_Sign1');
  if (!Array.isArray(v) || v.length !== 4) throw new CryptoError('CRYPTO_BAD_COSE', 'COSE_Sign1 is an array of four');
  const [protectedBytes, unprotectedHeader, payload, signature] = v as unknown[];
  if (!(protectedBytes instanceof Uint8Array) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new CryptoError('CRYPTO_BAD_COSE', 'COSE_Sign1 protected header, payload and signature are byte strings (detached payloads are not supported)');
  }
  if (!isHeaderMap(unprotectedHeader)) throw new CryptoError('CRYPTO_BAD_COSE', 'COSE_Sign1 unprotected header is a map with integer labels');
  const protectedHeader = protectedBytes.length === 0 ? new Map<number, unknown>() : decodeStrict(protectedBytes, 'COSE protected header');
  if (!isHeaderMap(protectedHeader)) throw new CryptoError('CRYPTO_BAD_COSE', 'COSE protected header is a map with integer labels');
  return { protectedBytes, protectedHeader, unprotectedHeader, payload, signature };
}

/** True only when the Sign1 is EdDSA in its protected header and its signature verifies. */
export function verifySign1(s: CoseSign1, publicKey: Uint8Array): boolean {
  if (s.protectedHeader.get(COSE_HEADER_ALG) !== COSE_ALG_EDDSA) return false;
  return verify(s.signature, sigStructure1(s.protectedBytes, s.payload), publicKey);
}
