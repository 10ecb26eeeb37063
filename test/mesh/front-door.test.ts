// The front door against hostile and confused peers, in process (real FCP over TCP, memory
// stores): every request path is authorized, and no write changes what is stored: no other
// bytes at a position, no other zone for an object, no symbols under another zone key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { SymbolSealer, objectIdFromHex, type Manifest } from '../../src/crypto/index.js';
import { Keyring } from '../../src/mesh/index.js';
import { encodeAndSeal } from '../../src/mesh/objects.js';
import { RpcConnection } from '../../src/mesh/rpc.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from './in-process.js';

const NET: TailnetDescription = {
  tailnet: 'front.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1, address: '127.77.21.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 2, address: '127.77.21.2' },
    { name: 'desktop', tags: ['tag:fcp-private'], os: 'windows', path: 'direct', latencyMs: 3, address: '127.77.21.3' },
    { name: 'phone', tags: ['tag:fcp-owner'], os: 'iOS', path: 'derp', latencyMs: 30, address: '127.77.21.4' },
    { name: 'guest', tags: ['tag:fcp-public'], os: 'linux', path: 'direct', latencyMs: 5, address: '127.77.21.5' },
  ],
};

async function connectAs(mesh: InProcessMesh, from: string, to: string): Promise<RpcConnection> {
  const socket = net.connect({ host: mesh.tailnet.device(to).address, port: 9473, localAddress: mesh.tailnet.device(from).address });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new RpcConnection(socket);
}

const code = (c: string) => (err: Error & { code?: string; details?: { peerCode?: string } }) => err.code === c || err.details?.peerCode === c;

/** Symbols of `data` sealed by `device` under its key of `zone`, labelled with object id `objectId`. */
async function forge(mesh: InProcessMesh, device: string, zone: string, objectId: Uint8Array, data: Uint8Array) {
  const keyring = await Keyring.load(`${mesh.dir}/${device}`);
  const zk = keyring.requireZoneKey(zone);
  const encoded = await encodeAndSeal(data, (k) => k + 2, { zk, sealer: new SymbolSealer(`forger-${device}`), objectId });
  return { zk, encoded, symbols: encoded.blocks.flatMap((b) => b.symbols) };
}

