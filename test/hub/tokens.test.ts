// Capability tokens in use: once the owner key exists, every hub invoke needs a token whose chain
// ends at the owner key, checked by authorize() on the device asked and again on the device that
// runs the connector. A device calls with its owner-signed grant; an agent with a narrower token
// attenuated from it, proved by the agent's own key for each request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { LOCAL_CONTROL, attenuate, mintRoot, proveHolder, verifyToken, type Credential, type Principal } from '../../src/authz/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startControlServer } from '../../src/daemon/control-server.js';
import { InProcessMesh } from '../mesh/in-process.js';

import { fcp, testManifest, testOwnerAuthority } from './helpers.js';

const FCP_BIN = fileURLToPath(new URL('../../../bin/fcp.js', import.meta.url));

// The owner key of this test mesh: a real Ed25519 key (the mesh's is a FROST key; verification is the same).
const ownerSeed = new Uint8Array(randomBytes(32));
const ownerKey = ed25519.getPublicKey(ownerSeed);
const grantless = new Set(['phone']);

const testOwner = (device: string) => testOwnerAuthority(ownerSeed, ownerKey, grantless.has(device));

const trace = () => randomBytes(16).toString('hex');
const code = (c: string) => (e: Error & { code?: string }) => {
  assert.equal(e.code, c, e.message);
  return true;
};

