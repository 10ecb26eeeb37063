// Hostile and broken peers against a real fcpd: strangers, untagged nodes, garbage, oversized
// frames, and a zone member replaying or relabelling sealed symbols. None of it may harm others.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { DevMesh, fiveDevicesOn } from '../../src/devnet/index.js';
import { encodeFrame, FrameDecoder, type Message } from '../../src/wire/index.js';
import { objectIdFromHex, type SymbolEntry } from '../../src/crypto/index.js';
import { RpcConnection } from '../../src/mesh/rpc.js';
import { encode as cborEncode } from 'cborg';

const PORT = 9473;

/** Opens a TCP connection from `from` to `to`:9473 and collects every frame until the peer closes. */
function rawSession(from: string, to: string, payload: Uint8Array | null): Promise<{ frames: Message[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: to, port: PORT, localAddress: from });
    const decoder = new FrameDecoder();
    const frames: Message[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ frames, closed: false });
    }, 5_000);
    socket.on('connect', () => {
      if (payload) socket.write(payload);
    });
    socket.on('data', (chunk) => {
      try {
        frames.push(...decoder.push(chunk));
      } catch (err) {
        reject(err);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ frames, closed: true });
    });
  });
}

async function connectAs(from: string, to: string): Promise<RpcConnection> {
  const socket = net.connect({ host: to, port: PORT, localAddress: from });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new RpcConnection(socket);
}

