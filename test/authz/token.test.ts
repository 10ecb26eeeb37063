// Capability tokens: a root token from the owner key, attenuated children, holder proofs, and
// every way a token can be wrong refused with its FCP code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TokenError,
  attenuate,
  encodeClaims,
  grantBindsDevice,
  mintRoot,
  parseClaims,
  proveHolder,
  requireGrant,
  tokenId,
  verifyHolder,
  verifyToken,
  type TokenErrorCode,
} from '../../src/authz/index.js';
import { decodeSign1, encodeSign1, generateNodeKeys, signSign1 } from '../../src/crypto/index.js';

const owner = generateNodeKeys();
const laptop = generateNodeKeys();
const agent = generateNodeKeys();
const NOW = 1_800_000_000;
const opts = { ownerKey: owner.signingPublicKey, now: NOW };

const isCode = (code: TokenErrorCode) => (e: unknown) => e instanceof TokenError && e.code === code;

function root(over: Partial<Parameters<typeof mintRoot>[0]> = {}) {
  return mintRoot({ sub: 'laptop', aud: 'files', ops: ['read', 'list'], zones: ['z:private'], holderKey: laptop.signingPublicKey, ttlSeconds: 3600, now: NOW, ...over }, owner.signingSecretKey, owner.signingPublicKey);
}

test('a root token verifies, grants what it names and nothing else', () => {
  const t = verifyToken(root(), opts);
  assert.equal(t.claims.iss, 'owner');
  assert.deepEqual(t.claims.ops, ['list', 'read']);
  requireGrant(t.claims, 'files', 'read', 'z:private');
  assert.throws(() => requireGrant(t.claims, 'mail', 'read', 'z:private'), isCode('FCP_ERR_TOKEN_AUD_MISMATCH'));
  assert.throws(() => requireGrant(t.claims, 'files', 'write', 'z:private'), isCode('FCP_ERR_CAPABILITY_DENIED'));
  assert.throws(() => requireGrant(t.claims, 'files', 'read', 'z:owner'), isCode('FCP_ERR_CAPABILITY_DENIED'));
});

test('expired, not yet valid and revoked tokens are refused; skew is tolerated', () => {
  const t = root();
  assert.throws(() => verifyToken(t, { ...opts, now: NOW + 3600 + 61 }), isCode('FCP_ERR_TOKEN_EXPIRED'));
  verifyToken(t, { ...opts, now: NOW + 3600 + 59 });
  assert.throws(() => verifyToken(root({ notBefore: NOW + 600 }), opts), isCode('FCP_ERR_TOKEN_NOT_YET_VALID'));
  const id = tokenId(verifyToken(t, opts).claims.jti);
  assert.throws(() => verifyToken(t, { ...opts, isRevoked: (j) => j === id }), isCode('FCP_ERR_TOKEN_REVOKED'));
});

test('a changed byte, another signer or a malformed token is refused', () => {
  const t = root();
  const s = decodeSign1(t);
  const claims = verifyToken(t, opts).claims;
  const widened = encodeSign1({ ...s, payload: encodeClaims({ ...claims, ops: ['read', 'list', 'delete'] }) });
  assert.throws(() => verifyToken(widened, opts), isCode('FCP_ERR_TOKEN_SIG_INVALID'));
  const selfMade = mintRoot({ sub: 'x', aud: 'files', ops: ['read'], zones: ['z:private'], holderKey: agent.signingPublicKey, ttlSeconds: 60, now: NOW }, agent.signingSecretKey, agent.signingPublicKey);
  assert.throws(() => verifyToken(selfMade, opts), isCode('FCP_ERR_TOKEN_SIG_INVALID'));
  for (const bad of [new Uint8Array(0), Uint8Array.of(0xd2, 0x80), signSign1(Uint8Array.of(0xa0), owner.signingSecretKey)]) {
    assert.throws(() => verifyToken(bad, opts), isCode('FCP_ERR_TOKEN_MALFORMED'));
  }
});

test('an attenuated child works for its holder, and its chain leads to the owner', () => {
  const parent = root();
  const parentClaims = verifyToken(parent, opts).claims;
  const child = attenuate(parent, laptop.signingSecretKey, { parentClaims, sub: 'agent', aud: 'files', ops: ['read'], zones: ['z:private'], holderKey: agent.signingPublicKey, ttlSeconds: 600, now: NOW });
  const v = verifyToken(child, opts);
  assert.equal(v.claims.iss, 'laptop');
  assert.equal(v.chain.length, 2);
  requireGrant(v.claims, 'files', 'read', 'z:private');
  assert.throws(() => requireGrant(v.claims, 'files', 'list', 'z:private'), isCode('FCP_ERR_CAPABILITY_DENIED'));
  // Revoking the parent revokes the child.
  assert.throws(() => verifyToken(child, { ...opts, isRevoked: (j) => j === v.chain[0] }), isCode('FCP_ERR_TOKEN_REVOKED'));
  // The child ends with the parent even when asked for longer.
  const long = attenuate(parent, laptop.signingSecretKey, { parentClaims, sub: 'agent', aud: 'files', ops: ['read'], zones: ['z:private'], holderKey: agent.signingPublicKey, ttlSeconds: 99_999, now: NOW });
  assert.equal(verifyToken(long, opts).claims.exp, parentClaims.exp);
});

