// The threshold owner key on an in-process mesh (real FCP over TCP): a 2-of-3 key made by a DKG
// between the owner devices, signatures made by k of them and checked with plain Ed25519, and
// the failure cases: too few online, a cheating participant in the DKG or in signing, a replayed
// round 2, a non-owner device taking part, a restart keeping the share sealed on disk.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { LOCAL_CONTROL, mintRootAsync, verifyToken } from '../../src/authz/index.js';
import { frostCommit, frostInterpolatingValue, frostMod, frostSerializeScalar, frostSplitKey, sigStructure1 } from '../../src/crypto/index.js';
import type { FcpError } from '../../src/errors/index.js';
import { expectReply } from '../../src/mesh/index.js';
import { decodeOwnerReply, encodeOwnerRequest } from '../../src/services/owner-protocol.js';
import type { OwnerService } from '../../src/services/index.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const tailnet = (subnet: number): TailnetDescription => ({
  tailnet: `owner${subnet}.example`,
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1, address: `127.77.${subnet}.1` },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 2, address: `127.77.${subnet}.2` },
    { name: 'desk', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 3, address: `127.77.${subnet}.3` },
    { name: 'nas', tags: ['tag:fcp-private'], os: 'linux', path: 'direct', latencyMs: 4, address: `127.77.${subnet}.4` },
  ],
});

async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const codeOf = (err: unknown) => (err as FcpError).code;
const owner = (mesh: InProcessMesh, name: string): OwnerService => mesh.node(name).services.owner;
const idOf = (mesh: InProcessMesh, name: string) => mesh.node(name).node.self.stableId;

/** Waits until every device sees the other three online over FCP. */
async function formed(mesh: InProcessMesh): Promise<void> {
  for (const n of ['laptop', 'server', 'desk', 'nas']) await waitFor(`${n} sees the mesh`, () => mesh.node(n).node.eligibility.members().length === 3);
  // z:owner travels only over paths known to be direct: wait for that evidence too.
  for (const n of ['laptop', 'server', 'desk']) {
    const node = mesh.node(n).node;
    await waitFor(`${n} has direct paths to the other owner devices`, () => node.eligibility.shareMembers(node.zones.get('z:owner')).length === 2);
  }
}

/** A token Sig_structure as the owner key would sign it (purpose token-grant). */
async function grantMessage(holder: Uint8Array): Promise<Uint8Array> {
  let captured: Uint8Array | null = null;
  await mintRootAsync({ sub: 'agent', aud: '*', ops: ['*'], zones: ['z:private'], holderKey: holder, ttlSeconds: 60 }, async (m) => {
    captured = m;
    return new Uint8Array(64);
  }, new Uint8Array(32));
  return captured!;
}