describe('hostile peers', () => {
  let mesh: DevMesh;
  let laptop: string;
  let server: string;
  let objectA: string;
  let objectB: string;
  const dataA = new Uint8Array(randomBytes(300_000));
  const dataB = new Uint8Array(randomBytes(300_000));

  before(async () => {
    const five = fiveDevicesOn(2);
    const description = { ...five, nodes: [...five.nodes, { name: 'guest', os: 'linux', path: 'direct' as const, address: '127.77.2.6' }] };
    mesh = await DevMesh.start({ description, notStarted: ['guest'] });
    laptop = mesh.device('laptop').address;
    server = mesh.device('server').address;
    objectA = await mesh.put('laptop', dataA, 'z:private', { tolerate: 2 });
    objectB = await mesh.put('laptop', dataB, 'z:private', { tolerate: 2 });
    // From here on the test process speaks for the server device: its daemon is stopped.
    await mesh.stopDaemon('server');
  });
  after(async () => {
    await mesh?.stop();
  });

  async function stillServes(): Promise<void> {
    assert.deepEqual(Buffer.from(await mesh.get('desktop', objectA)), Buffer.from(dataA));
  }

  test('an address outside the tailnet is refused before any frame is read', async () => {
    const probe = encodeFrame({ v: 1, t: 'list', id: 1 } as Message);
    const r = await rawSession('127.0.0.1', laptop, probe);
    assert.ok(r.closed);
    assert.equal(r.frames.length, 1, 'only the refusal comes back; the list request is never answered');
    assert.equal(r.frames[0]!.t, 'error');
    assert.equal((r.frames[0] as unknown as { code: string }).code, 'MESH_REFUSED');
    await stillServes();
  });

  test('a tailnet node without an fcp zone tag is refused', async () => {
    const r = await rawSession(mesh.device('guest').address, laptop, null);
    assert.ok(r.closed);
    assert.match((r.frames[0] as unknown as { message: string }).message, /no fcp zone tag/);
  });

  test('garbage bytes close only that connection with a typed protocol error', async () => {
    const garbage = new Uint8Array([0, 0, 0, 5, 0xff, 0xfe, 0xfd, 0xfc, 0xfb]);
    const r = await rawSession(server, laptop, garbage);
    assert.ok(r.closed);
    const err = r.frames.at(-1) as unknown as { t: string; code: string };
    assert.equal(err.t, 'error');
    assert.match(err.code, /^PROTO_/);
    await stillServes();
  });

  test('an oversized frame is refused from its length prefix alone', async () => {
    const prefix = new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]);
    const r = await rawSession(server, laptop, prefix);
    assert.ok(r.closed);
    assert.equal((r.frames.at(-1) as unknown as { code: string }).code, 'PROTO_FRAME_TOO_LARGE');
    await stillServes();
  });

  test('a frame of an unknown type or with a bad field gets a typed error', async () => {
    const r = await rawSession(server, laptop, encodeFrameUnchecked({ v: 1, t: 'store', id: 3, objectId: new Uint8Array(5), zone: 'z:private', symbols: [] }));
    assert.ok(r.closed);
    assert.equal((r.frames.at(-1) as unknown as { code: string }).code, 'PROTO_BAD_MESSAGE');
  });

  test('a symbol whose label disagrees with its envelope is refused', async () => {
    const conn = await connectAs(server, laptop);
    try {
      const got: SymbolEntry[] = [];
      const s = conn.stream({ t: 'fetch', objectId: objectIdFromHex(objectA), zone: 'z:private' }, 'fetch_end', (m) => got.push(...(m as unknown as { symbols: SymbolEntry[] }).symbols));
      await s.done;
      assert.ok(got.length > 2);
      const relabelled = [{ sbn: got[0]!.sbn, esi: got[1]!.esi, env: got[0]!.env }];
      await assert.rejects(conn.request({ t: 'store', objectId: objectIdFromHex(objectA), zone: 'z:private', symbols: relabelled }), (err: Error & { code?: string }) => err.code === 'MESH_BAD_SYMBOL');
    } finally {
      conn.close();
    }
  });

  test('symbols replayed into another object fail authentication, are counted, and the object still rebuilds', async () => {
    const conn = await connectAs(server, laptop);
    const other = await connectAs(server, mesh.device('desktop').address);
    try {
      // A's symbols as another device holds them: other positions than the laptop's own.
      const got: SymbolEntry[] = [];
      const s = other.stream({ t: 'fetch', objectId: objectIdFromHex(objectA), zone: 'z:private' }, 'fetch_end', (m) => got.push(...(m as unknown as { symbols: SymbolEntry[] }).symbols));
      await s.done;
      const own: SymbolEntry[] = [];
      await conn.stream({ t: 'fetch', objectId: objectIdFromHex(objectA), zone: 'z:private' }, 'fetch_end', (m) => own.push(...(m as unknown as { symbols: SymbolEntry[] }).symbols)).done;
      // A's sealed symbols offered as B's: where the laptop holds B's own, nothing is replaced...
      await assert.rejects(conn.request({ t: 'store', objectId: objectIdFromHex(objectB), zone: 'z:private', symbols: own }), (err: Error & { code?: string }) => err.code === 'STORE_CONFLICT');
      // ...and at positions it lacks they are taken (the holder cannot tell), then fail authentication on every read.
      const held = ((await conn.request({ t: 'have', objectId: objectIdFromHex(objectB) })) as unknown as { keys: Array<[number, number]> }).keys;
      const free = got.filter((g) => !held.some(([b, e]) => b === g.sbn && e === g.esi));
      assert.ok(free.length > 0);
      await conn.request({ t: 'store', objectId: objectIdFromHex(objectB), zone: 'z:private', symbols: free });
    } finally {
      conn.close();
      other.close();
    }
    const before = (await mesh.device('desktop').control.json<{ counters: { symbolAuthFailures: number } }>('/v1/status')).counters.symbolAuthFailures;
    assert.deepEqual(Buffer.from(await mesh.get('desktop', objectB)), Buffer.from(dataB));
    // Read from the laptop itself too: some of its symbols of B are now forgeries.
    assert.deepEqual(Buffer.from(await mesh.get('laptop', objectB)), Buffer.from(dataB));
    const afterDesktop = (await mesh.device('desktop').control.json<{ counters: { symbolAuthFailures: number } }>('/v1/status')).counters.symbolAuthFailures;
    const afterLaptop = (await mesh.device('laptop').control.json<{ counters: { symbolAuthFailures: number } }>('/v1/status')).counters.symbolAuthFailures;
    assert.ok(afterDesktop + afterLaptop > before, 'forged symbols were detected and counted');
  });
});

/** Frames a message without schema checks, to send deliberately invalid messages. */
function encodeFrameUnchecked(msg: Record<string, unknown>): Uint8Array {
  const body = cborEncode(msg);
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}
