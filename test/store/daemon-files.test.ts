// The store as fcpd uses it: its files and the pid file are private, and a damaged data.mdb
// no longer kills the daemon at start (it is moved aside and fcpd comes up on an empty store).
// Starts a one-device dev tailnet on 127.77.41.1: run under flock /tmp/fcp-net.lock.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DevMesh, FIVE_DEVICES } from '../../src/devnet/index.js';
import { garbage, truncate } from './damage.js';

const modeOf = (p: string) => statSync(p).mode & 0o777;
let mesh: DevMesh;

before(async () => {
  const laptop = FIVE_DEVICES.nodes.find((n) => n.name === 'laptop')!;
  mesh = await DevMesh.start({ description: { ...FIVE_DEVICES, nodes: [{ ...laptop, address: '127.77.41.1' }] } });
});
after(async () => {
  await mesh?.stop();
});

test('fcpd keeps data.mdb, lock.mdb and fcpd.pid at 0600 and the store directory at 0700', () => {
  const dataDir = mesh.device('laptop').dataDir;
  assert.equal(modeOf(join(dataDir, 'store', 'data.mdb')).toString(8), '600');
  assert.equal(modeOf(join(dataDir, 'store', 'lock.mdb')).toString(8), '600');
  assert.equal(modeOf(join(dataDir, 'store')).toString(8), '700');
  assert.equal(modeOf(join(dataDir, 'fcpd.pid')).toString(8), '600');
});

for (const kind of ['truncated', 'garbage'] as const) {
  test(`fcpd starts on a ${kind} data.mdb: the damaged store is moved aside and the daemon serves`, async () => {
    const d = mesh.device('laptop');
    await mesh.stopDaemon('laptop');
    const file = join(d.dataDir, 'store', 'data.mdb');
    if (kind === 'truncated') truncate(file, 0.4);
    else garbage(file);
    const before = readdirSync(d.dataDir).filter((f) => f.startsWith('store.corrupt-')).length;
    await mesh.startDaemon('laptop'); // throws with the daemon's log if it died
    const status = await d.control.json<{ storage: { symbols: number } }>('/v1/status');
    assert.equal(status.storage.symbols, 0);
    const moved = readdirSync(d.dataDir).filter((f) => f.startsWith('store.corrupt-'));
    assert.equal(moved.length, before + 1, 'one more store moved aside');
    for (const m of moved) assert.equal(modeOf(join(d.dataDir, m)).toString(8), '700');
    assert.equal(modeOf(join(d.dataDir, 'store', 'data.mdb')).toString(8), '600');
  });
}
