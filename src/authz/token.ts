// Capability tokens: CWT claims (RFC 8392) in a COSE_Sign1 (RFC 9052) signed with EdDSA,
// holder-bound (the holder's key in `cnf`, RFC 8747) and attenuable: a holder mints a narrower
// child token that carries its parent, so every chain ends at the owner key. Claim labels are
// in docs/tokens.md; the FCP V2 §7.5.1 private labels are used where they exist.
import { createHash, randomBytes } from 'node:crypto';
import {
  COSE_HEADER_KID,
  decodeSign1,
  decodeStrict,
  encodeDeterministic,
  signSign1,
  signSign1Async,
  signingPublicKey,
  sign,
  verify,
  verifySign1,
  type Ed25519Signer,
} from '../crypto/index.js';
import { FcpError } from '../errors/index.js';

export type TokenErrorCode =
  | 'FCP_ERR_TOKEN_EXPIRED'
  | 'FCP_ERR_TOKEN_NOT_YET_VALID'
  | 'FCP_ERR_TOKEN_AUD_MISMATCH'
  | 'FCP_ERR_TOKEN_SIG_INVALID'
  | 'FCP_ERR_TOKEN_MALFORMED'
  | 'FCP_ERR_TOKEN_HOLDER_MISMATCH'
  | 'FCP_ERR_TOKEN_REVOKED'
  | 'FCP_ERR_CAPABILITY_DENIED';

export class TokenError extends FcpError {
  declare readonly code: TokenErrorCode;
  constructor(code: TokenErrorCode, message: string) {
    super(code, message);
  }
}

// CWT claim labels (RFC 8392 §3.1, RFC 8747 §3.1) and FCP private labels.
const ISS = 1;
const SUB = 2;
const AUD = 3;
const EXP = 4;
const NBF = 5;
const IAT = 6;
const CTI = 7;
const CNF = 8;
const CAPS = 1002; // FCP V2 §7.5.1 `caps`: { "ops": [..], "zones": [..] }
const PARENT = 1008; // the token this one attenuates (COSE_Sign1 bytes)
const DEV = 1009; // a device grant's device: its tailnet stable node id (owner-signed root tokens only)
// COSE_Key (RFC 9052 §7, RFC 9053 §7.2): kty OKP, crv Ed25519, x.
const COSE_KEY = 1;
const KTY = 1;
const KTY_OKP = 1;
const CRV = -1;
const CRV_ED25519 = 6;
const X = -2;

/** Any connector or any operation; only a token that holds `*` may hand it on. */
export const ANY = '*';
/** Longest chain of attenuations a verifier follows. */
export const MAX_CHAIN = 8;

export interface TokenClaims {
  /** Who signed: `owner` for a root token, else the parent token's holder. */
  iss: string;
  /** The holder, as people read it (a device name or an agent's name). */
  sub: string;
  /** The connector this token is for, or `*`. */
  aud: string;
  ops: string[];
  zones: string[];
  /** Seconds since the epoch. */
  iat: number;
  nbf: number;
  exp: number;
  /** 16 random bytes: the token's id (revocation names it). */
  jti: Uint8Array;
  /** The holder's Ed25519 public key: requests must be signed by it. */
  holderKey: Uint8Array;
  /** The token this one attenuates. */
  parent?: Uint8Array;
  /** A device grant: the stable node id of the device whose node key `holderKey` is. */
  dev?: string;
}

export interface MintRequest {
  sub: string;
  aud: string;
  ops: string[];
  zones: string[];
  holderKey: Uint8Array;
  ttlSeconds: number;
  now?: number;
  notBefore?: number;
  /** A device grant: the device's stable node id (binds it to holderKey). */
  dev?: string;
}

const kidOf = (publicKey: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(publicKey).digest().subarray(0, 8));
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
export const tokenId = (jti: Uint8Array): string => Buffer.from(jti).toString('hex');

/** The CWT claims map of a token, in deterministic CBOR (what the COSE_Sign1 carries). */
export function encodeClaims(c: TokenClaims): Uint8Array {
  const claims = new Map<number, unknown>([
    [ISS, c.iss],
    [SUB, c.sub],
    [AUD, c.aud],
    [EXP, c.exp],
    [NBF, c.nbf],
    [IAT, c.iat],
    [CTI, c.jti],
    [CNF, new Map([[COSE_KEY, new Map<number, unknown>([[KTY, KTY_OKP], [CRV, CRV_ED25519], [X, c.holderKey]])]])],
    [CAPS, new Map<string, unknown>([['ops', [...c.ops].sort()], ['zones', [...c.zones].sort()]])],
  ]);
  if (c.parent) claims.set(PARENT, c.parent);
  if (c.dev !== undefined) claims.set(DEV, c.dev);
  return encodeDeterministic(claims);
}