describe('capability tokens on hub invokes', () => {
  let mesh: InProcessMesh;
  let agentSeed: Uint8Array;
  let agentToken: Uint8Array;

  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(137), { hub: { leaseMs: 1500, pollMs: 200 }, ownerAuthority: (d) => testOwner(d), revocationSyncMs: 0, revocationMaxAgeMs: 2_000 });
    await mesh.node('server').hubMesh.setProfile(LOCAL_CONTROL, { alwaysOn: true });
    const laptop = mesh.node('laptop');
    await until(() => laptop.hubMesh.devices(LOCAL_CONTROL).find((d) => d.hostName === 'server' && d.profile?.alwaysOn));
    await laptop.services.hub.install(LOCAL_CONTROL, testManifest('testc'));
    await until(() => mesh.node('server').hubMesh.placements().some((p) => p.id === 'testc' && p.runningOn === 'server'));
    // An agent's token: echo only, attenuated from the laptop's grant with the laptop's node key.
    const grant = testOwner('laptop')({ signingPublicKey: laptop.node.keyring.node.signingPublicKey, hostName: 'laptop', zones: ['z:owner', 'z:private'] }).deviceGrant()!;
    agentSeed = new Uint8Array(randomBytes(32));
    agentToken = attenuate(grant, laptop.node.keyring.node.signingSecretKey, { parentClaims: verifyToken(grant, { ownerKey }).claims, sub: 'agent', aud: 'testc', ops: ['echo'], zones: ['z:private'], holderKey: ed25519.getPublicKey(agentSeed), ttlSeconds: 600 });
  });
  after(async () => {
    await new Promise<void>((r) => (control ? control.close(() => r()) : r()));
    await mesh?.stop();
  });
  let control: http.Server | undefined;

  const as = (token: Uint8Array, seed: Uint8Array, traceId: string, op: string, time?: number): Principal => {
    const credential: Credential = { token, proof: proveHolder(verifyToken(token, { ownerKey }).claims, seed, traceId, op, time) };
    return { ...LOCAL_CONTROL, credential };
  };
  const opts = (traceId: string) => ({ traceId, deadline: Date.now() + 5_000 });

  test('a device calls with its grant: the device running the connector checks it again', async () => {
    const r = (await mesh.node('laptop').services.hub.invoke(LOCAL_CONTROL, 'testc', 'echo', { msg: 'hi' }, opts(trace()))) as { echo: { msg: string } };
    assert.equal(r.echo.msg, 'hi');
    // The phone has no grant from the owner key: refused, with the FCP code.
    await until(() => mesh.node('phone').hubMesh.installed().some((c) => c.id === 'testc'));
    await assert.rejects(mesh.node('phone').services.hub.invoke(LOCAL_CONTROL, 'testc', 'echo', { msg: 'x' }, opts(trace())), code('FCP_ERR_CAPABILITY_DENIED'));
    // The device running it does not take the caller's word: an invoke over FCP without a token is refused there.
    const server = mesh.node('server').node.self.stableId;
    await assert.rejects(
      mesh.node('laptop').node.call(server, { t: 'invoke', connector: 'testc', op: 'echo', input: '{"msg":"x"}', deadlineMs: 5000, traceId: trace() }),
      (e: Error & { code?: string; details?: { peerCode?: string } }) => {
        assert.equal(e.details?.peerCode, 'FCP_ERR_CAPABILITY_DENIED', e.message);
        return true;
      },
    );
  });

  test("an agent's attenuated token works across devices for what it grants, and nothing else", async () => {
    const laptop = mesh.node('laptop').services.hub;
    const t = trace();
    const r = (await laptop.invoke(as(agentToken, agentSeed, t, 'testc.echo'), 'testc', 'echo', { msg: 'agent' }, opts(t))) as { echo: { msg: string } };
    assert.equal(r.echo.msg, 'agent');
    // The same request again: a replayed proof.
    await assert.rejects(laptop.invoke(as(agentToken, agentSeed, t, 'testc.echo'), 'testc', 'echo', { msg: 'agent' }, opts(t)), code('FCP_ERR_REPLAY'));
    const t2 = trace();
    await assert.rejects(laptop.invoke(as(agentToken, agentSeed, t2, 'testc.state'), 'testc', 'state', {}, opts(t2)), code('FCP_ERR_CAPABILITY_DENIED'));
  });

  test('a stolen token without its holder key, a proof for another request, a tampered or expired token are refused', async () => {
    const laptop = mesh.node('laptop').services.hub;
    const thief = new Uint8Array(randomBytes(32));
    let t = trace();
    await assert.rejects(laptop.invoke(as(agentToken, thief, t, 'testc.echo'), 'testc', 'echo', { msg: 'x' }, opts(t)), code('FCP_ERR_TOKEN_HOLDER_MISMATCH'));
    t = trace();
    await assert.rejects(laptop.invoke(as(agentToken, agentSeed, trace(), 'testc.echo'), 'testc', 'echo', { msg: 'x' }, opts(t)), code('FCP_ERR_TOKEN_HOLDER_MISMATCH'));
    const tampered = new Uint8Array(agentToken);
    tampered[tampered.length - 3]! ^= 1;
    t = trace();
    await assert.rejects(laptop.invoke({ ...LOCAL_CONTROL, credential: { token: tampered, proof: { requestId: t, time: Math.floor(Date.now() / 1000), signature: new Uint8Array(64) } } }, 'testc', 'echo', { msg: 'x' }, opts(t)), code('FCP_ERR_TOKEN_SIG_INVALID'));
    // A token that another owner key signed.
    const otherSeed = new Uint8Array(randomBytes(32));
    const foreign = mintRoot({ sub: 'x', aud: '*', ops: ['*'], zones: ['z:private'], holderKey: ed25519.getPublicKey(agentSeed), ttlSeconds: 60 }, otherSeed, ed25519.getPublicKey(otherSeed));
    t = trace();
    const foreignCredential: Credential = { token: foreign, proof: proveHolder(verifyToken(foreign, { ownerKey: ed25519.getPublicKey(otherSeed) }).claims, agentSeed, t, 'testc.echo') };
    await assert.rejects(laptop.invoke({ ...LOCAL_CONTROL, credential: foreignCredential }, 'testc', 'echo', { msg: 'x' }, opts(t)), code('FCP_ERR_TOKEN_SIG_INVALID'));
    const laptopNode = mesh.node('laptop').node.keyring.node;
    const past = Math.floor(Date.now() / 1000) - 7200;
    const oldGrant = mintRoot({ sub: 'laptop', aud: '*', ops: ['*'], zones: ['z:private'], holderKey: laptopNode.signingPublicKey, ttlSeconds: 3600, now: past }, ownerSeed, ownerKey);
    const expired = attenuate(oldGrant, laptopNode.signingSecretKey, { parentClaims: verifyToken(oldGrant, { ownerKey, now: past + 1 }).claims, sub: 'old', aud: 'testc', ops: ['echo'], zones: ['z:private'], holderKey: ed25519.getPublicKey(agentSeed), ttlSeconds: 600, now: past });
    t = trace();
    const expiredProof = proveHolder(verifyToken(expired, { ownerKey, now: past + 1 }).claims, agentSeed, t, 'testc.echo');
    await assert.rejects(laptop.invoke({ ...LOCAL_CONTROL, credential: { token: expired, proof: expiredProof } }, 'testc', 'echo', { msg: 'x' }, opts(t)), code('FCP_ERR_TOKEN_EXPIRED'));
  });
});

