// Signatures of namespace records: a device's head of a zone (RefRecord) and its tombstones are
// signed by that device's node signing key (Ed25519), so a member that lists or forwards them
// cannot forge or alter another device's. The signed bytes are the deterministic CBOR (RFC 8949
// core) of a domain-separation string and every field of the record but the signature: a head
// signature never verifies as a tombstone, a hub record or a token.
import { encodeDeterministic, sign, verify, type RefRecord, type Tombstone } from '../crypto/index.js';

export const HEAD_DOMAIN = 'fcp-mesh name head v1';
export const TOMBSTONE_DOMAIN = 'fcp-mesh tombstone v1';

/** A head as its device builds it, before signing. */
export type UnsignedRef = Omit<RefRecord, 'sig'>;
/** A tombstone as the deciding device builds it: `by` and the signature are added by signing. */
export type UnsignedTombstone = Omit<Tombstone, 'sig' | 'by'>;

export function headSigningBytes(r: UnsignedRef): Uint8Array {
  return encodeDeterministic([HEAD_DOMAIN, { zone: r.zone, device: r.device, seq: r.seq, commit: r.commit, forgotten: r.forgotten, time: r.time }]);
}

export function tombstoneSigningBytes(t: Tombstone): Uint8Array {
  return encodeDeterministic([TOMBSTONE_DOMAIN, { objectId: t.objectId, zone: t.zone, at: t.at, dead: t.dead, by: t.by ?? '' }]);
}

/** This device's own head, signed (its `device` must be this device: the caller's head only). */
export function signRef(r: UnsignedRef, signingSecretKey: Uint8Array): RefRecord {
  const plain: UnsignedRef = { zone: r.zone, device: r.device, seq: r.seq, commit: r.commit, forgotten: r.forgotten, time: r.time };
  return { ...plain, sig: sign(headSigningBytes(plain), signingSecretKey) };
}

/** A decision of this device (`by`) about an object, signed. */
export function signTombstone(t: UnsignedTombstone, by: string, signingSecretKey: Uint8Array): Tombstone {
  const plain: Tombstone = { objectId: t.objectId, zone: t.zone, at: t.at, dead: t.dead, by };
  return { ...plain, sig: sign(tombstoneSigningBytes(plain), signingSecretKey) };
}

export function refSignatureValid(r: RefRecord, publicKey: Uint8Array): boolean {
  return r.sig !== undefined && verify(r.sig, headSigningBytes(r), publicKey);
}

export function tombstoneSignatureValid(t: Tombstone, publicKey: Uint8Array): boolean {
  return t.by !== undefined && t.sig !== undefined && verify(t.sig, tombstoneSigningBytes(t), publicKey);
}