function malformed(why: string): TokenError {
  return new TokenError('FCP_ERR_TOKEN_MALFORMED', `malformed capability token: ${why}`);
}

function textList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > 256 || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 256)) throw malformed(`${what} must be a list of names`);
  return v as string[];
}

function decodeClaims(payload: Uint8Array): TokenClaims {
  let m: unknown;
  try {
    m = decodeStrict(payload, 'token claims');
  } catch {
    throw malformed('claims are not CBOR');
  }
  if (!(m instanceof Map)) throw malformed('claims are not a map');
  const text = (k: number, what: string): string => {
    const v = m.get(k);
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw malformed(`${what} is missing`);
    return v;
  };
  const time = (k: number, what: string): number => {
    const v = m.get(k);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(`${what} is not a time`);
    return v;
  };
  const jti = m.get(CTI);
  if (!(jti instanceof Uint8Array) || jti.length !== 16) throw malformed('cti is not 16 bytes');
  const cnf = m.get(CNF);
  const key = cnf instanceof Map ? cnf.get(COSE_KEY) : undefined;
  if (!(key instanceof Map) || key.get(KTY) !== KTY_OKP || key.get(CRV) !== CRV_ED25519) throw malformed('cnf is not an Ed25519 COSE_Key');
  const holderKey = key.get(X);
  if (!(holderKey instanceof Uint8Array) || holderKey.length !== 32) throw malformed('cnf key is not 32 bytes');
  const caps = m.get(CAPS);
  if (!(caps instanceof Map)) throw malformed('caps is missing');
  const parent = m.get(PARENT);
  if (parent !== undefined && !(parent instanceof Uint8Array)) throw malformed('parent is not a token');
  const dev = m.get(DEV);
  if (dev !== undefined && (typeof dev !== 'string' || dev.length === 0 || dev.length > 256)) throw malformed('dev is not a device id');
  return {
    iss: text(ISS, 'iss'),
    sub: text(SUB, 'sub'),
    aud: text(AUD, 'aud'),
    exp: time(EXP, 'exp'),
    nbf: time(NBF, 'nbf'),
    iat: time(IAT, 'iat'),
    jti,
    holderKey,
    ops: textList(caps.get('ops'), 'ops'),
    zones: textList(caps.get('zones'), 'zones'),
    ...(parent ? { parent } : {}),
    ...(dev !== undefined ? { dev } : {}),
  };
}

function checkRequest(r: MintRequest): void {
  if (!Number.isSafeInteger(r.ttlSeconds) || r.ttlSeconds <= 0) throw malformed('the lifetime must be a positive number of seconds');
  if (r.ops.length === 0 || r.zones.length === 0) throw malformed('a token grants at least one operation and one zone');
  if (!(r.holderKey instanceof Uint8Array) || r.holderKey.length !== 32) throw malformed('the holder key is an Ed25519 public key');
}

/** A root token, signed by the owner key (a seed, or the threshold key's signing callback). */
export function mintRoot(r: MintRequest, owner: Ed25519Signer, ownerKey: Uint8Array): Uint8Array {
  checkRequest(r);
  const iat = r.now ?? nowSeconds();
  const claims: TokenClaims = { iss: 'owner', sub: r.sub, aud: r.aud, ops: r.ops, zones: r.zones, iat, nbf: r.notBefore ?? iat, exp: iat + r.ttlSeconds, jti: new Uint8Array(randomBytes(16)), holderKey: r.holderKey, ...(r.dev !== undefined ? { dev: r.dev } : {}) };
  return signSign1(encodeClaims(claims), owner, { kid: kidOf(ownerKey) });
}

/** mintRoot with an asynchronous owner signer (the threshold owner key, k devices over FCP). */
export async function mintRootAsync(r: MintRequest, owner: (message: Uint8Array) => Promise<Uint8Array>, ownerKey: Uint8Array): Promise<Uint8Array> {
  checkRequest(r);
  const iat = r.now ?? nowSeconds();
  const claims: TokenClaims = { iss: 'owner', sub: r.sub, aud: r.aud, ops: r.ops, zones: r.zones, iat, nbf: r.notBefore ?? iat, exp: iat + r.ttlSeconds, jti: new Uint8Array(randomBytes(16)), holderKey: r.holderKey, ...(r.dev !== undefined ? { dev: r.dev } : {}) };
  return signSign1Async(encodeClaims(claims), owner, { kid: kidOf(ownerKey) });
}