describe('revocation', () => {
  let mesh: InProcessMesh;
  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(139), { hub: { leaseMs: 1500, pollMs: 200 }, ownerAuthority: (d) => testOwner(d), revocationSyncMs: 0, revocationMaxAgeMs: 2_000 });
    const m = testManifest('testr');
    await mesh.node('laptop').services.hub.install(LOCAL_CONTROL, { ...m, operations: m.operations.map((o) => (o.name === 'state' ? { ...o, risk: 'risky' as const } : o)) });
    await until(() => [...mesh.nodes.values()].some((n) => n.hubMesh.placements().some((p) => p.id === 'testr' && p.runningOn === n.node.self.hostName)));
    for (const d of ['laptop', 'desktop', 'server']) await until(() => mesh.node(d).hubMesh.installed().some((c) => c.id === 'testr'));
  });
  after(async () => mesh?.stop());

  test('a revoked token stops working on every online device; a device that was away learns it when back', async () => {
    const laptop = mesh.node('laptop');
    const minted = await laptop.services.tokens.mint(LOCAL_CONTROL, { connector: 'testr', ops: ['echo'], ttlSeconds: 600, name: 'assistant' });
    const agent = { token: minted.token, key: minted.key! };
    const call = (device: string) => {
      const t = trace();
      const credential: Credential = { token: agent.token, proof: proveHolder(verifyToken(agent.token, { ownerKey }).claims, agent.key, t, 'testr.echo') };
      return mesh.node(device).services.hub.invoke({ ...LOCAL_CONTROL, credential }, 'testr', 'echo', { msg: device }, { traceId: t, deadline: Date.now() + 5_000 });
    };
    for (const d of ['laptop', 'desktop', 'server']) assert.ok(await call(d), `works from ${d} before`);
    await mesh.kill('phone'); // away during the revocation
    const r = await laptop.services.revocations.revoke(LOCAL_CONTROL, [minted.id], 'the assistant was retired');
    assert.equal(r.seq, 1);
    assert.deepEqual([...r.told].sort(), ['desktop', 'server', 'worklaptop'], 'every online member was told at once');
    for (const d of ['laptop', 'desktop', 'server']) await assert.rejects(call(d), code('FCP_ERR_TOKEN_REVOKED'), `refused from ${d}`);
    await mesh.startNode('phone');
    await until(() => (mesh.node('phone').services.revocations.head().seq === 1 ? true : undefined));
    // Both are in the laptop's audit log, by token id (never the token's bytes).
    const kinds = laptop.services.audit.log(LOCAL_CONTROL, { zone: 'device', limit: 10_000 }).filter((e) => e.event.subject === minted.id && e.event.kind.startsWith('token.')).map((e) => e.event.kind);
    assert.deepEqual(kinds.sort(), ['token.mint', 'token.revoke']);
  });

  test('a risky call on a device whose revocation head went stale catches up with the members first, then runs', async () => {
    const laptop = mesh.node('laptop').services;
    const risky = () => laptop.hub.invoke(LOCAL_CONTROL, 'testr', 'state', {}, { traceId: trace(), deadline: Date.now() + 5_000, idempotencyKey: trace() });
    await Promise.all([...mesh.nodes.values()].map((n) => n.services.revocations.sync()));
    assert.ok(await risky(), 'fresh: the risky call runs');
    // No periodic sync here (revocationSyncMs 0): every head goes stale.
    await until(() => ((laptop.revocations.head().ageMs ?? 0) > 2_000 ? true : undefined), 10_000);
    assert.ok(await laptop.hub.invoke(LOCAL_CONTROL, 'testr', 'echo', { msg: 'safe' }, { traceId: trace(), deadline: Date.now() + 5_000 }), 'a safe call runs on a stale head');
    assert.ok((laptop.revocations.head().ageMs ?? 0) > 2_000, 'a safe call does not wait for a sync');
    // Checked after the safe call: a refusal starts a sync in the background, which would confirm the head.
    assert.throws(() => laptop.revocations.requireFresh('risky'), code('FCP_ERR_CHECKPOINT_STALE'), 'the freshness rule itself refuses a stale head');
    // The device running the connector checks its own freshness too: each catches up on its own.
    assert.ok(await risky(), 'the risky call caught up and ran');
    assert.ok((laptop.revocations.head().ageMs ?? Infinity) < 2_000, 'the laptop head was confirmed by the call');
  });
});

