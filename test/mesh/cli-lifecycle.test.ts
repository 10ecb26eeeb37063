// `fcp device remove`, `fcp device trust` and `fcp zone rotate` as the user meets them: the fcp command against real
// fcpd processes on the dev tailnet. Errors are typed with their exit codes; a removal is
// confirmed (or --yes), spread, rotates the zones the device held and repairs around it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DevMesh } from '../../src/devnet/index.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';

const DEVICES: TailnetDescription = {
  tailnet: 'cli-lifecycle.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1, address: '127.77.131.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 2, address: '127.77.131.2' },
    { name: 'desktop', tags: ['tag:fcp-private'], os: 'windows', path: 'direct', latencyMs: 3, address: '127.77.131.3' },
    { name: 'phone', tags: ['tag:fcp-private'], os: 'android', path: 'direct', latencyMs: 4, address: '127.77.131.4' },
  ],
};

describe('fcp device remove and fcp zone rotate', () => {
  let mesh: DevMesh;
  const objects = new Map<string, Uint8Array>();

  function fcp(device: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const d = mesh.device(device);
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/fcp.js', '--data-dir', d.dataDir, '--tailscale-socket', d.socketPath, ...args], { env: { ...process.env, FCP_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out, err });
      });
    });
  }

  before(async () => {
    mesh = await DevMesh.start({ description: DEVICES, env: { FCP_SCRUB_INTERVAL_MS: '0' } });
    for (let i = 0; i < 4; i++) {
      const data = new Uint8Array(randomBytes(4000 + i * 900));
      objects.set(await mesh.put('laptop', data, 'z:private'), data);
    }
  });
  after(async () => {
    await mesh?.stop();
  });

  test('typed refusals: a typo, this device, and no terminal without --yes', async () => {
    const typo = await fcp('laptop', ['device', 'remove', 'phnoe', '--yes']);
    assert.equal(typo.code, 4, typo.err);
    assert.match(typo.err, /did you mean phone\?.*\[DEVICE_NOT_FOUND\]/);
    const self = await fcp('laptop', ['device', 'remove', 'laptop', '--yes']);
    assert.equal(self.code, 3);
    assert.match(self.err, /\[DEVICE_IS_SELF\]/);
    const unconfirmed = await fcp('laptop', ['device', 'remove', 'phone']);
    assert.equal(unconfirmed.code, 3);
    assert.match(unconfirmed.err, /--yes.*\[DEVICE_REMOVE_CANCELLED\]/);
    const status = JSON.parse((await fcp('laptop', ['status', '--json'])).out) as { removed: unknown[] };
    assert.deepEqual(status.removed, [], 'nothing was removed');
  });

  test('device trust: the key the device presents, compared with the pin; help with examples; typos refused', async () => {
    const help = await fcp('laptop', ['device', 'trust', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /Examples:\n {2}fcp device trust phone\n/);
    const own = JSON.parse((await fcp('desktop', ['status', '--json'])).out) as { nodeKey: string };
    const r = await fcp('laptop', ['device', 'trust', 'desktop', '--json']);
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out) as { hostName: string; pinned: string; presented: string; same: boolean; changed: boolean };
    assert.deepEqual(out, { ...out, hostName: 'desktop', pinned: own.nodeKey, presented: own.nodeKey, same: true, changed: false }, 'the key desktop itself shows is the one pinned: nothing to confirm, nothing changed');
    const human = await fcp('laptop', ['device', 'trust', 'desktop']);
    assert.match(human.out, /desktop: node key .* was already trusted; nothing changed/);
    const typo = await fcp('laptop', ['device', 'trust', 'dekstop', '--json']);
    assert.equal(typo.code, 4);
    assert.equal((JSON.parse(typo.err) as { error: { code: string } }).error.code, 'DEVICE_NOT_FOUND');
  });

  test('remove --yes --json: spread to the members, z:private rotated, repaired around; every object reads', async () => {
    const r = await fcp('laptop', ['device', 'remove', 'phone', '--yes', '--json']);
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out) as { changed: boolean; removed: { hostName: string }; told: string[]; rotated: Array<{ zone: string; epoch: number }>; repair: Record<string, number> };
    assert.equal(out.changed, true);
    assert.equal(out.removed.hostName, 'phone');
    assert.deepEqual(out.told, ['desktop', 'server']);
    assert.deepEqual(out.rotated.map((x) => [x.zone, x.epoch]).filter(([z]) => z === 'z:private'), [['z:private', 1]]);
    assert.ok(Object.keys(out.repair).length > 0, 'the repair pass reported its outcomes');
    const status = JSON.parse((await fcp('server', ['status', '--json'])).out) as { removed: Array<{ hostName: string }>; zoneEpochs: Record<string, { epoch: number }>; peers: Array<{ hostName: string }> };
    assert.deepEqual(status.removed.map((x) => x.hostName), ['phone']);
    assert.equal(status.zoneEpochs['z:private']!.epoch, 1);
    assert.ok(!status.peers.some((p) => p.hostName === 'phone'), 'the phone is no longer listed as a peer');
    for (const [id, data] of objects) assert.deepEqual(Buffer.from(await mesh.get('desktop', id)), Buffer.from(data));
    const human = await fcp('laptop', ['status']);
    assert.match(human.out, /removed: +phone/);
  });

  test('a removed device is never trusted again', async () => {
    const r = await fcp('laptop', ['device', 'trust', 'phone', '--yes']);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /\[DEVICE_REMOVED\]/);
  });

  test('zone rotate: unknown zone with a hint, then a new epoch sent to the members', async () => {
    const bad = await fcp('laptop', ['zone', 'rotate', 'z:privat']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /did you mean z:private.*\[ZONE_UNKNOWN\]/);
    const r = await fcp('laptop', ['zone', 'rotate', 'z:private']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /z:private key is now epoch 2/);
    assert.match(r.out, /members told: desktop, server/);
    const data = new Uint8Array(randomBytes(3000));
    const id = await mesh.put('desktop', data, 'z:private');
    assert.deepEqual(Buffer.from(await mesh.get('server', id)), Buffer.from(data));
  });
});