/**
 * Whether `grant` is an owner-signed device grant binding device `stableId` to node signing key
 * `key`, valid at `nowSeconds` (what lets a reset device's new key replace its pin). The jti is
 * returned so the caller can check revocations.
 */
export function grantBindsDevice(grant: Uint8Array, ownerKey: Uint8Array, stableId: string, key: Uint8Array, nowSeconds: number): { ok: true; jti: string; exp: number } | { ok: false; why: string } {
  let s;
  let c: TokenClaims;
  try {
    s = decodeSign1(grant);
    c = decodeClaims(s.payload);
  } catch {
    return { ok: false, why: 'not a token' };
  }
  if (!verifySign1(s, ownerKey)) return { ok: false, why: 'not signed by the owner key' };
  if (c.iss !== 'owner' || c.parent !== undefined) return { ok: false, why: 'not a root grant of the owner' };
  if (c.dev !== stableId) return { ok: false, why: c.dev === undefined ? 'the grant names no device id' : `the grant is for ${c.dev}` };
  if (c.holderKey.length !== key.length || !c.holderKey.every((b, i) => b === key[i])) return { ok: false, why: 'the grant is for another key' };
  if (nowSeconds < c.nbf || nowSeconds >= c.exp) return { ok: false, why: 'the grant is not valid now' };
  return { ok: true, jti: tokenId(c.jti), exp: c.exp };
}

/** The claims of a token payload (what an owner device checks before it signs a grant). */
export function parseClaims(payload: Uint8Array): TokenClaims {
  return decodeClaims(payload);
}

/**
 * A narrower token for another holder, signed by this token's holder. It can only take away:
 * the same or a named connector, a subset of operations and zones, a window inside the parent's.
 */
export function attenuate(parent: Uint8Array, holderSeed: Uint8Array, r: MintRequest & { parentClaims: TokenClaims }): Uint8Array {
  checkRequest(r);
  const p = r.parentClaims;
  const iat = r.now ?? nowSeconds();
  const claims: TokenClaims = {
    iss: p.sub,
    sub: r.sub,
    aud: r.aud,
    ops: r.ops,
    zones: r.zones,
    iat,
    nbf: Math.max(r.notBefore ?? iat, p.nbf),
    exp: Math.min(iat + r.ttlSeconds, p.exp),
    jti: new Uint8Array(randomBytes(16)),
    holderKey: r.holderKey,
    parent,
  };
  narrower(claims, p); // refuse to mint what no verifier would accept
  return signSign1(encodeClaims(claims), holderSeed, { kid: kidOf(signingPublicKey(holderSeed)) });
}

function subset(child: string[], parent: string[]): boolean {
  return parent.includes(ANY) || child.every((x) => parent.includes(x));
}

function narrower(c: TokenClaims, p: TokenClaims): void {
  const widened: string[] = [];
  if (p.aud !== ANY && c.aud !== p.aud) widened.push(`connector ${c.aud} (parent: ${p.aud})`);
  if (!subset(c.ops, p.ops)) widened.push(`operations ${c.ops.join(',')} (parent: ${p.ops.join(',')})`);
  if (!c.zones.every((z) => p.zones.includes(z))) widened.push(`zones ${c.zones.join(',')} (parent: ${p.zones.join(',')})`);
  if (c.nbf < p.nbf || c.exp > p.exp) widened.push('validity window');
  if (widened.length > 0) throw new TokenError('FCP_ERR_CAPABILITY_DENIED', `a child token may only narrow its parent; widened: ${widened.join('; ')}`);
}

export interface VerifyOptions {
  ownerKey: Uint8Array;
  /** Seconds since the epoch (default now). */
  now?: number;
  /** Tolerated clock difference, seconds. */
  skewSeconds?: number;
  isRevoked?: (jti: string) => boolean;
}

export interface VerifiedToken {
  claims: TokenClaims;
  /** Token ids from the root to this token. */
  chain: string[];
}

