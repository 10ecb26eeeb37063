// A zone member (and a stranger) attacking one real fcpd of the dev tailnet: abandoned requests,
// repeated want-lists, fetches never read, partial frames and refused connections. The daemon
// must stay up, keep serving, and keep its memory and file descriptors bounded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { DevMesh, fiveDevicesOn } from '../../src/devnet/index.js';
import { encodeFrame, FrameDecoder, type Message } from '../../src/wire/index.js';
import { objectIdFromHex, type Manifest, type SymbolEntry } from '../../src/crypto/index.js';
import { RpcConnection } from '../../src/mesh/rpc.js';

const PORT = 9473;
const MiB = 1024 * 1024;

function connect(from: string, to: string, opts: { allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: to, port: PORT, localAddress: from, allowHalfOpen: opts.allowHalfOpen ?? false });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Frames received until the peer closes, or until `ms` pass (then the socket is destroyed). */
function framesUntilClose(socket: net.Socket, ms: number): Promise<{ frames: Message[]; closed: boolean }> {
  const decoder = new FrameDecoder({ maxFrameBytes: 8 * MiB });
  const frames: Message[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ frames, closed: false });
    }, ms);
    socket.on('data', (chunk) => {
      try {
        for (const f of decoder.push(chunk)) if (f.t !== 'symbols') frames.push(f);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ frames, closed: true });
    });
  });
}

