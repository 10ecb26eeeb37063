// Concurrent changes on two devices cut off from each other: after they rejoin, every device
// sees the same merged tree and neither side's change is lost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCAL_LIBRARY } from '../../src/authz/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const P = LOCAL_LIBRARY;
const text = (s: string) => new TextEncoder().encode(s);
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

describe('concurrent changes, partitioned then rejoined', () => {
  let mesh: InProcessMesh;
  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(56));
    const n = mesh.node('laptop').services.names;
    await n.putFile(P, 'a.txt', text('base a'), { mtime: T0 });
    await n.putFile(P, 'b.txt', text('base b'), { mtime: T0 });
    await n.putFile(P, 'dir/keep.txt', text('keep'), { mtime: T0 });
    await n.putFile(P, 'dir/drop.txt', text('drop'), { mtime: T0 });
  });
  after(async () => mesh?.stop());

  test('both sides change; every device merges to the same tree, keeping both', async () => {
    // Side 1: laptop and server only (the other devices' daemons are down).
    await mesh.kill('desktop');
    await mesh.kill('phone');
    const l = mesh.node('laptop').services.names;
    await l.putFile(P, 'a.txt', text('laptop a'), { mtime: T0 + 1_000 });
    await l.remove(P, 'b.txt');
    await l.putFile(P, 'c.txt', text('laptop c'), { mtime: T0 + 1_000 });
    await l.putFile(P, 'dir/keep.txt', text('keep, edited on the laptop'), { mtime: T0 + 1_000 });
    // Side 2: desktop and phone only; they never saw the laptop's changes.
    await mesh.kill('laptop');
    await mesh.kill('server');
    await mesh.startNode('desktop');
    await mesh.startNode('phone');
    const d = mesh.node('desktop').services.names;
    assert.deepEqual(Buffer.from(await d.readFile(P, 'a.txt')).toString(), 'base a', 'the desktop side does not see the laptop side');
    await d.putFile(P, 'a.txt', text('desktop a'), { mtime: T0 + 2_000 });
    await d.putFile(P, 'b.txt', text('desktop b'), { mtime: T0 + 2_000 });
    await d.putFile(P, 'd.txt', text('desktop d'), { mtime: T0 + 2_000 });
    await d.remove(P, 'dir', { recursive: true });
    // Rejoined.
    await mesh.startNode('laptop');
    await mesh.startNode('server');

    const views = new Map<string, string>();
    for (const device of ['laptop', 'server', 'desktop', 'phone']) {
      const n = mesh.node(device).services.names;
      const listing = (await n.list(P, '', { recursive: true })).entries.map((e) => `${e.path} ${e.kind} ${e.ref}`);
      views.set(device, listing.join('\n'));
    }
    assert.equal(new Set(views.values()).size, 1, `every device sees the same tree:\n${[...views].map(([k, v]) => `${k}:\n${v}`).join('\n')}`);

    const n = mesh.node('server').services.names;
    const paths = (await n.list(P, '', { recursive: true })).entries.map((e) => e.path);
    const copy = 'a.sync-conflict-20260102-030406-laptop.txt';
    assert.deepEqual(paths, [copy, 'a.txt', 'b.txt', 'c.txt', 'd.txt', 'dir', 'dir/keep.txt']);
    const read = async (p: string) => Buffer.from(await n.readFile(P, p)).toString();
    assert.equal(await read('a.txt'), 'desktop a', 'the later change keeps the name');
    assert.equal(await read(copy), 'laptop a', 'the other is kept under a conflict name (its mtime, its writer)');
    assert.equal(await read('b.txt'), 'desktop b', 'removed on one side, changed on the other: the change wins');
    assert.equal(await read('c.txt'), 'laptop c');
    assert.equal(await read('d.txt'), 'desktop d');
    assert.equal(await read('dir/keep.txt'), 'keep, edited on the laptop', 'a file changed inside a directory removed on the other side stays');

    // A change on the merged view makes one head again: its parents are both sides.
    await n.putFile(P, 'e.txt', text('after the merge'));
    const snaps = await mesh.node('laptop').services.names.snapshots(P);
    assert.equal(snaps[snaps.length - 1]!.message, 'put e.txt');
    const again = (await mesh.node('phone').services.names.list(P, '', { recursive: true })).entries.map((e) => e.path);
    assert.deepEqual(again, [copy, 'a.txt', 'b.txt', 'c.txt', 'd.txt', 'dir', 'dir/keep.txt', 'e.txt']);
  });
});