describe('front door: every request authorized, nothing stored is changed', () => {
  let mesh: InProcessMesh;
  let owner: string;
  let priv: string;
  const ownerData = new Uint8Array(randomBytes(120_000));
  const privData = new Uint8Array(randomBytes(80_000));

  before(async () => {
    mesh = await InProcessMesh.start(NET);
    owner = await mesh.node('laptop').store(ownerData, 'z:owner');
    priv = await mesh.node('laptop').store(privData, 'z:private');
  });
  after(async () => mesh?.stop());

  test('a z:public device naming a z:owner object under z:public can neither overwrite, relabel nor erase it', async () => {
    const conn = await connectAs(mesh, 'guest', 'laptop');
    const id = objectIdFromHex(owner);
    try {
      const { symbols, encoded, zk } = await forge(mesh, 'guest', 'z:public', id, new Uint8Array(randomBytes(1000)));
      await assert.rejects(conn.request({ t: 'store', objectId: id, zone: 'z:public', symbols }), code('MESH_CONFLICT'));
      const manifest: Manifest = { objectId: id, zone: 'z:public', schema: 'x', oti: encoded.oti, length: 1000, keyId: zk.keyId, epoch: zk.epoch, created: 1, writer: 'guest', placement: { target: 1.5, minDevices: 1, maxShare: 1, tolerate: 1 } };
      await assert.rejects(conn.request({ t: 'manifest_put', manifest }), code('MESH_CONFLICT'));
      await assert.rejects(conn.request({ t: 'delete', objectId: id }), code('AUTHZ_DENIED'));
      await assert.rejects(conn.request({ t: 'drop', objectId: id, keys: [[0, 0]] }), code('AUTHZ_DENIED'));
      await assert.rejects(conn.request({ t: 'have', objectId: id }), code('AUTHZ_DENIED'));
      await assert.rejects(conn.request({ t: 'manifest_get', objectId: id }), code('AUTHZ_DENIED'));
    } finally {
      conn.close();
    }
    const back = await mesh.node('server').retrieve(owner, { verify: true });
    assert.deepEqual(Buffer.from(back), Buffer.from(ownerData));
    assert.equal(mesh.stores.get('laptop')!.getManifest(id)!.zone, 'z:owner');
  });

  test('a stored symbol is never replaced by other bytes, even by a device of its zone', async () => {
    const conn = await connectAs(mesh, 'server', 'laptop');
    const id = objectIdFromHex(owner);
    try {
      const { symbols } = await forge(mesh, 'server', 'z:owner', id, new Uint8Array(randomBytes(ownerData.length)));
      const held = mesh.stores.get('laptop')!.symbolKeys(id);
      const clash = symbols.filter((s) => held.some(([b, e]) => b === s.sbn && e === s.esi)).slice(0, 3);
      assert.ok(clash.length > 0);
      await assert.rejects(conn.request({ t: 'store', objectId: id, zone: 'z:owner', symbols: clash }), code('STORE_CONFLICT'));
    } finally {
      conn.close();
    }
    assert.deepEqual(Buffer.from(await mesh.node('laptop').retrieve(owner, { verify: true })), Buffer.from(ownerData));
  });

  test('list over DERP shows no z:owner manifests; z:private ones may cross', async () => {
    const conn = await connectAs(mesh, 'phone', 'laptop');
    try {
      const r = await conn.request({ t: 'list' });
      assert.equal(r.t, 'list_result');
      const zones = (r as { manifests: Manifest[] }).manifests.map((m) => m.zone);
      assert.ok(zones.includes('z:private'));
      assert.ok(!zones.includes('z:owner'), 'z:owner manifests went to a caller on DERP');
    } finally {
      conn.close();
    }
    // On a direct path the same device sees them.
    mesh.tailnet.setPath('phone', 'direct');
    await mesh.node('laptop').node.directory.refresh();
    const direct = await connectAs(mesh, 'phone', 'laptop');
    try {
      const r = (await direct.request({ t: 'list' })) as unknown as { manifests: Manifest[] };
      assert.ok(r.manifests.some((m) => m.zone === 'z:owner'));
    } finally {
      direct.close();
      mesh.tailnet.setPath('phone', 'derp');
      await mesh.node('laptop').node.directory.refresh();
    }
  });

  test('symbols of an object with no manifest are erased only by a writer of their zone', async () => {
    const orphanId = new Uint8Array(randomBytes(32));
    const { symbols } = await forge(mesh, 'laptop', 'z:owner', orphanId, new Uint8Array(randomBytes(5000)));
    const store = mesh.stores.get('laptop')!;
    await store.putSymbols(orphanId, symbols);
    for (const who of ['guest', 'desktop']) {
      const conn = await connectAs(mesh, who, 'laptop');
      try {
        await assert.rejects(conn.request({ t: 'delete', objectId: orphanId }), code('AUTHZ_DENIED'), who);
      } finally {
        conn.close();
      }
    }
    assert.equal(store.symbolKeys(orphanId).length, symbols.length);
    const conn = await connectAs(mesh, 'server', 'laptop');
    try {
      await conn.request({ t: 'delete', objectId: orphanId });
    } finally {
      conn.close();
    }
    assert.equal(store.symbolKeys(orphanId).length, 0);
  });

  test('a manifest for an object of which this device holds no symbols is refused and never listed', async () => {
    const ghost = new Uint8Array(randomBytes(32));
    const { encoded, zk } = await forge(mesh, 'server', 'z:owner', ghost, new Uint8Array(randomBytes(3000)));
    const manifest: Manifest = { objectId: ghost, zone: 'z:owner', schema: 'x', oti: encoded.oti, length: 3000, keyId: zk.keyId, epoch: zk.epoch, created: 1, writer: 'server', placement: { target: 1.5, minDevices: 1, maxShare: 1, tolerate: 1 } };
    const conn = await connectAs(mesh, 'server', 'laptop');
    try {
      await assert.rejects(conn.request({ t: 'manifest_put', manifest }), code('MESH_REFUSED'));
    } finally {
      conn.close();
    }
    const listed = await mesh.node('laptop').list();
    assert.ok(!listed.some((o) => o.objectId === Buffer.from(ghost).toString('hex')));
  });

  test('local actions are refused to peers, peer actions to the local user; unknown zones are errors', async () => {
    await assert.rejects(mesh.node('laptop').list('z:privte'), code('ZONE_UNKNOWN'));
    await assert.rejects(mesh.node('desktop').store(new Uint8Array(10), 'z:owner'), code('AUTHZ_DENIED'));
    assert.ok((await mesh.node('laptop').list('z:private')).some((o) => o.objectId === priv));
    // A 12-digit prefix, as the CLI shows ids, names the object on this device.
    assert.deepEqual(Buffer.from(await mesh.node('laptop').retrieve(priv.slice(0, 12))), Buffer.from(privData));
  });
});

describe('a device set up with other zone keys (a second `fcp init --first`)', () => {
  let mesh: InProcessMesh;
  before(async () => {
    mesh = await InProcessMesh.start(
      { ...NET, nodes: NET.nodes.map((n) => ({ ...n, address: n.address!.replace('127.77.21.', '127.77.22.') })) },
      { foreignKeys: ['desktop'] },
    );
  });
  after(async () => mesh?.stop());

  test('refuses symbols at store time with MESH_KEY_MISMATCH; the object lands on the others, whole', async () => {
    const data = new Uint8Array(randomBytes(60_000));
    const id = await mesh.node('laptop').store(data, 'z:private');
    assert.equal(mesh.stores.get('desktop')!.symbolKeys(objectIdFromHex(id)).length, 0, 'the mismatched device holds nothing');
    assert.deepEqual(Buffer.from(await mesh.node('server').retrieve(id, { verify: true })), Buffer.from(data));
    const conn = await connectAs(mesh, 'laptop', 'desktop');
    try {
      const { symbols } = await forge(mesh, 'laptop', 'z:private', objectIdFromHex(id), data);
      await assert.rejects(conn.request({ t: 'store', objectId: objectIdFromHex(id), zone: 'z:private', symbols: symbols.slice(0, 2) }), (err: Error) => {
        assert.match(err.message, /another z:private key/);
        return code('MESH_KEY_MISMATCH')(err);
      });
    } finally {
      conn.close();
    }
  });
});