function status(pid: number): { rssMb: number; hwmMb: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)![1]);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Waits until the daemon's RSS stops moving (no event says its buffers are full); bounded. */
async function rssSettled(pid: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  let last = status(pid).rssMb;
  let steady = 0;
  while (performance.now() < deadline && steady < 5) {
    await new Promise((r) => setTimeout(r, 200));
    const now = status(pid).rssMb;
    steady = Math.abs(now - last) < 2 ? steady + 1 : 0;
    last = now;
  }
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('hostile requests against a real fcpd', () => {
  let mesh: DevMesh;
  let laptop: string;
  let attacker: string;
  let small: string;
  let large: string;
  const smallData = new Uint8Array(randomBytes(300_000));
  const pid = () => {
    const p = mesh.device('laptop').process;
    assert.ok(p && p.exitCode === null && p.pid, `the laptop's fcpd is running:\n${mesh.logTail('laptop')}`);
    return p.pid;
  };
  const report = (what: string, fields: Record<string, number>) =>
    console.log(`# ${what}: ${Object.entries(fields).map(([k, v]) => `${k}=${Math.round(v)}`).join(' ')}`);

  before(async () => {
    mesh = await DevMesh.start({ description: fiveDevicesOn(31) });
    laptop = mesh.device('laptop').address;
    attacker = mesh.device('server').address;
    small = await mesh.put('laptop', smallData, 'z:private', { tolerate: 2 });
    large = await mesh.put('laptop', new Uint8Array(randomBytes(4 * MiB)), 'z:private', { tolerate: 2 });
    // From here on the test process speaks for the server device (a tagged member): its daemon is stopped.
    await mesh.stopDaemon('server');
  });
  after(async () => {
    await mesh?.stop();
  });

  async function stillServes(): Promise<void> {
    pid();
    assert.deepEqual(Buffer.from(await mesh.get('desktop', small)), Buffer.from(smallData));
  }

  test('a want-list repeating one position is served once; a 1,000,000-long one is refused with a typed error', async () => {
    const conn = new RpcConnection(await connect(attacker, laptop));
    const got: SymbolEntry[] = [];
    let held: [number, number];
    try {
      held = ((await conn.request({ t: 'have', objectId: objectIdFromHex(small) })) as unknown as { keys: Array<[number, number]> }).keys[0]!;
      const want = Array.from({ length: 60_000 }, () => held);
      const end = await conn.stream({ t: 'fetch', objectId: objectIdFromHex(small), zone: 'z:private', want }, 'fetch_end', (m) => got.push(...(m as unknown as { symbols: SymbolEntry[] }).symbols), 60_000).done;
      assert.equal((end as unknown as { count: number }).count, got.length);
      assert.equal(got.length, 1, `60,000 repeats of one position gave ${got.length} symbols`);
    } finally {
      conn.close();
    }
    const rss0 = status(pid()).rssMb;
    const socket = await connect(attacker, laptop);
    const want = Array.from({ length: 1_000_000 }, () => held);
    socket.write(encodeFrame({ v: 1, t: 'fetch', id: 1, objectId: objectIdFromHex(small), zone: 'z:private', want } as unknown as Message));
    const r = await framesUntilClose(socket, 30_000);
    const s = status(pid());
    report('want-list 1,000,000 repeats', { rssBeforeMb: rss0, hwmAfterMb: s.hwmMb });
    assert.ok(r.closed, 'the connection was closed');
    assert.match(String((r.frames.at(-1) as unknown as { code?: string })?.code), /^PROTO_/);
    assert.ok(s.hwmMb - rss0 < 150, `RSS peaked ${Math.round(s.hwmMb - rss0)} MB above its level before`);
    await stillServes();
  });

  test('fetches that are never read keep the daemon within its reply budgets', async () => {
    const rss0 = status(pid()).rssMb;
    const sockets: net.Socket[] = [];
    for (let c = 0; c < 6; c++) {
      const s = await connect(attacker, laptop);
      s.pause();
      s.on('error', () => undefined);
      for (let id = 1; id <= 40; id++) s.write(encodeFrame({ v: 1, t: 'fetch', id, objectId: objectIdFromHex(large), zone: 'z:private' } as unknown as Message));
      sockets.push(s);
    }
    await rssSettled(pid(), 15_000);
    const s = status(pid());
    report('6 connections x 40 never-read fetches of a 4 MiB object', { rssBeforeMb: rss0, rssMb: s.rssMb, hwmMb: s.hwmMb });
    for (const so of sockets) so.destroy();
    assert.ok(s.rssMb - rss0 < 150, `RSS grew ${Math.round(s.rssMb - rss0)} MB`);
    await stillServes();
  });

  test('200 connections each holding a partial frame of 4 MiB - 1 stay within the inbound budget', async () => {
    const rss0 = status(pid()).rssMb;
    const header = Buffer.from([0, 0x3f, 0xff, 0xff]);
    const body = Buffer.alloc(4 * MiB - 2, 1); // one byte short of the announced body; shared by all
    const sockets: net.Socket[] = [];
    for (let c = 0; c < 200; c++) {
      const s = await connect(attacker, laptop);
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.write(header);
      s.write(body);
      sockets.push(s);
    }
    await rssSettled(pid(), 15_000);
    const s = status(pid());
    report('200 partial frames of 4 MiB - 1', { rssBeforeMb: rss0, rssMb: s.rssMb, hwmMb: s.hwmMb });
    for (const so of sockets) so.destroy();
    assert.ok(s.rssMb - rss0 < 150, `RSS grew ${Math.round(s.rssMb - rss0)} MB`);
    await stillServes();
  });

  test('1,000 refused connections that never read nor close cost no lasting file descriptor', async () => {
    const fd0 = fds(pid());
    const sockets: net.Socket[] = [];
    try {
      for (let batch = 0; batch < 10; batch++) {
        const made = await Promise.all(Array.from({ length: 100 }, () => connect('127.0.0.1', laptop, { allowHalfOpen: true })));
        for (const s of made) {
          s.pause();
          s.on('error', () => undefined);
        }
        sockets.push(...made);
      }
      const fd1 = fds(pid());
      await until('refused sockets to be destroyed', () => fds(pid()) <= fd0 + 10, 20_000).catch(() => undefined);
      const fd2 = fds(pid());
      report('1,000 refused connections (clients still open)', { fdBefore: fd0, fdJustAfter: fd1, fdSettled: fd2 });
      assert.ok(fd2 <= fd0 + 10, `the daemon holds ${fd2 - fd0} more fds than before`);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await stillServes();
  });

  test('store, manifest_put and fetch abandoned before their reply do not kill the daemon', async () => {
    const conn = new RpcConnection(await connect(attacker, laptop));
    const symbols: SymbolEntry[] = [];
    let manifest: Manifest;
    try {
      await conn.stream({ t: 'fetch', objectId: objectIdFromHex(small), zone: 'z:private' }, 'fetch_end', (m) => symbols.push(...(m as unknown as { symbols: SymbolEntry[] }).symbols)).done;
      manifest = ((await conn.request({ t: 'manifest_get', objectId: objectIdFromHex(small) })) as unknown as { manifest: Manifest }).manifest;
    } finally {
      conn.close();
    }
    const requests: Array<Record<string, unknown>> = [
      { t: 'store', objectId: objectIdFromHex(small), zone: 'z:private', symbols: symbols.slice(0, 50) },
      { t: 'manifest_put', manifest },
      { t: 'fetch', objectId: objectIdFromHex(large), zone: 'z:private' },
    ];
    for (let round = 0; round < 15; round++) {
      for (const req of requests) {
        const s = await connect(attacker, laptop);
        s.on('error', () => undefined);
        const closed = new Promise((r) => s.once('close', r));
        s.write(encodeFrame({ ...req, v: 1, id: 1 } as unknown as Message));
        s.destroy();
        await closed;
      }
    }
    // Every abandoned request has been answered into the void by the time a new one is served.
    await stillServes();
    await stillServes();
  });
});
