// A device with a storage quota: placement leaves it out once it reports too little room,
// and a store that would overflow it never half-lands.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DevMesh, fiveDevicesOn } from '../../src/devnet/index.js';
import { ControlError } from '../../src/daemon/index.js';

type Health = { ok: boolean; holders: Array<{ hostName: string; symbols: number }> };

describe('storage quotas', () => {
  let mesh: DevMesh;
  before(async () => {
    mesh = await DevMesh.start({ description: fiveDevicesOn(5), deviceConfig: { server: { quotaBytes: 50_000 } } });
  });
  after(async () => {
    await mesh?.stop();
  });

  test('a full device is skipped: the object lands on the others and meets its policy', async () => {
    const data = new Uint8Array(randomBytes(400_000));
    const id = await mesh.put('laptop', data, 'z:private');
    const h = await mesh.device('laptop').control.json<Health>(`/v1/objects/${id}/health`);
    assert.ok(h.ok);
    assert.ok(!h.holders.some((x) => x.hostName === 'server'), 'the server with a 50 kB quota holds nothing of a 400 kB object');
    assert.deepEqual(Buffer.from(await mesh.get('desktop', id)), Buffer.from(data));
    const server = await mesh.device('server').control.json<{ storage: { bytes: number; quotaBytes: number } }>('/v1/status');
    assert.equal(server.storage.quotaBytes, 50_000);
    assert.ok(server.storage.bytes <= 50_000);
  });

  test('a bad config file stops the daemon with a message naming the field', async () => {
    await mesh.stopDaemon('desktop');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    writeFileSync(join(mesh.device('desktop').dataDir, 'config.json'), JSON.stringify({ quotaBytes: -5 }));
    await assert.rejects(mesh.startDaemon('desktop'), /quotaBytes must be a positive whole number/);
    writeFileSync(join(mesh.device('desktop').dataDir, 'config.json'), '{}');
    await mesh.startDaemon('desktop');
    await assert.rejects(mesh.put('worklaptop', new Uint8Array(10), 'z:private'), (err: ControlError) => err.code === 'AUTHZ_DENIED');
  });
});
