// Names over an in-process mesh: a tree put and read back by name, moves and removals,
// versions and PATH@N, and the typed errors of each wrong use.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LOCAL_LIBRARY } from '../../src/authz/index.js';
import { fiveDevicesOn } from '../../src/devnet/index.js';
import { signRef } from '../../src/mesh/index.js';
import type { NamesService } from '../../src/services/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const P = LOCAL_LIBRARY;
const names = (mesh: InProcessMesh, device: string): NamesService => mesh.node(device).services.names;
const code = (c: string) => (err: unknown) => (err as { code?: string }).code === c;

describe('names in a zone', () => {
  let mesh: InProcessMesh;
  const files = new Map<string, Uint8Array>();
  before(async () => {
    mesh = await InProcessMesh.start(fiveDevicesOn(55));
    const tree = ['photos/2026/a.jpg', 'photos/2026/b.jpg', 'photos/2025/old.jpg', 'notes/todo.md', 'readme.txt'];
    for (const [i, path] of tree.entries()) files.set(path, new Uint8Array(randomBytes(100 + i * 3000)));
  });
  after(async () => mesh?.stop());

  test('a tree put on one device lists and reads back by name on another', async () => {
    for (const [path, data] of files) await names(mesh, 'laptop').putFile(P, path, data, { mtime: 1_700_000_000_000 });
    const top = await names(mesh, 'desktop').list(P, '');
    assert.equal(top.zone, 'z:private', 'z:private is the default zone');
    assert.deepEqual(top.entries.map((e) => [e.name, e.kind]), [['notes', 'dir'], ['photos', 'dir'], ['readme.txt', 'file']]);
    const all = await names(mesh, 'server').list(P, 'photos/', { recursive: true });
    assert.deepEqual(all.entries.map((e) => e.path), ['photos/2025', 'photos/2025/old.jpg', 'photos/2026', 'photos/2026/a.jpg', 'photos/2026/b.jpg']);
    const photos = (await names(mesh, 'server').list(P, '')).entries.find((e) => e.name === 'photos')!;
    assert.equal(photos.size, [...files].filter(([p]) => p.startsWith('photos/')).reduce((a, [, d]) => a + d.length, 0), 'a directory is as large as what it holds');
    for (const [path, data] of files) assert.deepEqual(Buffer.from(await names(mesh, 'phone').readFile(P, path)), Buffer.from(data), path);
    const one = await names(mesh, 'desktop').list(P, 'notes/todo.md');
    assert.equal(one.kind, 'file');
    assert.equal(one.entries[0]!.size, files.get('notes/todo.md')!.length);
    assert.equal(one.entries[0]!.by, 'laptop');
  });

  test('mv into a directory and to a new name; rm and rm -r', async () => {
    const n = names(mesh, 'desktop');
    await n.move(P, 'readme.txt', 'notes/');
    await n.move(P, 'photos/2025', 'archive/2025');
    assert.deepEqual(Buffer.from(await names(mesh, 'laptop').readFile(P, 'notes/readme.txt')), Buffer.from(files.get('readme.txt')!));
    assert.deepEqual(Buffer.from(await names(mesh, 'laptop').readFile(P, 'archive/2025/old.jpg')), Buffer.from(files.get('photos/2025/old.jpg')!));
    await assert.rejects(names(mesh, 'laptop').readFile(P, 'readme.txt'), code('FILES_NOT_FOUND'));
    await assert.rejects(n.remove(P, 'archive'), code('FILES_IS_A_DIRECTORY'), 'a directory needs -r');
    await n.remove(P, 'archive', { recursive: true });
    await n.remove(P, 'notes/todo.md');
    const left = await names(mesh, 'server').list(P, '', { recursive: true });
    assert.deepEqual(left.entries.map((e) => e.path), ['notes', 'notes/readme.txt', 'photos', 'photos/2026', 'photos/2026/a.jpg', 'photos/2026/b.jpg']);
    await assert.rejects(n.move(P, 'photos', 'photos/2026/inside'), code('FILES_BAD_PATH'), 'not into itself');
    await assert.rejects(n.move(P, 'nothing', 'x'), code('FILES_NOT_FOUND'));
  });

  test('versions: log PATH lists the snapshots where it changed; PATH@N reads that one', async () => {
    const n = names(mesh, 'laptop');
    const v1 = new TextEncoder().encode('first version');
    const v2 = new TextEncoder().encode('second version, longer');
    await n.putFile(P, 'doc.txt', v1);
    await n.putFile(P, 'doc.txt', v2, { mtime: 1_700_000_500_000 });
    await n.putFile(P, 'doc.txt', v2, { mtime: 1_700_000_500_000 }); // unchanged: no new snapshot
    const log = await names(mesh, 'server').log(P, 'doc.txt');
    assert.equal(log.length, 2, 'two versions');
    assert.deepEqual(Buffer.from(await n.readFile(P, `doc.txt@${log[1]!.snapshot}`)), Buffer.from(v1));
    assert.deepEqual(Buffer.from(await n.readFile(P, `doc.txt@${log[0]!.snapshot}`)), Buffer.from(v2));
    const snaps = await n.snapshots(P);
    assert.equal(snaps[snaps.length - 1]!.snapshot, log[0]!.snapshot, 'the newest version is the latest snapshot');
    await assert.rejects(n.readFile(P, 'doc.txt@999'), code('FILES_SNAPSHOT_NOT_FOUND'));
    await assert.rejects(n.readFile(P, 'doc.txt@0'), code('FILES_BAD_SNAPSHOT'));
    // A snapshot from before the tree was moved still has the old names.
    const first = snaps[0]!.snapshot;
    assert.ok((await n.list(P, `@${first}`)).entries.length > 0);
  });

  test('a peer publishes only its own head, signed, only forward; tombstones need write access to the zone', async () => {
    const peers = mesh.node('laptop').services.peers;
    const dev = (name: string, zones: string[]) => {
      const d = mesh.tailnet.device(name);
      return { kind: 'device' as const, stableId: d.stableId, hostName: name, address: d.address, tags: d.tags, zones: zones.map((z) => mesh.node('laptop').node.zones.get(z)), path: 'direct' as const };
    };
    const server = dev('server', ['z:owner']);
    const serverKey = mesh.node('server').node.keyring.node.signingSecretKey;
    // z:work: a head that names no real commit would hide nothing of z:private here.
    const ref = signRef({ zone: 'z:work', device: server.stableId, seq: 2, commit: new Uint8Array(32), forgotten: [], time: Date.now() }, serverKey);
    await assert.rejects(peers.putRef(dev('desktop', ['z:private']), ref), (e: unknown) => code('AUTHZ_DENIED')(e) && (e as { reason?: string }).reason === 'not-own-record', "not another device's head");
    await assert.rejects(peers.putRef(dev('worklaptop', ['z:work']), { ...ref, zone: 'z:private', device: mesh.tailnet.device('worklaptop').stableId }), code('AUTHZ_DENIED'));
    await peers.putRef(server, ref);
    await peers.putRef(server, signRef({ ...ref, seq: ref.seq - 1, commit: new Uint8Array(32).fill(7) }, serverKey));
    const now = mesh.node('laptop').node.store.listRefs('z:work').find((r) => r.device === server.stableId)!;
    assert.deepEqual([now.seq, now.commit[0]], [ref.seq, 0], 'a stale head changes nothing');
    await assert.rejects(peers.putTombstones(dev('worklaptop', ['z:work']), [{ objectId: new Uint8Array(32), zone: 'z:private', at: 1, dead: true, by: mesh.tailnet.device('worklaptop').stableId }]), code('AUTHZ_DENIED'));
    // A head whose commit cannot be read (its objects are away) does not hide the rest.
    const listing = await names(mesh, 'laptop').list(P, '/', { zone: 'z:work' });
    assert.deepEqual([listing.entries.length, listing.unreadableHeads], [0, 1]);
  });

  test('wrong uses are typed errors', async () => {
    const n = names(mesh, 'laptop');
    await assert.rejects(n.list(P, '', { zone: 'z:privte' }), (err: Error) => code('ZONE_UNKNOWN')(err) && /did you mean z:private/.test(err.message) && /z:work/.test(err.message));
    await assert.rejects(n.list(P, 'a//b'), code('FILES_BAD_PATH'));
    await assert.rejects(n.list(P, '../etc'), code('FILES_BAD_PATH'));
    await assert.rejects(n.putFile(P, 'photos', new Uint8Array(3)), code('FILES_IS_A_DIRECTORY'));
    await assert.rejects(n.putFile(P, 'doc.txt/x', new Uint8Array(3)), code('FILES_NOT_A_DIRECTORY'));
    const blob = await mesh.node('laptop').store(new Uint8Array([1, 2, 3]), 'z:private');
    await assert.rejects(n.put(P, [{ path: 'blob', kind: 'file', ref: blob }]), code('FILES_BAD_ENTRY'), 'a name refers to file content, not any blob');
    await assert.rejects(names(mesh, 'worklaptop').list(P, ''), code('FILES_NEED_ZONE'), 'a work device holds no z:private');
    await assert.rejects(names(mesh, 'worklaptop').list(P, '', { zone: 'z:owner' }), code('AUTHZ_DENIED'));
  });
});