test('a widened child is refused at minting and, forged by hand, at verification', () => {
  const parent = root();
  const parentClaims = verifyToken(parent, opts).claims;
  const base = { parentClaims, sub: 'agent', holderKey: agent.signingPublicKey, ttlSeconds: 600, now: NOW };
  assert.throws(() => attenuate(parent, laptop.signingSecretKey, { ...base, aud: 'files', ops: ['write'], zones: ['z:private'] }), isCode('FCP_ERR_CAPABILITY_DENIED'));
  assert.throws(() => attenuate(parent, laptop.signingSecretKey, { ...base, aud: 'files', ops: ['read'], zones: ['z:owner'] }), isCode('FCP_ERR_CAPABILITY_DENIED'));
  assert.throws(() => attenuate(parent, laptop.signingSecretKey, { ...base, aud: 'mail', ops: ['read'], zones: ['z:private'] }), isCode('FCP_ERR_CAPABILITY_DENIED'));
  const forged = signSign1(
    encodeClaims({ iss: 'laptop', sub: 'agent', aud: 'files', ops: ['read', 'write'], zones: ['z:private'], iat: NOW, nbf: NOW, exp: NOW + 60, jti: new Uint8Array(16).fill(9), holderKey: agent.signingPublicKey, parent }),
    laptop.signingSecretKey,
    { kid: decodeSign1(attenuate(parent, laptop.signingSecretKey, { ...base, aud: 'files', ops: ['read'], zones: ['z:private'] })).protectedHeader.get(4) as Uint8Array },
  );
  assert.throws(() => verifyToken(forged, opts), isCode('FCP_ERR_CAPABILITY_DENIED'));
  // A child signed by someone other than the parent's holder.
  const stolen = attenuate(parent, agent.signingSecretKey, { ...base, aud: 'files', ops: ['read'], zones: ['z:private'] });
  assert.throws(() => verifyToken(stolen, opts), isCode('FCP_ERR_TOKEN_SIG_INVALID'));
});

test('a stolen token alone is useless: requests need the holder\'s proof, fresh and for this operation', () => {
  const claims = verifyToken(root(), opts).claims;
  const proof = proveHolder(claims, laptop.signingSecretKey, 'req-1', 'read', NOW);
  verifyHolder(claims, proof, 'read', { now: NOW + 5 });
  assert.throws(() => verifyHolder(claims, proof, 'list', { now: NOW }), isCode('FCP_ERR_TOKEN_HOLDER_MISMATCH'));
  assert.throws(() => verifyHolder(claims, proveHolder(claims, agent.signingSecretKey, 'req-1', 'read', NOW), 'read', { now: NOW }), isCode('FCP_ERR_TOKEN_HOLDER_MISMATCH'));
  assert.throws(() => verifyHolder(claims, proof, 'read', { now: NOW + 3600 }), isCode('FCP_ERR_TOKEN_HOLDER_MISMATCH'));
});

test('a device grant binds a stable id to a node key: only that id, that key, the owner key, valid now', () => {
  const grant = root({ dev: 'nLaptop1', aud: '*', ops: ['*'] });
  assert.equal(parseClaims(decodeSign1(grant).payload).dev, 'nLaptop1', 'the dev claim round-trips');
  assert.equal(verifyToken(grant, opts).claims.dev, 'nLaptop1', 'and the grant is still an ordinary token');
  const ok = grantBindsDevice(grant, owner.signingPublicKey, 'nLaptop1', laptop.signingPublicKey, NOW + 10);
  assert.equal(ok.ok, true);
  const why = (r: ReturnType<typeof grantBindsDevice>) => (r.ok ? 'ok' : r.why);
  assert.match(why(grantBindsDevice(grant, owner.signingPublicKey, 'nPhone1', laptop.signingPublicKey, NOW)), /for nLaptop1/);
  assert.match(why(grantBindsDevice(grant, owner.signingPublicKey, 'nLaptop1', agent.signingPublicKey, NOW)), /another key/);
  assert.match(why(grantBindsDevice(grant, agent.signingPublicKey, 'nLaptop1', laptop.signingPublicKey, NOW)), /owner key/);
  assert.match(why(grantBindsDevice(grant, owner.signingPublicKey, 'nLaptop1', laptop.signingPublicKey, NOW + 3600)), /not valid now/);
  assert.match(why(grantBindsDevice(root(), owner.signingPublicKey, 'nLaptop1', laptop.signingPublicKey, NOW)), /names no device/, 'a grant without dev vouches for no device');
  assert.match(why(grantBindsDevice(new Uint8Array([1, 2, 3]), owner.signingPublicKey, 'nLaptop1', laptop.signingPublicKey, NOW)), /not a token/);
});
