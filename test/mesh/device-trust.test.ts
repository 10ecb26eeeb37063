// A reset device (new data dir, so a new node signing key) is trusted again: by the local user
// with `fcp device trust` (the key asked of the device itself, fingerprints compared), or at once
// when it presents an owner grant binding its stable id to the new key. Its own last head, kept
// by the others, is recovered and re-published above the old seq; the hub reads the same pins.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { LOCAL_CONTROL, LOCAL_LIBRARY } from '../../src/authz/index.js';
import type { RefRecord } from '../../src/crypto/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { keyFingerprint, refSignatureValid, SignerKeys } from '../../src/mesh/index.js';
import pino from 'pino';
import { testOwnerAuthority } from '../hub/helpers.js';
import { InProcessMesh } from './in-process.js';

const P = LOCAL_LIBRARY;
const ZONE = 'z:private';
const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

function helpers(get: () => InProcessMesh) {
  const id = (name: string) => get().tailnet.device(name).stableId;
  const publicKey = (name: string) => get().node(name).node.keyring.node.signingPublicKey;
  const headOf = (holder: string, device: string): RefRecord | undefined => get().node(holder).node.store.listRefs(ZONE).find((r) => r.device === id(device));
  const names = async (name: string) => (await get().node(name).services.names.list(P, '', { recursive: true })).entries.filter((e) => e.kind === 'file').map((e) => e.path);
  return { id, publicKey, headOf, names };
}

describe('fcp device trust: a reset device trusted again by the local user', () => {
  let mesh: InProcessMesh;
  const { id, publicKey, headOf, names } = helpers(() => mesh);

  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(153));
    await mesh.node('laptop').services.names.putFile(P, 'a.txt', new Uint8Array(randomBytes(3_000)));
    await mesh.node('phone').services.names.putFile(P, 'p1.txt', new Uint8Array(randomBytes(2_000)));
    // server reads: it pins phone's key and holds phone's head.
    assert.deepEqual(await names('server'), ['a.txt', 'p1.txt']);
  });
  after(async () => mesh?.stop());

  test('a reset device is refused, recovers its own head, and is trusted again once the local user confirms its key', async () => {
    const oldKey = publicKey('phone');
    const oldHead = headOf('server', 'phone')!;
    assert.ok(refSignatureValid(oldHead, oldKey));
    await mesh.reset('phone');
    const newKey = publicKey('phone');
    assert.notDeepEqual(newKey, oldKey, 'a reset device has a new node key');

    // Its first read pulls its old head from the others and re-signs it above the old seq.
    assert.deepEqual(await names('phone'), ['a.txt', 'p1.txt'], 'the reset device sees its old files again');
    const recovered = headOf('phone', 'phone')!;
    assert.equal(recovered.seq, oldHead.seq + 1, 'its head continues above the old seq');
    assert.deepEqual(recovered.commit, oldHead.commit, 'with the old commit');
    assert.ok(refSignatureValid(recovered, newKey), 'signed with the new key');

    await mesh.node('phone').services.names.putFile(P, 'p2.txt', new Uint8Array([1, 2, 3]));
    assert.deepEqual(await names('server'), ['a.txt', 'p1.txt'], 'server still refuses the new key: p2.txt is not seen');
    assert.equal(headOf('server', 'phone')!.seq, oldHead.seq, 'and keeps the old head');
    assert.deepEqual(mesh.node('server').node.signers.pinned(id('phone')), oldKey);

    const lifecycle = mesh.node('server').services.lifecycle;
    const plan = await lifecycle.planTrust(LOCAL_CONTROL, 'phone');
    assert.deepEqual(
      { pinned: plan.pinned, presented: plan.presented, same: plan.same, stableId: plan.stableId },
      { pinned: keyFingerprint(oldKey), presented: keyFingerprint(newKey), same: false, stableId: id('phone') },
      'the plan shows both fingerprints, the new one asked of the device itself',
    );
    await assert.rejects(lifecycle.trustDevice(LOCAL_CONTROL, 'phone', keyFingerprint(oldKey)), code('DEVICE_KEY_MISMATCH'), 'a key other than the one confirmed is not pinned');
    assert.deepEqual(mesh.node('server').node.signers.pinned(id('phone')), oldKey, 'the pin is unchanged');

    const r = await lifecycle.trustDevice(LOCAL_CONTROL, 'phone', plan.presented);
    assert.equal(r.changed, true);
    assert.deepEqual(mesh.node('server').node.signers.pinned(id('phone')), newKey);
    // The pin is on disk: a restart keeps it.
    const reread = new SignerKeys({ path: join(mesh.dir, 'server', 'signer-keys.json'), self: { stableId: 'x', signingPublicKey: new Uint8Array(32) }, ask: () => Promise.reject(new Error('no')), log: pino({ level: 'silent' }) });
    assert.deepEqual(reread.pinned(id('phone')), newKey);

    assert.deepEqual(await names('server'), ['a.txt', 'p1.txt', 'p2.txt'], 'phone\'s new head is taken now');
    assert.ok(refSignatureValid(headOf('server', 'phone')!, newKey));
    assert.equal((await lifecycle.trustDevice(LOCAL_CONTROL, 'phone')).changed, false, 'trusting the same key again changes nothing');

    const renewals = mesh.node('server').recorder.entries({ zone: 'device' }).filter((e) => e.event.kind === 'device.key-renewed');
    assert.equal(renewals.length, 1, 'the renewal is one audit event');
    assert.deepEqual(renewals[0]!.event.detail, { old: keyFingerprint(oldKey), new: keyFingerprint(newKey), by: 'local-user' });
    // Devices that were not told still refuse the new key until they are (each device pins for itself).
    assert.deepEqual(mesh.node('laptop').node.signers.pinned(id('phone')), oldKey);
  });

  test('the hub verifies records with the same pins (a profile\'s key never replaces one)', async () => {
    await mesh.node('laptop').hubMesh.tick();
    const hubKey = (mesh.node('laptop').hubMesh as unknown as { signingKeyOf(id: string): Uint8Array | undefined }).signingKeyOf(id('phone'));
    assert.deepEqual(hubKey, mesh.node('laptop').node.signers.pinned(id('phone')), 'the hub reads the pin');
    assert.notDeepEqual(hubKey, publicKey('phone'), 'phone\'s profile (its new key) did not change laptop\'s pin');
  });

  test('refusals: self, an unreachable device, a removed device, a typo', async () => {
    const lifecycle = mesh.node('server').services.lifecycle;
    await assert.rejects(lifecycle.planTrust(LOCAL_CONTROL, 'server'), code('DEVICE_IS_SELF'));
    await assert.rejects(lifecycle.planTrust(LOCAL_CONTROL, 'phnoe'), (e: unknown) => code('DEVICE_NOT_FOUND')(e) && /did you mean phone\?/.test((e as Error).message));
    await mesh.kill('desktop');
    await assert.rejects(lifecycle.planTrust(LOCAL_CONTROL, 'desktop'), code('DEVICE_KEY_UNKNOWN'), 'a device whose fcpd does not answer cannot present its key');
    await assert.rejects(lifecycle.trustDevice(LOCAL_CONTROL, 'desktop'), code('DEVICE_KEY_UNKNOWN'));
    const w = mesh.tailnet.device('worklaptop');
    await mesh.node('server').node.removeDevices([{ stableId: w.stableId, hostName: 'worklaptop', zones: ['z:work'], at: Date.now(), by: id('server') }]);
    await assert.rejects(lifecycle.planTrust(LOCAL_CONTROL, 'worklaptop'), code('DEVICE_REMOVED'));
    await assert.rejects(lifecycle.trustDevice(LOCAL_CONTROL, 'worklaptop'), code('DEVICE_REMOVED'));
  });
});