describe('the threshold owner key over FCP', () => {
  let mesh: InProcessMesh;

  before(async () => {
    mesh = await InProcessMesh.start(tailnet(140));
    await formed(mesh);
  });
  after(async () => mesh?.stop());

  test('owner init refuses a bad threshold and a non-owner device', async () => {
    await assert.rejects(owner(mesh, 'laptop').init(LOCAL_CONTROL, 4), (e) => codeOf(e) === 'OWNER_BAD_THRESHOLD');
    await assert.rejects(owner(mesh, 'nas').init(LOCAL_CONTROL, 2), (e) => codeOf(e) === 'OWNER_NOT_OWNER');
    await assert.rejects(owner(mesh, 'laptop').sign(new Uint8Array(8), 'token-grant'), (e) => codeOf(e) === 'OWNER_NO_KEY');
  });

  test('a 2-of-3 key is made without a dealer; every owner device gets its grant', async () => {
    const status = await owner(mesh, 'laptop').init(LOCAL_CONTROL, 2);
    assert.equal(status.exists, true);
    assert.equal(status.threshold, 2);
    assert.deepEqual(status.participants.map((p) => p.hostName).sort(), ['desk', 'laptop', 'server']);
    const pk = owner(mesh, 'laptop').publicKey()!;
    for (const n of ['laptop', 'server', 'desk']) {
      const o = owner(mesh, n);
      assert.deepEqual(o.publicKey(), pk);
      const grant = o.deviceGrant();
      assert.ok(grant, `${n} has a grant`);
      const t = verifyToken(grant, { ownerKey: pk });
      assert.deepEqual(t.claims.holderKey, mesh.node(n).node.keyring.node.signingPublicKey);
      assert.deepEqual(t.claims.zones, ['z:community', 'z:owner', 'z:private', 'z:public', 'z:work'], 'a grant covers every zone an owner device may hold');
      assert.ok(t.claims.exp - t.claims.iat >= 29 * 86_400);
      // The share is on disk mode 0600 and sealed: its secret scalar is not in the file.
      const file = join(mesh.dir, n, 'owner', 'share.sealed');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const secret = frostSerializeScalar(o['share']!.secret);
      assert.equal(Buffer.from(readFileSync(file)).includes(Buffer.from(secret)), false);
    }
    // Any 2 shares interpolate to the secret of the group key (which no device ever held).
    const shares = ['laptop', 'server', 'desk'].map((n) => owner(mesh, n)['share']!);
    for (const pair of [[0, 1], [1, 2], [0, 2]]) {
      const two = pair.map((i) => shares[i]!);
      const ids = two.map((s) => s.identifier);
      const secret = two.reduce((acc, s) => frostMod(acc + frostInterpolatingValue(ids, s.identifier) * s.secret), 0n);
      assert.deepEqual(ed25519.Point.BASE.multiply(secret).toBytes(), pk);
    }
    assert.equal((await owner(mesh, 'server').status(LOCAL_CONTROL)).holdsShare, true);
  });

  test('k of n sign; the signature verifies with plain Ed25519; a non-owner learns the key', async () => {
    const message = await grantMessage(mesh.node('nas').node.keyring.node.signingPublicKey);
    const sig = await owner(mesh, 'server').sign(message, 'token-grant');
    assert.equal(ed25519.verify(sig, message, owner(mesh, 'laptop').publicKey()!), true);
    const token = await mintRootAsync({ sub: 'nas', aud: '*', ops: ['*'], zones: ['z:private'], holderKey: mesh.node('nas').node.keyring.node.signingPublicKey, ttlSeconds: 60 }, (m) => owner(mesh, 'desk').sign(m, 'token-grant'), owner(mesh, 'desk').publicKey()!);
    const nasStatus = await owner(mesh, 'nas').status(LOCAL_CONTROL);
    assert.equal(nasStatus.holdsShare, false);
    assert.deepEqual(owner(mesh, 'nas').publicKey(), owner(mesh, 'laptop').publicKey());
    assert.equal(verifyToken(token, { ownerKey: owner(mesh, 'nas').publicKey()! }).claims.sub, 'nas');
  });

  test('a grant near its expiry is renewed by k owner devices; one not due is left alone', async () => {
    const o = owner(mesh, 'server');
    const old = o.deviceGrant()!;
    const exp = verifyToken(old, { ownerKey: o.publicKey()! }).claims.exp;
    assert.equal(await o.renewIfDue(), false);
    assert.equal(o.deviceGrant(), old);
    assert.equal(await o.renewIfDue(exp - 86_400), true);
    const renewed = o.deviceGrant()!;
    assert.notDeepEqual(renewed, old);
    assert.deepEqual(verifyToken(renewed, { ownerKey: o.publicKey()! }).claims.holderKey, mesh.node('server').node.keyring.node.signingPublicKey);
    assert.deepEqual(verifyToken(renewed, { ownerKey: o.publicKey()! }).claims.zones, ['z:community', 'z:owner', 'z:private', 'z:public', 'z:work'], 'a renewed grant keeps every zone the device may hold');
    assert.deepEqual(readFileSync(join(mesh.dir, 'server', 'owner', 'grant.cose')), Buffer.from(renewed));
  });

  test('participants refuse blind bytes and unknown purposes', async () => {
    await assert.rejects(owner(mesh, 'laptop').sign(randomBytes(40), 'token-grant'), (e) => codeOf(e) === 'OWNER_BAD_PURPOSE');
    await assert.rejects(owner(mesh, 'laptop').sign(await grantMessage(randomBytes(32)), 'anything'), (e) => codeOf(e) === 'OWNER_BAD_PURPOSE');
    const notRevocation = sigStructure1(new Uint8Array([0xa0]), new Uint8Array([0xa0]));
    await assert.rejects(owner(mesh, 'laptop').sign(notRevocation, 'revocation'), (e) => codeOf(e) === 'OWNER_BAD_PURPOSE');
  });

  test('a non-owner device cannot take part (AUTHZ_DENIED)', async () => {
    const nas = mesh.node('nas').node;
    for (const op of ['commit', 'dkg1'] as const) {
      const req = op === 'commit' ? { op, session: randomBytes(16) } : { op, session: randomBytes(16), threshold: 2, participants: [{ identifier: 1, stableId: idOf(mesh, 'nas') }, { identifier: 2, stableId: idOf(mesh, 'laptop') }] };
      const reply = expectReply(await nas.call(idOf(mesh, 'laptop'), { t: 'owner', body: encodeOwnerRequest(req) }, 5_000), 'owner_result');
      assert.throws(() => decodeOwnerReply(reply.body, 'laptop'), (e) => codeOf(e) === 'AUTHZ_DENIED');
    }
  });

  test('a replayed round-2 request is refused', async () => {
    const server = mesh.node('server').node;
    const laptop = idOf(mesh, 'laptop');
    const session = randomBytes(16);
    const ask = async (req: Parameters<typeof encodeOwnerRequest>[0]) => decodeOwnerReply(expectReply(await server.call(laptop, { t: 'owner', body: encodeOwnerRequest(req) }, 5_000), 'owner_result').body, 'laptop');
    const c = await ask({ op: 'commit', session });
    const group = owner(mesh, 'laptop')['group']!;
    const me = group.participants.find((p) => p.hostName === 'laptop')!.identifier;
    const other = group.participants.find((p) => p.hostName !== 'laptop')!.identifier;
    const fake = frostCommit(frostSplitKey(3, 2)[other - 1]!).commitment;
    const commitments = [{ identifier: me, hiding: c['hiding'] as Uint8Array, binding: c['binding'] as Uint8Array }, fake];
    const sign = { op: 'sign' as const, session, purpose: 'token-grant', message: await grantMessage(randomBytes(32)), commitments };
    const first = await ask(sign);
    assert.equal((first['z'] as Uint8Array).length, 32);
    await assert.rejects(ask(sign), (e) => codeOf(e) === 'OWNER_NONCE_USED');
    await assert.rejects(ask({ op: 'commit', session }), (e) => codeOf(e) === 'OWNER_NONCE_USED');
  });

  test('a bad signature share is named', async () => {
    owner(mesh, 'server').faults = { badSignatureShare: true };
    owner(mesh, 'desk').faults = { badSignatureShare: true };
    try {
      await assert.rejects(owner(mesh, 'laptop').sign(await grantMessage(randomBytes(32)), 'token-grant'), (e) => codeOf(e) === 'OWNER_BAD_SHARE' && /(server|desk) \(participant \d\)/.test((e as Error).message));
    } finally {
      owner(mesh, 'server').faults = {};
      owner(mesh, 'desk').faults = {};
    }
  });

  test('with k-1 owner devices up: OWNER_TOO_FEW_ONLINE; a restart keeps the share', async () => {
    const shareBefore = owner(mesh, 'server')['share']!.secret;
    await mesh.kill('server');
    await mesh.kill('desk');
    await assert.rejects(owner(mesh, 'laptop').sign(await grantMessage(randomBytes(32)), 'token-grant'), (e) => codeOf(e) === 'OWNER_TOO_FEW_ONLINE' && /1 of the 2 .*\(laptop\).*(server|desk)/.test((e as Error).message));
    await mesh.startNode('server');
    assert.equal(owner(mesh, 'server')['share']!.secret, shareBefore);
    await waitFor('laptop sees server again', () => mesh.node('laptop').node.directory.byStableId(idOf(mesh, 'server'))?.peer.online === true);
    const message = await grantMessage(randomBytes(32));
    const sig = await owner(mesh, 'server').sign(message, 'token-grant');
    assert.equal(ed25519.verify(sig, message, owner(mesh, 'server').publicKey()!), true);
    assert.ok(owner(mesh, 'server').deviceGrant());
    await mesh.startNode('desk');
  });
});

