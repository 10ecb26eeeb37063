// The merge rule and the namespace objects on their own (memory objects, no mesh): conflict
// copies named the Syncthing way, rm vs modify, file vs directory, the same result whichever
// side is "ours", canonical tree bytes, and damaged objects refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { encode } from 'cborg';
import { Dir, TreeStore, conflictName, decodeTree, encodeTree, merge3, parsePath, parsePathAt, type Entry, type ObjectIO } from '../../src/files/index.js';

function memoryIO(): ObjectIO {
  const objects = new Map<string, Uint8Array>();
  return {
    put: async (bytes, schema) => {
      const id = createHash('sha256').update(schema).update(bytes).digest('hex');
      objects.set(id, bytes);
      return id;
    },
    get: async (id) => {
      const b = objects.get(id);
      if (!b) throw new Error(`no object ${id}`);
      return b;
    },
  };
}

const ref = (s: string) => createHash('sha256').update(s).digest('hex');
const file = (content: string, mtime: number, by: string): Entry => ({ kind: 'file', ref: ref(content), size: content.length, mtime, mode: 0o644, by });

/** Builds a stored tree from path -> entry and returns its id. */
async function tree(trees: TreeStore, files: Record<string, Entry>): Promise<string> {
  const root = Dir.empty(trees);
  for (const [path, e] of Object.entries(files)) {
    const parts = parsePath(path);
    let d = root;
    for (const name of parts.slice(0, -1)) {
      if (!d.entry(name)) d.set(name, { kind: 'dir', ref: '', size: 0, mtime: 0, mode: 0o755, by: '' }, d.newDir());
      d = await d.child(name);
    }
    d.set(parts[parts.length - 1]!, e);
  }
  return root.flush();
}

async function flat(d: Dir, at = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of d.names()) {
    const e = d.entry(name)!;
    const p = at ? `${at}/${name}` : name;
    if (e.kind === 'dir') Object.assign(out, await flat(await d.child(name), p));
    else out[p] = e.ref;
  }
  return out;
}

test('three-way merge: both kept under Syncthing conflict names, rm vs modify, file vs dir; symmetric', async () => {
  const trees = new TreeStore(memoryIO());
  const t = Date.UTC(2026, 4, 6, 7, 8, 9);
  const base = await tree(trees, { 'a.jpg': file('a0', t, 'x'), 'b.txt': file('b0', t, 'x'), 'd/in.txt': file('in0', t, 'x'), 'd/other.txt': file('o0', t, 'x'), 'same.txt': file('s0', t, 'x'), 'n': file('n0', t, 'x') });
  const ours = await tree(trees, {
    'a.jpg': file('a-laptop', t + 1000, 'laptop'),
    // b.txt removed
    'd/in.txt': file('in-laptop', t + 1000, 'laptop'),
    'd/other.txt': file('o0', t, 'x'),
    'same.txt': file('s-both', t + 5, 'laptop'),
    'n/inside.txt': file('dir now', t + 1, 'laptop'),
    'new-l.txt': file('l', t, 'laptop'),
  });
  const theirs = await tree(trees, {
    'a.jpg': file('a-phone', t + 2000, 'phone'),
    'b.txt': file('b-phone', t + 2000, 'phone'),
    // d removed entirely
    'same.txt': file('s-both', t + 9, 'phone'),
    'n': file('n-phone', t + 3, 'phone'),
    'new-p.txt': file('p', t, 'phone'),
  });
  const load = (id: string) => Dir.load(trees, id);
  const empty = () => Dir.empty(trees);
  const m1 = await merge3(await load(base), await load(ours), await load(theirs), empty);
  const m2 = await merge3(await load(base), await load(theirs), await load(ours), empty);
  assert.equal(await m1.flush(), await m2.flush(), 'the same tree whichever side is ours');
  assert.deepEqual(await flat(m1), {
    'a.jpg': ref('a-phone'),
    'a.sync-conflict-20260506-070810-laptop.jpg': ref('a-laptop'),
    'b.txt': ref('b-phone'),
    'd/in.txt': ref('in-laptop'),
    'n.sync-conflict-20260506-070809-phone': ref('n-phone'),
    'n/inside.txt': ref('dir now'),
    'new-l.txt': ref('l'),
    'new-p.txt': ref('p'),
    'same.txt': ref('s-both'),
  });
});

test('conflict names: Syncthing format, extension kept, collisions numbered, host sanitised, length bounded', () => {
  const t = Date.UTC(2025, 11, 31, 23, 59, 58);
  assert.equal(conflictName('photo.jpg', t, 'laptop', () => false), 'photo.sync-conflict-20251231-235958-laptop.jpg');
  assert.equal(conflictName('.bashrc', t, 'my host!', () => false), '.bashrc.sync-conflict-20251231-235958-myhost');
  assert.equal(conflictName('a.tar.gz', t, 'p', () => false), 'a.tar.sync-conflict-20251231-235958-p.gz');
  const first = conflictName('x.txt', t, 'p', () => false);
  assert.equal(conflictName('x.txt', t, 'p', (n) => n === first), 'x.sync-conflict-20251231-235958-p-2.txt');
  assert.ok(Buffer.byteLength(conflictName('é'.repeat(120) + '.txt', t, 'p', () => false)) <= 255);
});

test('tree objects: canonical bytes whatever the insertion order; damage is refused', async () => {
  const a = new Map<string, Entry>([['b', file('1', 1, 'h')], ['a', file('2', 2, 'h')], ['Z', file('3', 3, 'h')]]);
  const b = new Map<string, Entry>([['Z', file('3', 3, 'h')], ['a', file('2', 2, 'h')], ['b', file('1', 1, 'h')]]);
  assert.deepEqual(encodeTree(a), encodeTree(b));
  assert.deepEqual([...decodeTree(encodeTree(a)).keys()], ['Z', 'a', 'b'], 'UTF-8 byte order');
  const bad = (entries: unknown) => encode({ v: 1, entries });
  const ok = { k: 'f', ref: new Uint8Array(32), size: 1, mtime: 1, mode: 0o644, by: 'h' };
  assert.throws(() => decodeTree(bad([['b', ok], ['a', ok]])), /FILES_DAMAGED|not in order/);
  assert.throws(() => decodeTree(bad([['..', ok]])), /bad name/);
  assert.throws(() => decodeTree(bad([['a', { ...ok, ref: new Uint8Array(31) }]])), /32-byte/);
  assert.throws(() => decodeTree(new Uint8Array([0xff, 0x00])), /canonical CBOR/);
});

test('paths: normalised, checked; PATH@N', () => {
  assert.deepEqual(parsePath('/photos/2026/'), ['photos', '2026']);
  assert.deepEqual(parsePath('.'), []);
  for (const bad of ['a//b', 'a/../b', './a', 'a/./b', 'x\0y', 'n'.repeat(256)]) assert.throws(() => parsePath(bad), (e: { code?: string }) => e.code === 'FILES_BAD_PATH', bad);
  assert.deepEqual(parsePathAt('a/b.txt@12'), { path: ['a', 'b.txt'], snapshot: 12 });
  assert.deepEqual(parsePathAt('mail@home/x'), { path: ['mail@home', 'x'], snapshot: null });
  assert.throws(() => parsePathAt('a@0'), (e: { code?: string }) => e.code === 'FILES_BAD_SNAPSHOT');
});