describe('owner grant: a reset device presenting a grant for its new key is trusted at once', () => {
  let mesh: InProcessMesh;
  const { id, publicKey, headOf, names } = helpers(() => mesh);
  const ownerSeed = new Uint8Array(randomBytes(32));
  const ownerKey = ed25519.getPublicKey(ownerSeed);

  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(154), { ownerAuthority: () => testOwnerAuthority(ownerSeed, ownerKey) });
    await mesh.node('laptop').services.names.putFile(P, 'a.txt', new Uint8Array(randomBytes(3_000)));
    await mesh.node('phone').services.names.putFile(P, 'p1.txt', new Uint8Array(randomBytes(2_000)));
    assert.deepEqual(await names('server'), ['a.txt', 'p1.txt']);
  });
  after(async () => mesh?.stop());

  test('the pin is replaced, logged as an audit event, and the new head taken without a command', async () => {
    const oldKey = publicKey('phone');
    assert.deepEqual(mesh.node('server').node.signers.pinned(id('phone')), oldKey);
    await mesh.reset('phone');
    const newKey = publicKey('phone');
    await mesh.node('phone').services.names.putFile(P, 'p2.txt', new Uint8Array([4, 5, 6]));
    // server's next read: phone's head fails under the old pin, phone is asked again, presents a grant.
    assert.deepEqual(await names('server'), ['a.txt', 'p1.txt', 'p2.txt']);
    assert.deepEqual(mesh.node('server').node.signers.pinned(id('phone')), newKey);
    assert.ok(refSignatureValid(headOf('server', 'phone')!, newKey));
    const renewals = mesh.node('server').recorder.entries({ zone: 'device' }).filter((e) => e.event.kind === 'device.key-renewed');
    assert.deepEqual(renewals.map((e) => e.event.detail), [{ old: keyFingerprint(oldKey), new: keyFingerprint(newKey), by: 'owner-grant' }]);
  });

  test('a key without a grant for it is still refused: the grant of one device does not vouch for another', async () => {
    const signers = mesh.node('server').node.signers;
    const other = ed25519.getPublicKey(new Uint8Array(randomBytes(32)));
    const before = await signers.keyOf(id('desktop'));
    assert.deepEqual(before, publicKey('desktop'));
    // desktop's own grant is for desktop's key; offered with another key, or for laptop's id, it vouches for nothing.
    const desktopGrant = testOwnerAuthority(ownerSeed, ownerKey)({ signingPublicKey: before, hostName: 'desktop', stableId: id('desktop'), zones: [ZONE] }).deviceGrant()!;
    assert.equal(signers.offer(id('desktop'), other, desktopGrant), 'changed');
    assert.equal(signers.offer(id('laptop'), before, desktopGrant), 'changed');
    assert.deepEqual(signers.pinned(id('desktop')), before);
    const wrongOwner = testOwnerAuthority(new Uint8Array(randomBytes(32)), ownerKey)({ signingPublicKey: other, hostName: 'desktop', stableId: id('desktop'), zones: [ZONE] }).deviceGrant()!;
    assert.equal(signers.offer(id('desktop'), other, wrongOwner), 'changed', 'a grant not signed by the owner key');
    const right = testOwnerAuthority(ownerSeed, ownerKey)({ signingPublicKey: other, hostName: 'desktop', stableId: id('desktop'), zones: [ZONE] }).deviceGrant()!;
    assert.equal(signers.offer(id('desktop'), other, right), 'renewed', 'the grant for that id and key renews it');
  });
});