/** Verifies the signature chain to the owner, the validity windows, narrowing and revocation. */
export function verifyToken(bytes: Uint8Array, o: VerifyOptions, depth = 0): VerifiedToken {
  if (depth >= MAX_CHAIN) throw malformed(`more than ${MAX_CHAIN} attenuations`);
  let sign1;
  try {
    sign1 = decodeSign1(bytes);
  } catch (err) {
    throw malformed((err as Error).message);
  }
  const claims = decodeClaims(sign1.payload);
  const parent = claims.parent ? verifyToken(claims.parent, o, depth + 1) : null;
  const signer = parent ? parent.claims.holderKey : o.ownerKey;
  const kid = sign1.protectedHeader.get(COSE_HEADER_KID);
  if (!(kid instanceof Uint8Array) || Buffer.compare(kid, kidOf(signer)) !== 0 || !verifySign1(sign1, signer)) {
    throw new TokenError('FCP_ERR_TOKEN_SIG_INVALID', parent ? `token ${tokenId(claims.jti)} is not signed by its parent's holder` : `token ${tokenId(claims.jti)} is not signed by the owner key`);
  }
  if (parent) narrower(claims, parent.claims);
  const now = o.now ?? nowSeconds();
  const skew = o.skewSeconds ?? 60;
  if (now + skew < claims.nbf) throw new TokenError('FCP_ERR_TOKEN_NOT_YET_VALID', `token ${tokenId(claims.jti)} is valid from ${new Date(claims.nbf * 1000).toISOString()}`);
  if (now - skew > claims.exp) throw new TokenError('FCP_ERR_TOKEN_EXPIRED', `token ${tokenId(claims.jti)} expired at ${new Date(claims.exp * 1000).toISOString()}`);
  if (o.isRevoked?.(tokenId(claims.jti))) throw new TokenError('FCP_ERR_TOKEN_REVOKED', `token ${tokenId(claims.jti)} was revoked`);
  return { claims, chain: [...(parent?.chain ?? []), tokenId(claims.jti)] };
}

/** Whether a verified token grants `operation` of `connector` in `zone`; throws with the reason if not. */
export function requireGrant(t: TokenClaims, connector: string, operation: string, zone: string): void {
  if (t.aud !== ANY && t.aud !== connector) throw new TokenError('FCP_ERR_TOKEN_AUD_MISMATCH', `the token is for ${t.aud}, not ${connector}`);
  if (!t.ops.includes(ANY) && !t.ops.includes(operation)) throw new TokenError('FCP_ERR_CAPABILITY_DENIED', `the token does not grant ${connector}.${operation} (it grants ${t.ops.join(', ')})`);
  if (!t.zones.includes(zone)) throw new TokenError('FCP_ERR_CAPABILITY_DENIED', `the token does not grant zone ${zone} (it grants ${t.zones.join(', ')})`);
}

/** What a holder signs to show it holds the token for one request (FCP V2 §9.5 holder binding). */
function proofMessage(jti: Uint8Array, requestId: string, operation: string, time: number): Uint8Array {
  return encodeDeterministic(['fcp.token.pop.v1', jti, requestId, operation, time]);
}

export interface HolderProof {
  requestId: string;
  time: number;
  signature: Uint8Array;
}

export function proveHolder(t: TokenClaims, holderSeed: Uint8Array, requestId: string, operation: string, time = nowSeconds()): HolderProof {
  return { requestId, time, signature: sign(proofMessage(t.jti, requestId, operation, time), holderSeed) };
}

/** Checks the holder's proof for this request; a token without its holder's key is useless. */
export function verifyHolder(t: TokenClaims, proof: HolderProof, operation: string, o: { now?: number; skewSeconds?: number } = {}): void {
  const now = o.now ?? nowSeconds();
  if (Math.abs(now - proof.time) > (o.skewSeconds ?? 60)) throw new TokenError('FCP_ERR_TOKEN_HOLDER_MISMATCH', 'the holder proof is not fresh');
  if (!verify(proof.signature, proofMessage(t.jti, proof.requestId, operation, proof.time), t.holderKey)) {
    throw new TokenError('FCP_ERR_TOKEN_HOLDER_MISMATCH', `the request is not signed by the holder of token ${tokenId(t.jti)}`);
  }
}

/**
 * The claims of a token without checking any signature: for a holder reading its own token (its
 * id, what it grants, its expiry). Never for a decision: verifyToken is that.
 */
export function decodeClaimsUnverified(bytes: Uint8Array): TokenClaims {
  let sign1;
  try {
    sign1 = decodeSign1(bytes);
  } catch (err) {
    throw malformed((err as Error).message);
  }
  return decodeClaims(sign1.payload);
}
