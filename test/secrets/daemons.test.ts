// Secrets across real fcpd daemons on the dev tailnet: real TCP, whois, zones and LMDB beside
// them. Afterwards every file the daemons wrote is scanned for the secret: none may hold it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevMesh, FIVE_DEVICES } from '../../src/devnet/index.js';
import { ControlError } from '../../src/daemon/index.js';

// Own loopback addresses, so this mesh can run beside other test files' meshes. The phone is
// reached directly here, so z:owner has three eligible devices (laptop, server, phone).
const DESCRIPTION = {
  ...FIVE_DEVICES,
  nodes: FIVE_DEVICES.nodes.map((n, i) => ({ ...n, address: `127.77.6.${i + 1}`, ...(n.name === 'phone' ? { path: 'direct' as const } : {}) })),
};

const VALUE = Buffer.from(`sk-devmesh-${'7Qx'.repeat(10)}`);

type Listing = Array<{ name: string; zone: string; k: number; n: number; version: number; holders: string[]; available: number }>;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) out.push(...filesUnder(full));
    else if (st.isFile()) out.push(full);
  }
  return out;
}

describe('secrets on five fcpd daemons', () => {
  let mesh: DevMesh;
  const dir = mkdtempSync(join(tmpdir(), 'fcp-secrets-'));

  before(async () => {
    mesh = await DevMesh.start({ dir, description: DESCRIPTION });
  });
  after(async () => {
    await mesh?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const use = async (device: string, name: string): Promise<Buffer> => {
    const res = await mesh.device(device).control.request(`/v1/secrets/${name}/use`, { method: 'POST' });
    if (res.status !== 200) {
      const err = JSON.parse(res.body.toString()) as { error: { code: string; message: string } };
      throw new ControlError(err.error.code, err.error.message);
    }
    return res.body;
  };

  test('put on one owner device, use on another, rotate, list', async () => {
    const laptop = mesh.device('laptop').control;
    await laptop.json('/v1/secrets/openai?k=2&n=2&zone=z%3Aowner', { method: 'PUT', body: VALUE, contentLength: VALUE.length });
    assert.deepEqual(await use('server', 'openai'), VALUE);
    await laptop.json('/v1/secrets/openai/rotate', { method: 'POST' });
    const list = await mesh.device('server').control.json<Listing>('/v1/secrets');
    assert.deepEqual(
      list.map((s) => [s.name, s.zone, s.k, s.n, s.version, s.available]),
      [['openai', 'z:owner', 2, 2, 2, 2]],
    );
    assert.deepEqual(await use('laptop', 'openai'), VALUE);
  });

  test('devices outside the zone neither see nor rebuild the secret', async () => {
    for (const outsider of ['worklaptop', 'desktop']) {
      assert.deepEqual(await mesh.device(outsider).control.json<Listing>('/v1/secrets'), []);
      await assert.rejects(use(outsider, 'openai'), (err: ControlError) => err.code === 'SECRET_NOT_FOUND');
    }
  });

  test('put needs n eligible devices and says so', async () => {
    await assert.rejects(
      mesh.device('laptop').control.json('/v1/secrets/big?k=2&n=4&zone=z%3Aowner', { method: 'PUT', body: VALUE, contentLength: VALUE.length }),
      (err: ControlError) => err.code === 'SECRET_TOO_FEW_DEVICES',
    );
  });

  test('a restarted holder comes back without its share', async () => {
    // The other holder of the 2-of-2 split: the server or the phone, whichever ranked higher when it was made.
    const split = (await mesh.device('laptop').control.json<Listing>('/v1/secrets')).find((x) => x.name === 'openai')!;
    const other = ['server', 'phone'].find((n) => split.holders.includes(mesh.tailnet.device(n).stableId))!;
    assert.ok(other, `a holder besides the laptop: ${split.holders.join(', ')}`);
    await mesh.stopDaemon(other);
    await mesh.startDaemon(other);
    const list = await mesh.device('laptop').control.json<Listing>('/v1/secrets');
    assert.equal(list.find((x) => x.name === 'openai')!.available, 1);
    await assert.rejects(use('laptop', 'openai'), (err: ControlError) => err.code === 'SECRET_LOST');
  });

  test('a restarted holder gets a fresh share back while k holders stayed up', async () => {
    const laptop = mesh.device('laptop').control;
    const token = Buffer.from('ghp_restore_me_please_0123456789');
    await laptop.json('/v1/secrets/github?k=2&n=3&zone=z%3Aowner', { method: 'PUT', body: token, contentLength: token.length });
    const version = async () => (await laptop.json<Listing>('/v1/secrets')).find((s) => s.name === 'github')!;
    const before = await version();
    assert.equal(before.available, 3);
    await mesh.stopDaemon('phone');
    await mesh.startDaemon('phone');
    // The restarted daemon asks for a re-split shortly after it starts.
    const deadline = Date.now() + 15_000;
    let now = await version();
    while ((now.available < 3 || now.version === before.version) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      now = await version();
    }
    assert.equal(now.available, 3, 'every holder has a share again');
    assert.ok(now.version > before.version, 'the secret was re-split with a fresh polynomial (new version)');
    assert.deepEqual(await use('phone', 'github'), token);
  });

  test('no file any daemon wrote holds the secret, raw, hex or base64', async () => {
    await Promise.all(mesh.devices.map((d) => mesh.stopDaemon(d.name)));
    const github = Buffer.from('ghp_restore_me_please_0123456789');
    const needles = [VALUE, Buffer.from(VALUE.toString('hex')), Buffer.from(VALUE.toString('base64').slice(0, 24)), github, Buffer.from(github.toString('hex'))];
    const files = filesUnder(dir);
    assert.ok(files.length > 10, `expected LMDB, key and log files under ${dir}`);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const needle of needles) assert.ok(!bytes.includes(needle), `${file} holds the secret`);
    }
  });
});
