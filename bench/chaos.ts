// npm run bench:chaos — a mixed workload on five real fcpd daemons while devices are killed,
// frozen, filled and corrupted, and hostile peers send the requests that used to break a daemon.
// Bounded: each phase has a fixed amount of work. Prints one table:
// operations, daemon deaths (target 0), objects reported stored and not readable after losses
// within policy (target 0), p99 read time with one frozen holder (target under 2 s), max RSS.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, openSync, closeSync, fstatSync, readSync, writeSync, statSync, truncateSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';
import { encodeFrame } from '../src/wire/index.js';

const OBJECTS = Number(process.env.CHAOS_OBJECTS ?? 40);
const PORT = 9473;

interface Tally {
  puts: number;
  gets: number;
  hostile: number;
  unreadable: number;
  putFailures: number;
  frozenReads: number[];
  deaths: string[];
  corruptStore: string;
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function rssPeak(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function connect(from: string, to: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: to, port: PORT, localAddress: from });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** The hostile requests of the robustness findings, each bounded in count. */
async function hostile(mesh: DevMesh, target: string, known: string, t: Tally): Promise<void> {
  // A member device (it may read z:private), so requests reach the handlers, not just the refusal.
  const from = mesh.device(target === 'laptop' ? 'server' : 'laptop').address;
  const to = mesh.device(target).address;
  const objectId = Buffer.from(known, 'hex');
  // Requests closed before their reply.
  for (let i = 0; i < 60; i++) {
    const s = await connect(from, to).catch(() => null);
    if (!s) continue;
    s.on('error', () => undefined);
    s.write(encodeFrame((i % 2 ? { v: 1, t: 'fetch', id: 1, objectId, zone: 'z:private' } : { v: 1, t: 'have', id: 1, objectId }) as never));
    s.destroy();
    t.hostile++;
  }
  // A want-list repeating one position a quarter million times, never read.
  const idle: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = await connect(from, to).catch(() => null);
    if (!s) continue;
    s.on('error', () => undefined);
    s.pause();
    s.write(encodeFrame({ v: 1, t: 'fetch', id: 1, objectId, zone: 'z:private', want: Array.from({ length: 250_000 }, () => [0, 0] as [number, number]) } as never));
    idle.push(s);
    t.hostile++;
  }
  // Partial frames just under the cap, held open, and a 1 byte/s trickle.
  for (let i = 0; i < 60; i++) {
    const s = await connect(from, to).catch(() => null);
    if (!s) break;
    s.on('error', () => undefined);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(4 * 1024 * 1024 - 1);
    s.write(Buffer.concat([head, randomBytes(64 * 1024)]));
    idle.push(s);
    t.hostile++;
  }
  // Connections from an address the tailnet does not know: refused.
  for (let i = 0; i < 300; i++) {
    const s = await connect('127.77.40.99', to).catch(() => null);
    if (s) {
      s.on('error', () => undefined);
      s.destroy();
    }
    t.hostile++;
  }
  await new Promise((r) => setTimeout(r, 2_000));
  for (const s of idle) s.destroy();
}

async function readAll(mesh: DevMesh, reader: string, ids: Map<string, Uint8Array>, t: Tally, times?: number[]): Promise<void> {
  for (const [id, data] of ids) {
    const t0 = performance.now();
    try {
      const back = await mesh.get(reader, id);
      t.gets++;
      if (!Buffer.from(back).equals(Buffer.from(data))) t.unreadable++;
    } catch {
      t.unreadable++;
    }
    times?.push(performance.now() - t0);
  }
}