describe('fcp token mint and fcp mcp --token', () => {
  let mesh: InProcessMesh;
  let control: http.Server;
  let dataDir: string;
  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(138), { hub: { leaseMs: 1500, pollMs: 200 }, ownerAuthority: (d) => testOwner(d) });
    dataDir = join(mesh.dir, 'laptop');
    control = await startControlServer(mesh.node('laptop').services, join(dataDir, 'fcpd.sock'));
    await mesh.node('laptop').services.hub.install(LOCAL_CONTROL, testManifest('testc'));
    await until(() => [...mesh.nodes.values()].some((n) => n.hubMesh.placements().some((p) => p.id === 'testc' && p.runningOn === n.node.self.hostName)));
  });
  after(async () => {
    await new Promise<void>((r) => control?.close(() => r()));
    await mesh?.stop();
  });

  test('a token minted for echo lists and calls echo only, through a real MCP client', async () => {
    const file = join(mesh.dir, 'agent.token');
    const minted = await fcp(['token', 'mint', '--connector', 'testc', '--ops', 'echo', '--ttl', '10m', '--for', 'assistant', '--out', file, '--json', '--data-dir', dataDir]);
    assert.equal(minted.code, 0, minted.stderr);
    const shown = JSON.parse(minted.stdout) as { id: string; ops: string[]; zones: string[]; key?: string };
    assert.deepEqual(shown.ops, ['echo']);
    assert.equal(shown.key, undefined, 'the agent key is in the file, never printed');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /"key"/);
    const ls = await fcp(['token', 'ls', '--json', '--data-dir', dataDir]);
    assert.ok((JSON.parse(ls.stdout) as Array<{ id: string }>).some((t) => t.id === shown.id), 'listed on the device that minted it');
    const again = await fcp(['token', 'mint', '--connector', 'testc', '--ops', 'echo', '--out', file, '--data-dir', dataDir]);
    assert.equal(again.code, 5, 'an existing file is not overwritten');
    assert.match(again.stderr, /OUTPUT_EXISTS/);
    assert.equal(JSON.parse((await fcp(['token', 'ls', '--json', '--data-dir', dataDir])).stdout).length, 1, 'and no token was minted for it');

    const client = new Client({ name: 'scoped-assistant', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [FCP_BIN, 'mcp', '--token', file, '--data-dir', dataDir], stderr: 'pipe' }));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name), ['testc__echo'], 'tools/list shows what the token grants');
      const ok = await client.callTool({ name: 'testc__echo', arguments: { msg: 'scoped' } });
      assert.equal(ok.isError, undefined, JSON.stringify(ok));
      assert.match(JSON.stringify(ok.content), /scoped/);
      await assert.rejects(client.callTool({ name: 'testc__state', arguments: {} }), /no tool testc__state/, 'an operation the token does not grant is not callable');
    } finally {
      await client.close();
    }
    // Without the token the local user sees every operation (this device's grant).
    const all = await client.connect(new StdioClientTransport({ command: process.execPath, args: [FCP_BIN, 'mcp', '--data-dir', dataDir], stderr: 'pipe' })).then(() => client.listTools());
    assert.ok(all.tools.length > 1);
    await client.close();
  });

  test('a device the owner key has not granted cannot mint', async () => {
    await assert.rejects(mesh.node('phone').services.tokens.mint(LOCAL_CONTROL, { connector: 'testc', ops: ['echo'], ttlSeconds: 60 }), code('OWNER_NO_KEY'));
  });
});

async function until<T>(fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 10_000; i++) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    assert.ok(Date.now() < deadline, 'timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('unreachable');
}
