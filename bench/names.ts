// npm run bench:names — the namespace at 1k, 10k and 100k names: one put of the whole tree, a
// full listing, a change to one file (how many directory objects it rewrites), two devices'
// concurrent changes merged, and the collector's mark. Objects live in memory (content-
// addressed like the mesh's), so the table shows the namespace's own cost, not the network's.
import { createHash } from 'node:crypto';
import type { RefRecord } from '../src/crypto/index.js';
import { Dir, Namespace, TreeStore, dirAt, markReachable, type Entry, type ObjectIO } from '../src/files/index.js';

const SIZES = (process.env.BENCH_NAMES ?? '1000,10000,100000').split(',').map(Number);
const PER_DIR = 100;

function memory(): ObjectIO & { puts: number; bytes: number; reset(): void } {
  const objects = new Map<string, Uint8Array>();
  const io = {
    puts: 0,
    bytes: 0,
    reset() {
      io.puts = 0;
      io.bytes = 0;
    },
    put: async (b: Uint8Array, schema: string) => {
      const id = createHash('sha256').update(schema).update(b).digest('hex');
      if (!objects.has(id)) {
        io.puts++;
        io.bytes += b.length;
        objects.set(id, b);
      }
      return id;
    },
    get: async (id: string) => objects.get(id)!,
  };
  return io;
}

function refs(): { pull(): Promise<RefRecord[]>; publish(r: RefRecord): Promise<void> } {
  const held = new Map<string, RefRecord>();
  return {
    pull: async () => [...held.values()],
    publish: async (r) => {
      const old = held.get(r.device);
      if (!old || r.seq > old.seq) held.set(r.device, r);
    },
  };
}

const fileEntry = (i: number, by: string): Entry => ({ kind: 'file', ref: createHash('sha256').update(`content ${i} ${by}`).digest('hex'), size: 1000 + i, mtime: 1_780_000_000_000 + i, mode: 0o644, by });
const pathOf = (i: number) => [`top-${String(Math.floor(i / (PER_DIR * 100)) % 10).padStart(2, '0')}`, `dir-${String(Math.floor(i / PER_DIR)).padStart(5, '0')}`, `file-${String(i).padStart(6, '0')}.jpg`];

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

async function row(n: number) {
  const io = memory();
  const shared = refs();
  const ns = (host: string) => new Namespace({ zone: 'z:private', self: () => ({ stableId: `n-${host}`, hostName: host }), trees: new TreeStore(io), refs: shared });
  const laptop = ns('laptop');
  const [, putMs] = await timed(() =>
    laptop.change('put', async (root) => {
      for (let i = 0; i < n; i++) {
        const p = pathOf(i);
        (await dirAt(root, p.slice(0, -1), true)).set(p[2]!, fileEntry(i, 'laptop'));
      }
    }),
  );
  const putObjects = io.puts;
  const putBytes = io.bytes;
  // A cold listing: a fresh tree cache, every directory loaded and walked.
  const [count, lsMs] = await timed(async () => {
    const v = await ns('reader').view();
    let seen = 0;
    const walk = async (d: Dir): Promise<void> => {
      for (const name of d.names()) {
        seen++;
        if (d.entry(name)!.kind === 'dir') await walk(await d.child(name));
      }
    };
    await walk(v.root);
    return seen;
  });
  io.reset();
  const [, oneMs] = await timed(() =>
    laptop.change('one', async (root) => {
      const p = pathOf(Math.floor(n / 2));
      (await dirAt(root, p.slice(0, -1))).set(p[2]!, fileEntry(n + 1, 'laptop'));
    }),
  );
  const oneObjects = io.puts;
  const oneBytes = io.bytes;
  // Concurrent: each device changes one file without seeing the other's change; then a device
  // that sees both heads reads the merged view.
  const phoneRefs = refs();
  for (const r of await shared.pull()) await phoneRefs.publish(r);
  await laptop.change('l', async (root) => (await dirAt(root, pathOf(1).slice(0, -1))).set(pathOf(1)[2]!, fileEntry(n + 2, 'laptop')));
  const phone = new Namespace({ zone: 'z:private', self: () => ({ stableId: 'n-phone', hostName: 'phone' }), trees: new TreeStore(io), refs: phoneRefs });
  await phone.change('p', async (root) => (await dirAt(root, pathOf(n - 1).slice(0, -1))).set(pathOf(n - 1)[2]!, fileEntry(n + 3, 'phone')));
  for (const r of await phoneRefs.pull()) await shared.publish(r);
  const [heads, mergeMs] = await timed(async () => {
    const v = await ns('reader2').view();
    await v.root.flush();
    return v.heads.length;
  });
  if (heads !== 2) throw new Error(`expected two concurrent heads, got ${heads}`);
  const [marked, markMs] = await timed(async () => {
    const v = await laptop.view();
    return (await markReachable(new TreeStore(io), v.history, v.refs.map((r) => Buffer.from(r.commit).toString('hex')))).size;
  });
  return { n, putMs, putObjects, putBytes, count, lsMs, oneMs, oneObjects, oneBytes, mergeMs, marked, markMs };
}

async function main(): Promise<void> {
  const rows = [];
  for (const n of SIZES) {
    process.stderr.write(`${n} names...\n`);
    rows.push(await row(n));
  }
  const f = (ms: number) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
  process.stdout.write('\nnamespace (memory objects; 100 files per directory, 3 levels)\n');
  process.stdout.write('| names | put all (1 commit) | objects / bytes written | ls -R cold | change 1 file | objects / bytes it writes | merged view of 2 heads | gc mark |\n|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.n} | ${f(r.putMs)} | ${r.putObjects} / ${kb(r.putBytes)} | ${f(r.lsMs)} (${r.count} entries) | ${f(r.oneMs)} | ${r.oneObjects} / ${kb(r.oneBytes)} | ${f(r.mergeMs)} | ${f(r.markMs)} (${r.marked} objects) |\n`);
  }
  process.stdout.write('\ngrowth per 10x names\n| from -> to | put all | ls -R | change 1 file | merged view | gc mark |\n|---|---|---|---|---|---|\n');
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    const g = (x: number, y: number) => `${(y / x).toFixed(1)}x`;
    process.stdout.write(`| ${a.n} -> ${b.n} | ${g(a.putMs, b.putMs)} | ${g(a.lsMs, b.lsMs)} | ${g(a.oneMs, b.oneMs)} | ${g(a.mergeMs, b.mergeMs)} | ${g(a.markMs, b.markMs)} |\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