function flipBytes(file: string, count: number): void {
  const fd = openSync(file, 'r+');
  try {
    const size = fstatSync(fd).size;
    for (let i = 0; i < count; i++) {
      const at = 8192 * 2 + Math.floor(Math.random() * Math.max(1, size - 8192 * 2));
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, at);
      b[0]! ^= 0xff;
      writeSync(fd, b, 0, 1, at);
    }
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  const mesh = await DevMesh.start({
    description: fiveDevicesOn(40),
    env: { FCP_REPAIR_INTERVAL_MS: '3000', FCP_REPAIR_GRACE_MS: '600000', FCP_LOG_LEVEL: 'error' },
  });
  const t: Tally = { puts: 0, gets: 0, hostile: 0, unreadable: 0, putFailures: 0, frozenReads: [], deaths: [], corruptStore: 'not reached' };
  const pids = new Map(mesh.devices.map((d) => [d.name, d.process?.pid]));
  const expected = new Set<string>();
  // A daemon that exits when the bench did not stop it is a death.
  const watch = (name: string) =>
    mesh.device(name).process?.once('exit', (code, sig) => {
      if (!expected.has(name)) t.deaths.push(`${name} (${sig ?? code})`);
    });
  for (const d of mesh.devices) watch(d.name);
  const rss = new Map<string, number>();
  const sample = () => {
    for (const d of mesh.devices) rss.set(d.name, Math.max(rss.get(d.name) ?? 0, rssPeak(d.process?.pid ?? pids.get(d.name))));
  };
  try {
    const ids = new Map<string, Uint8Array>();
    for (let i = 0; i < OBJECTS; i++) {
      const data = new Uint8Array(randomBytes(10_000 + ((i * 97_331) % 1_000_000)));
      ids.set(await mesh.put(i % 2 ? 'laptop' : 'server', data, 'z:private'), data);
      t.puts++;
    }
    console.log(`stored ${ids.size} objects`);

    const known = [...ids.keys()][0]!;
    await hostile(mesh, 'desktop', known, t);
    await hostile(mesh, 'laptop', known, t);
    sample();
    console.log('hostile requests sent');

    // kill -9 of one device: every object tolerates one loss.
    expected.add('desktop');
    await mesh.stopDaemon('desktop', 'SIGKILL');
    await readAll(mesh, 'laptop', ids, t);
    await mesh.startDaemon('desktop');
    expected.delete('desktop');
    watch('desktop');
    console.log('kill -9 survived');

    // One frozen holder: online, accepting connections, never answering.
    const frozen = mesh.device('server').process!;
    frozen.kill('SIGSTOP');
    try {
      await readAll(mesh, 'laptop', ids, t, t.frozenReads);
      for (let i = 0; i < 4; i++) {
        try {
          const data = new Uint8Array(randomBytes(200_000));
          ids.set(await mesh.put('laptop', data, 'z:private'), data);
          t.puts++;
        } catch {
          t.putFailures++;
        }
      }
    } finally {
      frozen.kill('SIGCONT');
    }
    sample();
    console.log('frozen holder survived');

    // A device out of room (a quota far below what it holds): stores go to the others.
    expected.add('phone');
    await mesh.stopDaemon('phone');
    writeFileSync(join(mesh.device('phone').dataDir, 'config.json'), JSON.stringify({ quotaBytes: 1024 }));
    await mesh.startDaemon('phone');
    expected.delete('phone');
    watch('phone');
    for (let i = 0; i < 4; i++) {
      try {
        const data = new Uint8Array(randomBytes(150_000));
        ids.set(await mesh.put('laptop', data, 'z:private'), data);
        t.puts++;
      } catch {
        t.putFailures++;
      }
    }
    console.log('full device survived');

    // A corrupted store: bytes flipped in data.mdb, and the file cut short, while the daemon is down.
    expected.add('desktop');
    await mesh.stopDaemon('desktop');
    const dataFile = join(mesh.device('desktop').dataDir, 'store', 'data.mdb');
    flipBytes(dataFile, 64);
    truncateSync(dataFile, Math.floor(statSync(dataFile).size / 2));
    await mesh.startDaemon('desktop');
    expected.delete('desktop');
    watch('desktop');
    const st = await mesh.device('desktop').control.json<{ store?: { state: string; startedFresh: { message: string } | null } }>('/v1/status');
    t.corruptStore = st.store?.startedFresh ? `moved aside, started fresh (${st.store.state})` : `kept (${st.store?.state ?? 'unknown'})`;
    await readAll(mesh, 'desktop', ids, t);
    await readAll(mesh, 'laptop', ids, t);
    sample();
    console.log('corrupted store survived');
  } finally {
    for (const d of mesh.devices) expected.add(d.name);
    const alive = mesh.devices.filter((d) => d.process && d.process.exitCode === null && d.process.signalCode === null).length;
    sample();
    await mesh.stop();
    console.log('');
    console.log('| metric | value | target |');
    console.log('|---|---|---|');
    console.log(`| operations (puts, gets, hostile requests) | ${t.puts}, ${t.gets}, ${t.hostile} | |`);
    console.log(`| daemon deaths | ${t.deaths.length}${t.deaths.length ? ` (${t.deaths.join(', ')})` : ''} | 0 |`);
    console.log(`| daemons alive at the end | ${alive} of ${mesh.devices.length} | all |`);
    console.log(`| reads of stored objects that failed after losses within policy | ${t.unreadable} | 0 |`);
    console.log(`| puts that failed (frozen or full device) | ${t.putFailures} | 0 |`);
    console.log(`| read p50 / p99 with one frozen holder | ${pct(t.frozenReads, 50).toFixed(0)} / ${pct(t.frozenReads, 99).toFixed(0)} ms | p99 < 2000 ms |`);
    console.log(`| corrupted store on desktop | ${t.corruptStore} | |`);
    console.log(`| max RSS per daemon (MiB) | ${[...rss].map(([n, v]) => `${n} ${v.toFixed(0)}`).join(', ')} | |`);
  }
}

await main();