describe('owner key generation with a cheating participant', () => {
  let mesh: InProcessMesh;
  before(async () => {
    mesh = await InProcessMesh.start(tailnet(141));
    await formed(mesh);
  });
  after(async () => mesh?.stop());

  test('a participant sending a bad share is named, and nothing is kept', async () => {
    owner(mesh, 'server').faults = { badDkgShareTo: 1 };
    await assert.rejects(owner(mesh, 'laptop').init(LOCAL_CONTROL, 2), (e) => {
      assert.equal(codeOf(e), 'OWNER_DKG_FAILED', String(e));
      assert.match((e as Error).message, /server \(participant \d\) cheated/);
      return true;
    });
    for (const n of ['laptop', 'server', 'desk']) assert.equal(owner(mesh, n).publicKey(), undefined);
    owner(mesh, 'server').faults = {};
    const status = await owner(mesh, 'desk').init(LOCAL_CONTROL);
    assert.equal(status.threshold, 2);
  });
});

describe('an owner device that comes after the key is enrolled', () => {
  let mesh: InProcessMesh;
  before(async () => {
    mesh = await InProcessMesh.start(tailnet(142));
    await formed(mesh);
  });
  after(async () => mesh?.stop());

  test('a device whose fcpd is down takes no part; when it starts, the key signs its grant', async () => {
    await mesh.kill('desk');
    const status = await owner(mesh, 'laptop').init(LOCAL_CONTROL, 2);
    assert.deepEqual(status.participants.map((p) => p.hostName).sort(), ['laptop', 'server']);
    await mesh.startNode('desk');
    await waitFor('desk is enrolled', () => owner(mesh, 'desk').deviceGrant() !== undefined);
    const t = verifyToken(owner(mesh, 'desk').deviceGrant()!, { ownerKey: owner(mesh, 'laptop').publicKey()! });
    assert.equal(t.claims.sub, 'desk');
    assert.deepEqual(t.claims.holderKey, mesh.node('desk').node.keyring.node.signingPublicKey);
    const desk = await owner(mesh, 'desk').status(LOCAL_CONTROL);
    assert.equal(desk.holdsShare, false);
    assert.ok(desk.grantExpiresAt && Date.parse(desk.grantExpiresAt) > Date.now() + 29 * 86_400_000);
    await assert.rejects(owner(mesh, 'desk').sign(await grantMessage(randomBytes(32)), 'token-grant'), (e) => codeOf(e) === 'OWNER_NOT_OWNER');
  });
});
